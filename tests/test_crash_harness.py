"""The crash harness, short: kill -9 the service under two real Yjs clients; nothing seen is lost.

Runs bench/crash_harness.py as a script (3 trials, 2 kills each, a few seconds per trial): the
service is a real process on a real SQLite file, the clients are the npm yjs + y-websocket
providers built by the panel's web/src/notes/connection.js. Then the same against Hocuspocus
(its server with the SQLite extension, its own provider), whose store delay loses edits: the
harness counts them, and its end checks still pass. The long run is
`python bench/crash_harness.py --trials 20` (bench/README.md). Needs `node` and web/node_modules
(`npm ci` in web/), and bench/node_modules for Hocuspocus; skipped otherwise. With
MENTOR_SIDECAR_TEST_DATABASE=postgresql ours runs on PostgreSQL (`--database postgresql`: the
harness starts a cluster of its own and gives each trial a database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from crash_harness import missing_requirements  # noqa: E402

DATABASE = os.environ.get("MENTOR_SIDECAR_TEST_DATABASE", "") or "sqlite"
WHY_NOT = missing_requirements(database=DATABASE)
WHY_NOT_HOCUSPOCUS = missing_requirements(("ours", "hocuspocus"), DATABASE)

# A service that relays each note update before storing it (the commit waits 300 ms while the
# room is told at once that it is stored). The harness must count its lost edits.
RELAYS_BEFORE_STORING = """
import asyncio, sys
from sidecar.cli import main
from sidecar.db.notes.postgres import PostgresNotesStore
from sidecar.db.notes.sqlite import SqliteNotesStore

def relaying_first(store_class):
    real_submit = store_class.submit

    def submit(self, meeting_id, update, author):
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, real_submit, self, meeting_id, update, author)
        stored = loop.create_future()
        stored.set_result(None)
        return stored

    store_class.submit = submit

relaying_first(SqliteNotesStore)
relaying_first(PostgresNotesStore)
sys.exit(main())
"""
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


def test_kill_minus_nine_under_real_yjs_clients_loses_nothing_seen(tmp_path: Path) -> None:
    figures = tmp_path / "crash.json"
    command = [sys.executable, str(ROOT / "bench" / "crash_harness.py"), "--trials", "3"]
    command += ["--kills", "2", "--max-gap", "1.2", "--max-down", "0.5", "--servers", "ours"]
    command += ["--json", str(figures), "--database", DATABASE]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output

    record = json.loads(figures.read_text())["servers"]["ours"]
    totals = record["totals"]
    assert totals["trials"] == 3 and totals["failed_trials"] == 0, output
    assert totals["kills"] == 6
    # The figure that matters: edits someone had seen broadcast and that are gone.
    assert totals["lost_after_restart"] == 0, output
    # Typing was going on at the kills, and some of it was typed while the service was down.
    assert totals["edits_seen_broadcast_before_a_kill"] >= 3 * 20, output
    assert totals["typed_offline"] > 0, output
    # Every edit typed, offline or not, is on the server once the clients are back.
    assert totals["offline_merged_after_reconnect"] == totals["typed_offline"]
    assert totals["missing_at_end"] == 0 and totals["duplicated_at_end"] == 0, output
    for trial in record["trials"]:
        assert trial["ok"], trial
        assert trial["clients_match_server"] and trial["clean_exit"], trial
        assert trial["log_errors"] == [], trial["log_errors"]


def test_the_harness_catches_a_service_that_relays_before_storing(tmp_path: Path) -> None:
    (tmp_path / "leaky_sidecar").mkdir()
    (tmp_path / "leaky_sidecar" / "__main__.py").write_text(RELAYS_BEFORE_STORING)
    figures = tmp_path / "crash.json"
    command = [sys.executable, str(ROOT / "bench" / "crash_harness.py"), "--trials", "1"]
    command += ["--kills", "2", "--min-gap", "0.8", "--max-gap", "1.2", "--max-down", "0.3"]
    command += ["--module", "leaky_sidecar", "--servers", "ours", "--json", str(figures)]
    # The failing run's kept data folders stay in this test's own folder.
    command += ["--database", DATABASE, "--work-dir", str(tmp_path)]
    paths = [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    totals = json.loads(figures.read_text())["servers"]["ours"]["totals"]
    assert totals["lost_after_restart"] > 0, output
    assert "LOST:" in done.stdout
    # Why lost is read from the data files: the clients put every lost edit back when they
    # reconnect, so the server's final document shows nothing missing.
    assert totals["missing_at_end"] == 0, output


@pytest.mark.skipif(WHY_NOT_HOCUSPOCUS is not None, reason=WHY_NOT_HOCUSPOCUS or "")
def test_hocuspocus_under_the_same_kills_loses_what_it_had_not_stored(tmp_path: Path) -> None:
    """Hocuspocus stores a document 2 s after its last change (10 s at most): with both people
    typing without pause and the kills within 1.2 s of each (re)start, nothing typed has been
    stored at a kill, so every edit seen is lost; the clients put it all back afterwards."""
    figures = tmp_path / "crash.json"
    command = [sys.executable, str(ROOT / "bench" / "crash_harness.py"), "--trials", "1"]
    command += ["--kills", "2", "--min-gap", "0.5", "--max-gap", "1.2", "--max-down", "0.3"]
    command += ["--servers", "ours,hocuspocus", "--json", str(figures), "--database", DATABASE]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output  # a peer's lost edits are counted, not a failure
    servers = json.loads(figures.read_text())["servers"]
    ours, theirs = servers["ours"]["totals"], servers["hocuspocus"]["totals"]
    assert ours["lost_after_restart"] == 0, output
    assert theirs["kills"] == 2
    assert theirs["edits_seen_broadcast_before_a_kill"] > 0, output
    assert theirs["lost_after_restart"] > 0 and theirs["lost_per_kill"] > 0, output
    (trial,) = servers["hocuspocus"]["trials"]
    # The first kill: everything seen since the start, none of it stored yet.
    first = trial["kills"][0]
    assert first["stored"] == 0 and first["lost_new"] == first["seen"] > 0, trial
    # Its end checks hold: every edit typed is on the server once the providers are back.
    assert trial["ok"] and trial["missing_at_end"] == [], trial
    assert trial["clients_match_server"] and trial["clean_exit"], trial
    assert "edits lost per kill" in done.stdout and "Hocuspocus" in done.stdout
