"""bench/cluster_bench.py at its smallest, both designs: ours (commit, then Redis pub/sub) and the
y-redis-style prototype (bench/streams_relay/: Redis streams first, a worker moving them to
PostgreSQL). Two meetings split over two instances, real yjs clients (bench/loadgen.mjs), real
PostgreSQL and redis-server; the worker's debounce and message lifetime are cut to under a second
so it compacts and trims within the run. Skipped, saying why, without PostgreSQL's programs,
redis-server, haproxy (scripts/cluster_parts.py's check), node or bench/node_modules.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

sys.path.insert(0, str(ROOT / "scripts"))

from cluster_parts import why_not  # noqa: E402

WHY_NOT = why_not() or ""
if not WHY_NOT and shutil.which("node") is None:
    WHY_NOT = "node is not installed"
if not WHY_NOT and not (BENCH / "node_modules" / "y-websocket").is_dir():
    WHY_NOT = "bench/node_modules missing: run `npm ci` in bench/ (see scripts/test)"


@pytest.mark.skipif(bool(WHY_NOT), reason=WHY_NOT)
def test_both_designs_relay_every_edit_across_instances_and_the_worker_stores_the_streams(
    tmp_path: Path,
) -> None:
    figures = tmp_path / "cluster.json"
    command = [sys.executable, str(BENCH / "cluster_bench.py"), "--levels", "2", "--modes", "2"]
    command += ["--seconds", "2", "--warmup", "1", "--json", str(figures)]
    env = dict(os.environ, STREAMS_TASK_DEBOUNCE_MS="300", STREAMS_MIN_MESSAGE_LIFETIME_MS="500")
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "streams / pubsub" in done.stdout, output

    runs = {run["design"]: run for run in json.loads(figures.read_text())}
    assert set(runs) == {"pubsub", "streams"}, output
    for design, run in runs.items():
        assert run["error"] == "" and run["server_errors"] == 0, (design, run)
        # Every keystroke of each person reached the other, on the other instance.
        assert run["received"] > 0 and run["lost"] == 0, (design, run)
        assert math.isfinite(run["p50_ms"]), (design, run)
        assert run["us_per_edit"]["a"] > 0 and run["us_per_edit"]["b"] > 0, (design, run)
        assert run["redis_bytes"] >= 0, (design, run)
        # Ours commits before relaying; the worker has moved both streams into PostgreSQL.
        assert run["stored_meetings"] == 2, (design, run)
    assert runs["pubsub"]["stream_entries"] == 0
    streams = runs["streams"]
    assert "worker" in streams["us_per_edit"], streams
    assert streams["stream_entries"] > 0 and streams["bytes_per_entry"] > 0, streams
