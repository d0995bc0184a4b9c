"""Crash safety of the live notes: kill -9 the service while two real Yjs clients type.

    python bench/crash_harness.py --trials 20        # the long run (about 3 minutes)
    python bench/crash_harness.py --trials 3 --kills 2 --seed 7
    python bench/crash_harness.py --database postgresql --servers ours   # ours on PostgreSQL

Each trial starts the service as a subprocess (`python -m sidecar demo --json`, a real SQLite
file in a fresh data folder) and two real npm yjs + y-websocket clients, the mentor and the
mentee, built by the panel's own web/src/notes/connection.js (web/test-clients/crash_typist.mjs),
typing unique tokens without pause (`R0;`, `R1;` ... and `E0;` ...). At random moments it sends
the service SIGKILL and, at once, asks each client for its document: the other person's tokens a
client holds can only have come from the server, so each one was broadcast. Before the restart it
reads what survived from a copy of the data files (the database and its WAL, as the killed process
left them; the original stays untouched for the restarted service to recover itself):

    lost = tokens seen broadcast before the kill - tokens in the stored document

That figure must be 0. The service then restarts on the same folder and port after a random
pause (the clients type on offline meanwhile), and the providers reconnect by themselves. At the
end of a trial typing stops, the clients converge, and a fresh client (tests/notes_client.py,
pycrdt) reads the server's document: every token either person typed must be there exactly once,
including those typed offline, which only reach the server when the provider resyncs.

With `--database postgresql` ours runs on PostgreSQL instead: a throwaway cluster started for the
run (tests/postgres_cluster.py, with fsync and synchronous commits on), a fresh database per trial
(MENTOR_SIDECAR_DATABASE_URL), and what survived a kill is read from that database while the
service is down (the kill does not touch PostgreSQL; what it had committed is there).

Lost is read from the data files, not from the restarted server, because reconnecting clients
re-send everything the server lacks: by the time anyone could ask the server, a lost edit would
already have been put back by the client that typed it, and the loss would go unnoticed.

The same trials run against Hocuspocus (`--servers ours,hocuspocus`, the default): its server
with the SQLite extension at its default store delay (2 s after the last change, at most 10 s;
bench/hocuspocus_server.mjs), two @hocuspocus/provider clients typing the same way
(bench/hocuspocus_typist.mjs), and lost counted the same way from a copy of its SQLite file. It
is expected to lose what it had not stored yet; its trials pass when everything typed is back on
the server at the end. Ours must lose nothing.

Kill moments, pauses and seeds come from random.Random(--seed) (printed), so a run's schedule is
reproducible; what the clients have typed at each moment depends on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
WEB_DIR = REPO_DIR / "web"
TYPIST = WEB_DIR / "test-clients" / "crash_typist.mjs"
HOCUSPOCUS_SERVER = BENCH_DIR / "hocuspocus_server.mjs"
HOCUSPOCUS_TYPIST = BENCH_DIR / "hocuspocus_typist.mjs"
SERVERS = ("ours", "hocuspocus")
LABEL = {"ours": "Mentor Sidecar", "hocuspocus": "Hocuspocus 3.4.4 + SQLite"}
HOCUSPOCUS_ROOM = "crash-notes"  # the one document a Hocuspocus trial types into
sys.path.insert(0, str(REPO_DIR))  # the service's settings and the tests' pycrdt client

from pycrdt import Doc, Text  # noqa: E402

from sidecar.settings import Settings  # noqa: E402
from tests.node_process import NodeProcess  # noqa: E402
from tests.notes_client import NotesClient  # noqa: E402
from tests.notes_storage import postgres_notes_text  # noqa: E402
from tests.postgres_cluster import PostgresCluster  # noqa: E402
from tests.postgres_cluster import why_not as postgres_missing  # noqa: E402

TOKEN = re.compile(r"[RE]\d+;")
PEOPLE = (("mentor", "R", "E"), ("mentee", "E", "R"))  # (client, own prefix, the other's)


def missing_requirements(
    servers: tuple[str, ...] = ("ours",), database: str = "sqlite"
) -> str | None:
    """Why the harness cannot run here against these servers (and database), or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if database == "postgresql" and "ours" in servers:
        why = postgres_missing()
        if why:
            return why
    lacking = [
        n for n in ("yjs", "y-websocket", "ws") if not (WEB_DIR / "node_modules" / n).is_dir()
    ]
    if lacking:
        return f"web/node_modules lacks {', '.join(lacking)}: run `npm ci` in web/"
    if "hocuspocus" in servers:
        needed = ("@hocuspocus/server", "@hocuspocus/provider", "sqlite3")
        lacking = [n for n in needed if not (BENCH_DIR / "node_modules" / n).is_dir()]
        if lacking:
            return f"bench/node_modules lacks {', '.join(lacking)}: run `npm ci` in bench/"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tokens(text: str, prefix: str = "RE") -> set[str]:
    return {t for t in TOKEN.findall(text) if t[0] in prefix}


