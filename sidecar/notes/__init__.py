"""Live shared notes: a Yjs document per meeting, synced over the y-websocket protocol.

protocol.py parses and builds frames; awareness.py tracks who is present; store.py makes every
update durable (group commit) before fanout.py delivers it; room.py ties one document to its
connections; endpoint.py is the websocket route.
"""
