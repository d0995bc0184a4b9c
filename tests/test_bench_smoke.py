"""The notes benchmark's smallest run, against our server only: it prints figures, loses nothing.

Needs Node and `npm ci` in bench/ (the load generator is real yjs + y-websocket clients); skipped
otherwise. The full benchmark is `python bench/notes_bench.py` (see bench/README.md).
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

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (BENCH / "node_modules" / "y-websocket").is_dir(),
        reason="bench/node_modules missing: run `npm ci` in bench/",
    ),
]


def test_smallest_benchmark_run_prints_figures_and_loses_nothing(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    command = [sys.executable, str(BENCH / "notes_bench.py"), "--servers", "ours"]
    command += ["--levels", "2", "--seconds", "3", "--warmup", "1", "--quiet-wait", "0"]
    command += ["--json", str(figures)]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=28, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Mentor Sidecar" in done.stdout
    assert "meetings held" in done.stdout

    (run,) = json.loads(figures.read_text())["ours"]
    assert run["error"] == ""
    assert run["server_errors"] == 0
    assert run["connected"] == run["clients"] == 4
    assert run["received"] > 0
    assert run["lost"] == 0
    assert math.isfinite(run["p50_ms"])
    assert math.isfinite(run["p99_ms"])
    assert run["cpu_us_per_edit"] > 0
    assert run["loadgen_cpu_s"] > 0
