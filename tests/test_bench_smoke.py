"""The notes benchmark's quick mode at its smallest: all three servers, nothing lost.

Runs `bench/notes_bench.py --quick` cut down to a lone pair and one level of 2 meetings, against
ours, the reference @y/websocket-server and Hocuspocus (its SQLite extension, driven by its own
provider), so every server's start, load generation and report path runs. Needs Node and
`npm ci` in bench/ (real yjs clients; Hocuspocus's sqlite3 compiles from source, see
scripts/test); skipped otherwise. The full benchmark is `python bench/notes_bench.py` (see
bench/README.md). And, without any server, how the report judges the issue's targets against the
better of the two peers.
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

sys.path.insert(0, str(BENCH))

from bench_report import IdleResult, RunResult, targets_section  # noqa: E402

if shutil.which("node") is None:
    WHY_NOT = "node is not installed"
elif not (MODULES / "y-websocket").is_dir() or not (MODULES / "@hocuspocus" / "server").is_dir():
    WHY_NOT = "bench/node_modules missing: run `npm ci` in bench/ (see scripts/test)"
else:
    WHY_NOT = ""


def run(server: str, meetings: int, p99: float, cpu: float, idle_kib: float = 40.0) -> RunResult:
    return RunResult(
        server=server,
        meetings=meetings,
        loadgens=1,
        clients=2 * meetings,
        connected=2 * meetings,
        p99_ms=p99,
        cpu_us_per_edit=cpu,
        kib_per_meeting_after=idle_kib,
        kib_per_meeting_end=idle_kib,
    )


def test_targets_are_judged_against_the_better_peer_for_each_figure() -> None:
    # The reference holds more meetings; Hocuspocus uses less CPU per edit at 200.
    by_server = {
        "ours": [run("ours", 100, 10, 50), run("ours", 200, 20, 40), run("ours", 300, 30, 38)],
        "reference": [run("reference", 100, 5, 60), run("reference", 200, 40, 70)],
        "hocuspocus": [run("hocuspocus", 100, 9, 80), run("hocuspocus", 200, 80, 45)],
    }
    by_server["reference"].append(run("reference", 300, 90, 70))
    # Idle open meetings: 500 fresh ones, 41,000 bytes each for ours.
    idle = {
        kind: IdleResult(kind, 500, 50, 1000, 1000, 1, 100_000, 100_000 + 500 * kib, 1.0)
        for kind, kib in (("ours", 40.0), ("reference", 80.0), ("hocuspocus", 100.0))
    }
    text = "\n".join(targets_section(by_server, [100, 200, 300], idle))
    # ours holds every level there was (a lower bound), the reference 200, Hocuspocus 100.
    assert "ours 300+, reference 200, hocuspocus 100" in text
    assert "ours / better peer (reference) 1.50" in text
    assert "target >= 1.5x the better peer: met" in text
    # At 200 Hocuspocus fails the level, so the reference (holding it) is the one to beat.
    assert (
        "100: 0.83 (reference), 200: 0.57 (reference), 300: 0.54 (reference, which fails it)"
        in (text)
    )
    assert "at 200 meetings (40.0 vs 70.0 us, reference): 0.57; target <= 0.8x: met there" in text
    assert "and at 2 of 3 levels" in text
    assert "memory per idle open meeting (500 fresh meetings" in text
    assert "ours: 40.0 KiB (41.0 kB); target <= 50 kB: met; reference 80.0 KiB" in text
    assert "memory per meeting while typing, ours at 300 meetings: 40.0 KiB" in text
    without = "\n".join(targets_section(by_server, [100, 200, 300]))
    assert "memory per idle open meeting: not measured" in without


@pytest.mark.skipif(bool(WHY_NOT), reason=WHY_NOT)
def test_quick_benchmark_at_its_smallest_prints_every_figure_and_loses_nothing(
    tmp_path: Path,
) -> None:
    figures = tmp_path / "bench.json"
    command = [sys.executable, str(BENCH / "notes_bench.py"), "--quick", "--levels", "2"]
    command += ["--seconds", "2", "--warmup", "0.5", "--pair-seconds", "2", "--idle-settle", "1"]
    command += ["--idle-meetings", "2", "--idle-warmup", "1"]
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
    assert "memory per idle open meeting (2 fresh meetings" in done.stdout
    assert "target <= 50 kB" in done.stdout and "Idle open meetings" in done.stdout

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
        assert math.isfinite(run["kib_per_meeting_after"]), (server, run)
        # Memory per idle open meeting: fresh meetings opened after warm-up ones, both synced.
        idle = record["idle_open"][server]
        assert idle["error"] == "" and idle["server_errors"] == 0, (server, idle)
        assert idle["synced"] == idle["clients"] == 4 and idle["disconnects"] == 0, (server, idle)
        assert idle["rss_base_kib"] > 0 and math.isfinite(idle["kib_per_meeting"]), (server, idle)
        assert run["loadgen_cpu_s"] > 0, (server, run)