def stored_text(database: Path, meeting_id: str) -> str:
    """The notes as stored, read from a copy of the database and its WAL.

    The copy is what the restarted service will find; reading the original would checkpoint
    the WAL, and the service would no longer recover a crashed WAL by itself. The query is the
    one the notes store loads a room with.
    """
    query = (
        "SELECT data FROM (SELECT 0 AS recent, id, data FROM note_updates WHERE meeting_id = ?1"
        " UNION ALL SELECT 1, id, data FROM note_updates_recent WHERE meeting_id = ?1)"
        " ORDER BY recent, id"
    )
    return text_of(stored_rows(database, "note_updates_recent", query, meeting_id))


def stored_hocuspocus_text(database: Path, document: str) -> str:
    """A Hocuspocus document as its SQLite extension stored it (one row: the whole state)."""
    if not database.exists():
        return ""  # nothing was ever stored
    query = 'SELECT data FROM "documents" WHERE name = ? ORDER BY rowid DESC LIMIT 1'
    return text_of(stored_rows(database, "documents", query, document))


def stored_rows(database: Path, table: str, query: str, key: str) -> list[tuple[bytes]]:
    """Rows read from a copy of a SQLite file with its WAL or rollback journal, as left."""
    with tempfile.TemporaryDirectory(prefix="crash-read-") as tmp:
        copy = Path(tmp) / database.name
        for suffix in ("", "-wal", "-journal"):
            source = database.with_name(database.name + suffix)
            if source.exists():
                shutil.copyfile(source, copy.with_name(copy.name + suffix))
        conn = sqlite3.connect(copy)
        try:
            known = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            rows = conn.execute(query, (key,)).fetchall() if known else []
        finally:
            conn.close()
    return [(bytes(data),) for (data,) in rows]


def text_of(rows: list[tuple[bytes]]) -> str:
    doc: Doc[Text] = Doc()
    for (data,) in rows:
        doc.apply_update(bytes(data))
    return str(doc.get("notes", type=Text))


# --- the two processes -----------------------------------------------------------------------


