"""y-redis's design, as a prototype on our rooms: Redis streams as the first store of every update.

Only for bench/cluster_bench.py's `--designs streams`, to measure it beside ours (pub/sub after
a PostgreSQL commit, sidecar/relay/). y-redis itself (github.com/yjs/y-redis) cannot run here:
its server needs uWebSockets.js, a binary fetched from GitHub. What is taken from its source
(src/api.js, src/subscriber.js, src/ws.js):

- **A stream per document** (`y:{meeting_id}`): every y-websocket message a client sends that
  changes something (sync updates, a step 2 re-typed as an update, awareness) is appended with
  `XADD ... * m MESSAGE`, through y-redis's `addMessage` Lua script, which also queues a
  compaction task for the worker when the stream is new. "Stored" means "in the stream": the
  room relays an update once Redis acknowledged its `XADD` (`store.StreamsNotesStore`).
  Awareness goes over the same stream, unstored elsewhere (as in y-redis).
- **Every server reads the streams of its open documents** with one `XREAD BLOCK 1000 COUNT
  1000` over all of them on one connection (y-redis's subscriber), and hands what it reads to the
  rooms (`relay.StreamsRelay`). y-redis sends every message to every local client once read back
  from the stream, its writer's included; here the room relays its own instance's updates at the
  XADD's acknowledgement, as it relays at the commit in ours, and the reader skips its own
  instance's entries (field `i`, 8 bytes: one more field than y-redis's entries).
- **A worker** (`worker.Worker`, its own process, as y-redis's bin/worker.js) claims tasks from
  the worker stream `y:worker` (consumer group `y:worker`, `XAUTOCLAIM` with y-redis's 10 s
  debounce, 5 at a time), merges the stored notes (PostgreSQL's `note_updates`) with the
  stream's updates into one snapshot row, deletes the rows it merged, and trims the stream to the
  last minute (`XTRIM MINID`, y-redis's 60 s minimum message lifetime), then queues the task
  again. So the stream holds every update of the last 60-70 s of each open meeting.
- **A room loads** the stream's tail first, then PostgreSQL (y-redis's `getDoc` order: what the
  worker trims in between was persisted before it was trimmed).

Left out (a prototype for the benchmark, not the service): a Redis loss (y-redis relies on
Redis's persistence; nothing here reconnects or resyncs), y-redis's second, non-garbage-collected
copy of each document, and merging the messages read before sending them on.
"""

from __future__ import annotations

import os

PREFIX = "y"
WORKER_STREAM = f"{PREFIX}:worker".encode()
WORKER_GROUP = f"{PREFIX}:worker".encode()
# y-redis's defaults (src/api.js): a stream is compacted this long after its last compaction...
TASK_DEBOUNCE_MS = int(os.environ.get("STREAMS_TASK_DEBOUNCE_MS", "10000"))
# ...and keeps the updates of this long before its last entry.
MIN_MESSAGE_LIFETIME_MS = int(os.environ.get("STREAMS_MIN_MESSAGE_LIFETIME_MS", "60000"))
# Tasks one worker claims at a time (y-redis's tryClaimCount).
CLAIM_COUNT = 5


def stream_key(meeting_id: str) -> bytes:
    return f"{PREFIX}:{meeting_id}".encode()


def meeting_of(key: bytes) -> str:
    return key.decode()[len(PREFIX) + 1 :]
