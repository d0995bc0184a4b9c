"""Live shared notes: a Yjs document per meeting, synced over the y-websocket protocol.

protocol.py parses and builds frames; awareness.py tracks who is present; store.py says what
rooms need from storage (the stores, SQLite's and PostgreSQL's, are in sidecar/db/notes/) and
paces its group commits, so every update is durable before fanout.py delivers it; room.py ties
one document to its connections; endpoint.py is the websocket route.
"""