class Service:
    """`python -m sidecar demo --json` on one data folder and port; its log is appended to.

    With kind "hocuspocus", `node bench/hocuspocus_server.mjs` on a SQLite file in that folder,
    and one document named HOCUSPOCUS_ROOM instead of the demo's meeting.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        log: IO[bytes],
        compact_every: int,
        module: str,
        kind: str = "ours",
        database_url: str | None = None,
    ) -> None:
        self.kind = kind
        self.database_url = database_url  # PostgreSQL's; None: SQLite's file in data_dir
        self.module = module
        self.data_dir = data_dir
        self.port = port
        self.log = log
        self.compact_every = compact_every
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def database(self) -> Path:
        if self.kind == "hocuspocus":
            return self.data_dir / "hocuspocus.sqlite"
        return Settings(data_dir=self.data_dir).database_path

    def command(self) -> tuple[list[str], Path, dict[str, str]]:
        env = dict(os.environ)
        if self.kind == "hocuspocus":
            node = shutil.which("node") or "node"
            cmd = [node, str(HOCUSPOCUS_SERVER), "--host", "127.0.0.1", "--port", str(self.port)]
            return [*cmd, "--database", str(self.database)], BENCH_DIR, env
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_DIR), env.get("PYTHONPATH")) if p)
        # Small, so that compaction (delete and re-insert in one transaction) runs between kills.
        env["MENTOR_SIDECAR_NOTES_COMPACT_EVERY"] = str(self.compact_every)
        if self.database_url:
            env["MENTOR_SIDECAR_DATABASE_URL"] = self.database_url
        else:
            env.pop("MENTOR_SIDECAR_DATABASE_URL", None)
        cmd = [sys.executable, "-m", self.module, "demo", "--json", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        return cmd, REPO_DIR, env

    async def start(self) -> dict[str, Any]:
        cmd, cwd, env = self.command()
        self.process = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log,
        )
        assert self.process.stdout is not None
        # Both print one JSON line once listening (the demo: seeded once per data folder).
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line:
            await self.process.wait()
            raise RuntimeError(f"the service exited ({self.process.returncode}) before listening")
        self.starts += 1
        if self.kind == "hocuspocus":
            return {"meeting_id": HOCUSPOCUS_ROOM, **json.loads(line)}
        return dict(json.loads(line))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), 15)

    async def stop(self) -> int:
        """SIGTERM and the exit code (0 is a clean shutdown)."""
        if self.process is None:
            return 0
        if self.process.returncode is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise


class Typist(NodeProcess):
    """crash_typist.mjs (or hocuspocus_typist.mjs) as a subprocess (see tests/node_process.py)."""

    @classmethod
    async def launch(cls, log: IO[bytes], kind: str = "ours") -> Typist:
        node = shutil.which("node") or "node"
        script, cwd = (HOCUSPOCUS_TYPIST, BENCH_DIR) if kind == "hocuspocus" else (TYPIST, WEB_DIR)
        # A report carries both documents: allow long lines.
        return cls(await cls.spawn(node, script, cwd=cwd, stderr=log, limit=16 * 1024 * 1024))

    async def exited(self) -> Exception:
        return RuntimeError("the typist exited; see its log")

    async def call(self, cmd: str, *, within: float = 20, **args: Any) -> dict[str, Any]:
        reply = await asyncio.wait_for(self.start(cmd, **args), within)
        if not reply["ok"]:
            raise RuntimeError(f"typist {cmd}: {reply.get('error')}")
        return reply


# --- one trial -------------------------------------------------------------------------------


@dataclass
class Kill:
    number: int
    at_s: float  # since the trial's clients started typing
    typed: int  # tokens typed by both clients so far
    seen: int  # the other person's tokens held by the clients (each was broadcast)
    seen_new: int  # of those, not seen at an earlier kill of this trial
    stored: int  # tokens in the stored document after the kill
    lost: list[str]  # seen but not stored: must be empty
    lost_new: int  # of those, not already lost at an earlier kill of this trial (still missing)
    synced: bool  # both clients had resynced after the previous restart before this kill
    down_s: float  # how long the service stayed down


@dataclass
class Trial:
    number: int
    seed: str
    server: str = "ours"
    meeting_id: str = ""
    kills: list[Kill] = field(default_factory=list)
    typed: int = 0
    typed_offline: int = 0
    offline_merged: int = 0
    missing_at_end: list[str] = field(default_factory=list)
    duplicated_at_end: list[str] = field(default_factory=list)
    clients_match_server: bool = False
    reconnects: int = 0
    terminal_closes: list[str] = field(default_factory=list)
    clean_exit: bool = False
    log_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def lost(self) -> int:
        """Edits lost at a kill, each counted once (one still missing at the next kill too is
        the same loss)."""
        return sum(k.lost_new for k in self.kills)

    @property
    def ok(self) -> bool:
        """Everything checked holds; a peer's lost edits are counted, not failed."""
        return (
            not self.error
            and (self.lost == 0 or self.server != "ours")
            and not self.missing_at_end
            and not self.duplicated_at_end
            and self.clients_match_server
            and self.offline_merged == self.typed_offline
            and not self.terminal_closes
            and self.clean_exit
            and not self.log_errors
        )


def by_client(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["client"]: c for c in report["clients"]}


def error_lines(log_path: Path) -> list[str]:
    text = log_path.read_text(errors="replace")
    return [
        line
        for line in text.splitlines()
        if " ERROR " in line or " CRITICAL " in line or line.startswith(("Traceback", "Error"))
    ]


