"""The notes benchmark's quick mode at its smallest: all three servers, nothing lost.

Runs `bench/notes_bench.py --quick` cut down to a lone pair and one level of 2 meetings, against
ours, the reference @y/websocket-server and Hocuspocus (its SQLite extension, driven by its own
provider), so every server's start, load generation and report path runs. Needs Node and
`npm ci` in bench/ (real yjs clients; Hocuspocus's sqlite3 compiles from source, see
scripts/test); skipped otherwise. The full benchmark is `python bench/notes_bench.py` (see
bench/README.md).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
MODULES = BENCH / "node_modules"

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (MODULES / "y-websocket").is_dir() or not (MODULES / "@hocuspocus" / "server").is_dir(),
        reason="bench/node_modules missing: run `npm ci` in bench/ (see scripts/test)",
    ),
]


def test_quick_benchmark_at_its_smallest_prints_every_figure_and_loses_nothing(
    tmp_path: Path,
) -> None:
    figures = tmp_path / "bench.json"
    command = [sys.executable, str(BENCH / "notes_bench.py"), "--quick", "--levels", "2"]
    command += ["--seconds", "2", "--warmup", "0.5", "--pair-seconds", "2", "--idle-settle", "1"]
    command += ["--quiet-wait", "0", "--noisy-retries", "0", "--json", str(figures)]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for label in ("Mentor Sidecar", "@y/websocket-server", "Hocuspocus"):
        assert label in done.stdout, output
    assert "Lone pair" in done.stdout and "target for ours: p50 <= 2 ms" in done.stdout
    assert "meetings held at p99 <= 50 ms" in done.stdout
    assert "ours / better peer" in done.stdout
    assert "target >= 1.5x the better peer" in done.stdout
    assert "target <= 0.8x" in done.stdout
    assert "memory per idle open meeting" in done.stdout and "target <= 50 kB" in done.stdout

    record = json.loads(figures.read_text())
    for server in ("ours", "reference", "hocuspocus"):
        (run,) = record[server]
        pair = record["lone_pair"][server]
        for r in (run, pair):
            assert r["error"] == "", (server, r)
            assert r["server_errors"] == 0, (server, r)
            assert r["received"] > 0 and r["lost"] == 0, (server, r)
            assert math.isfinite(r["p50_ms"]) and math.isfinite(r["p99_ms"]), (server, r)
            assert r["cpu_us_per_edit"] > 0, (server, r)
        assert run["connected"] == run["clients"] == 4, (server, run)
        assert pair["meetings"] == 1 and pair["clients"] == 2, (server, pair)
        # The idle reading was taken with the meetings still open after typing.
        assert run["rss_settled_kib"] > 0 and run["idle_settle_s"] >= 1, (server, run)
        assert math.isfinite(run["kib_per_meeting_idle"]), (server, run)
        assert run["loadgen_cpu_s"] > 0, (server, run)