async def run_trial(
    number: int,
    seed: int,
    args: argparse.Namespace,
    work: Path,
    server: str = "ours",
    cluster: PostgresCluster | None = None,
) -> Trial:
    # The same seed for every server: the same kill moments and pauses in trial n.
    trial_seed = f"{seed}:{number}"
    rng = random.Random(trial_seed)
    trial = Trial(number, trial_seed, server)
    folder = work / f"{server}-trial-{number:02d}"
    data_dir = folder / "data"
    data_dir.mkdir(parents=True)
    log_path = folder / "service.log"
    began = time.monotonic()
    with log_path.open("ab") as log, (folder / "typist.log").open("wb") as typist_log:
        database_url = None
        if cluster is not None and server == "ours":  # a fresh database for this trial
            database_url = cluster.create(f"crash_{number:02d}")
        service = Service(
            data_dir, free_port(), log, args.compact_every, args.module, server, database_url
        )
        typist: Typist | None = None
        try:
            demo = await service.start()
            trial.meeting_id = demo["meeting_id"]
            typist = await Typist.launch(typist_log, server)
            if server == "hocuspocus":  # no accounts: the document's name is all it needs
                url = f"ws://127.0.0.1:{service.port}"
                specs = [{"name": name, "prefix": own} for name, own, _ in PEOPLE]
            else:
                url = f"ws://127.0.0.1:{service.port}/ws/notes"
                specs = [
                    {"name": name, "token": demo[name]["token"], "prefix": own}
                    for name, own, _ in PEOPLE
                ]
            await typist.call(
                "start",
                url=url,
                room=demo["meeting_id"],
                rate=args.rate,
                clients=specs,
                **({"maxBackoffMs": args.max_backoff_ms} if args.max_backoff_ms else {}),
            )
            typing_since = time.monotonic()
            seen_before: set[str] = set()
            lost_before: set[str] = set()
            for k in range(1, args.kills + 1):
                await asyncio.sleep(rng.uniform(args.min_gap, args.max_gap))
                service.kill()
                report = by_client(await typist.call("report"))  # at once: what each holds
                await service.wait()
                seen = set[str]()
                for name, _, other in PEOPLE:
                    seen |= tokens(report[name]["text"], other)
                if server == "hocuspocus":
                    stored_now = stored_hocuspocus_text(service.database, trial.meeting_id)
                elif service.database_url:  # the database itself: the kill did not touch it
                    stored_now = await postgres_notes_text(service.database_url, trial.meeting_id)
                else:
                    stored_now = stored_text(service.database, trial.meeting_id)
                stored = tokens(stored_now)
                down = rng.uniform(0, args.max_down)
                trial.kills.append(
                    Kill(
                        number=k,
                        at_s=round(time.monotonic() - typing_since, 2),
                        typed=sum(c["typed"] for c in report.values()),
                        seen=len(seen),
                        seen_new=len(seen - seen_before),
                        stored=len(stored),
                        lost=sorted(seen - stored),
                        lost_new=len(seen - stored - lost_before),
                        # Both had resynced since the last restart (the report itself may
                        # come after a client noticed the kill, so its `synced` is too late).
                        synced=all(c["syncs"] >= k for c in report.values()),
                        down_s=round(down, 2),
                    )
                )
                seen_before |= seen
                lost_before |= seen - stored
                await asyncio.sleep(down)  # the clients type on, offline
                await service.start()  # same folder, same port: the providers come back

            # The end: both back and synced, a little more typing, then stop and converge.
            await typist.call("waitSynced", timeoutMs=20000, within=25)
            await asyncio.sleep(rng.uniform(0.2, 0.6))
            await typist.call("stop")
            final = by_client(await typist.call("converge", timeoutMs=20000, within=25))
            if server == "hocuspocus":  # a fresh provider of its own reads the server's copy
                read = await typist.call("read", url=url, room=demo["meeting_id"], within=15)
                on_server = str(read["text"])
            else:
                fresh = NotesClient(f"{url}/{demo['meeting_id']}?token={demo['mentee']['token']}")
                await fresh.connect()
                try:
                    await asyncio.wait_for(fresh.synced.wait(), 10)
                    on_server = str(fresh)
                finally:
                    await fresh.close()
            counts = Counter(TOKEN.findall(on_server))
            typed = {f"{own}{i};" for name, own, _ in PEOPLE for i in range(final[name]["typed"])}
            offline = {t for c in final.values() for t in c["offline"]}
            trial.typed = len(typed)
            trial.typed_offline = len(offline)
            trial.offline_merged = len(offline & set(counts))
            trial.missing_at_end = sorted(typed - set(counts))
            trial.duplicated_at_end = sorted(t for t, n in counts.items() if n > 1)
            trial.clients_match_server = all(c["text"] == on_server for c in final.values())
            trial.reconnects = sum(c["reconnects"] for c in final.values())
            trial.terminal_closes = [
                f"{c['client']}: {c['closed']}" for c in final.values() if c["closed"]
            ]
            await typist.close()
            typist = None
            trial.clean_exit = await service.stop() == 0
        except Exception as exc:  # a broken trial is reported with its logs kept
            trial.error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            if typist is not None:
                await typist.close()
            if service.process is not None and service.process.returncode is None:
                service.kill()
                await service.wait()
    trial.log_errors = error_lines(log_path)[:20]
    trial.seconds = round(time.monotonic() - began, 1)
    return trial


# --- report ----------------------------------------------------------------------------------


def print_trial(t: Trial) -> None:
    print(
        f"\n{LABEL[t.server]}: trial {t.number} (seed {t.seed}, meeting {t.meeting_id},"
        f" {t.seconds:.1f} s)"
    )
    print(f"  {'kill':>4} {'at s':>6} {'typed':>6} {'seen':>6} {'new':>5} {'stored':>6}", end="")
    print(f" {'lost':>5} {'new':>5} {'resynced':>8} {'down s':>6}")
    for k in t.kills:
        print(
            f"  {k.number:>4} {k.at_s:>6.2f} {k.typed:>6} {k.seen:>6} {k.seen_new:>5}"
            f" {k.stored:>6} {len(k.lost):>5} {k.lost_new:>5} {'yes' if k.synced else 'no':>8}"
            f" {k.down_s:>6.2f}"
        )
        if k.lost:
            print(f"         LOST: {' '.join(k.lost[:20])}")
    print(
        f"  end: typed {t.typed}, typed offline {t.typed_offline}, offline merged"
        f" {t.offline_merged}, missing {len(t.missing_at_end)}, duplicated"
        f" {len(t.duplicated_at_end)}, clients = server:"
        f" {'yes' if t.clients_match_server else 'NO'}, reconnects {t.reconnects},"
        f" clean shutdown: {'yes' if t.clean_exit else 'NO'}"
    )
    for label, items in (
        ("missing", t.missing_at_end),
        ("duplicated", t.duplicated_at_end),
        ("closed for good", t.terminal_closes),
        ("service log", t.log_errors),
    ):
        if items:
            print(f"  {label}: {' | '.join(items[:10])}")
    if t.error:
        print(f"  ERROR: {t.error}")
    print(f"  => {'ok' if t.ok else 'FAILED'}", flush=True)


def totals(trials: list[Trial]) -> dict[str, Any]:
    kills = [k for t in trials for k in t.kills]
    lost = sum(t.lost for t in trials)
    return {
        "trials": len(trials),
        "failed_trials": sum(not t.ok for t in trials),
        "kills": len(kills),
        "edits_typed": sum(t.typed for t in trials),
        "edits_seen_broadcast_before_a_kill": sum(k.seen_new for k in kills),
        "lost_after_restart": sum(t.lost for t in trials),
        "typed_offline": sum(t.typed_offline for t in trials),
        "offline_merged_after_reconnect": sum(t.offline_merged for t in trials),
        "missing_at_end": sum(len(t.missing_at_end) for t in trials),
        "duplicated_at_end": sum(len(t.duplicated_at_end) for t in trials),
        "kills_after_both_resynced": sum(k.synced for k in kills),
        "lost_per_kill": round(lost / len(kills), 2) if kills else 0.0,
        "most_lost_at_one_kill": max((k.lost_new for k in kills), default=0),
    }


def comparison(by_server: dict[str, dict[str, Any]]) -> str:
    lines = ["", "== edits lost per kill -9 (seen broadcast before the kill, not stored) =="]
    for kind, t in by_server.items():
        back = (
            t["missing_at_end"] == 0 and t["offline_merged_after_reconnect"] == t["typed_offline"]
        )
        lines.append(
            f"{LABEL[kind]:<26} {t['kills']:>4} kills, {t['edits_seen_broadcast_before_a_kill']:>6}"
            f" seen, {t['lost_after_restart']:>6} lost: {t['lost_per_kill']:.2f} per kill"
            f" (most at one kill {t['most_lost_at_one_kill']}); everything typed on the server"
            f" at the end: {'yes' if back else 'NO'}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="trials (20)")
    parser.add_argument("--kills", type=int, default=3, help="kill -9s per trial (3)")
    parser.add_argument("--seed", type=int, help="random seed (default: from the clock; printed)")
    parser.add_argument(
        "--rate",
        type=float,
        default=20.0,
        help="tokens per second per person (20; the server allows 60 messages/s per socket)",
    )
    parser.add_argument(
        "--min-gap", type=float, default=0.3, help="least time from a (re)start to a kill (0.3 s)"
    )
    parser.add_argument(
        "--max-gap", type=float, default=2.5, help="most time from a (re)start to a kill (2.5 s)"
    )
    parser.add_argument(
        "--max-down", type=float, default=1.0, help="most time the service stays down (1 s)"
    )
    parser.add_argument(
        "--compact-every",
        type=int,
        default=40,
        help="MENTOR_SIDECAR_NOTES_COMPACT_EVERY for the service (40: compactions between kills)",
    )
    parser.add_argument(
        "--max-backoff-ms",
        type=int,
        help="the providers' maxBackoffTime (default: the panel's, y-websocket's 2500 ms)",
    )
    parser.add_argument(
        "--module",
        default="sidecar",
        help="run `python -m MODULE demo --json` as the service (default sidecar; to try a"
        " variant, or to check that the harness catches a service that relays before storing)",
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated, from ours,hocuspocus (both: trial n runs on each, same schedule)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="what ours stores into: its SQLite file (default), or PostgreSQL (a throwaway cluster"
        " for the run, a database per trial)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the data folders and logs")
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="make the run's folder (data folders, logs) in this folder (default: the system's"
        " temporary folder)",
    )
    args = parser.parse_args(argv)
    args.servers = tuple(s.strip() for s in args.servers.split(",") if s.strip())
    for s in args.servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}; choose from {', '.join(SERVERS)}")
    if args.trials < 1 or args.kills < 1:
        parser.error("--trials and --kills must be at least 1")
    if not 0 <= args.min_gap <= args.max_gap or args.max_down < 0 or args.rate <= 0:
        parser.error("need 0 <= --min-gap <= --max-gap, --max-down >= 0 and --rate > 0")
    return args


async def main_async(args: argparse.Namespace) -> int:
    missing = missing_requirements(args.servers, args.database)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    if args.database == "postgresql":
        LABEL["ours"] = "Mentor Sidecar + PostgreSQL"
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 1_000_000
    print(
        f"crash harness: {args.trials} trials x {args.kills} kill -9s, seed {seed}"
        f" (rerun with --seed {seed}); {args.rate:g} tokens/s per person;"
        f" against {', '.join(LABEL[s] for s in args.servers)}",
        flush=True,
    )
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="crash-harness-", dir=args.work_dir))
    trials: dict[str, list[Trial]] = {s: [] for s in args.servers}
    cluster = None
    if args.database == "postgresql" and "ours" in args.servers:
        cluster = PostgresCluster(durable=True)
        cluster.start()
        cluster.build_template()  # migrated once; each trial's database is a copy
    try:
        for number in range(1, args.trials + 1):
            for server in args.servers:  # trial n on each server in turn, on the same schedule
                trial = await run_trial(number, seed, args, work, server, cluster)
                print_trial(trial)
                trials[server].append(trial)
    finally:
        if cluster is not None:
            cluster.stop()
    summaries = {s: totals(ts) for s, ts in trials.items()}
    elapsed = time.monotonic() - began
    for server, summary in summaries.items():
        listed = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items())
        print(f"\ntotals, {LABEL[server]}: {listed}")
    print(comparison(summaries))
    print(f"(wall time {elapsed:.0f} s)")
    if args.json:
        record = {
            "seed": seed,
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "seconds": round(elapsed, 1),
            "servers": {
                s: {
                    "totals": summaries[s],
                    "trials": [{**asdict(t), "lost": t.lost, "ok": t.ok} for t in ts],
                }
                for s, ts in trials.items()
            },
        }
        args.json.write_text(json.dumps(record, indent=1))
    failed = any(summary["failed_trials"] > 0 for summary in summaries.values())
    if args.keep or failed:
        print(f"data folders and logs kept in {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up (service, typist) as Ctrl+C does


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
