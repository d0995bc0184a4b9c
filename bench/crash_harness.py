"""Crash safety of the live notes: kill -9 the service while two real Yjs clients type.

    python bench/crash_harness.py --trials 20        # the long run (about 3 minutes)
    python bench/crash_harness.py --trials 3 --kills 2 --seed 7

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

Lost is read from the data files, not from the restarted server, because reconnecting clients
re-send everything the server lacks: by the time anyone could ask the server, a lost edit would
already have been put back by the client that typed it, and the loss would go unnoticed.

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
sys.path.insert(0, str(REPO_DIR))  # the service's settings and the tests' pycrdt client

from pycrdt import Doc, Text  # noqa: E402

from sidecar.settings import Settings  # noqa: E402
from tests.node_process import NodeProcess  # noqa: E402
from tests.notes_client import NotesClient  # noqa: E402

TOKEN = re.compile(r"[RE]\d+;")
PEOPLE = (("mentor", "R", "E"), ("mentee", "E", "R"))  # (client, own prefix, the other's)


def missing_requirements() -> str | None:
    """Why the harness cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    lacking = [
        n for n in ("yjs", "y-websocket", "ws") if not (WEB_DIR / "node_modules" / n).is_dir()
    ]
    if lacking:
        return f"web/node_modules lacks {', '.join(lacking)}: run `npm ci` in web/"
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
    with tempfile.TemporaryDirectory(prefix="crash-read-") as tmp:
        copy = Path(tmp) / database.name
        for suffix in ("", "-wal"):
            source = database.with_name(database.name + suffix)
            if source.exists():
                shutil.copyfile(source, copy.with_name(copy.name + suffix))
        conn = sqlite3.connect(copy)
        try:
            rows = conn.execute(
                "SELECT data FROM note_updates WHERE meeting_id = ? ORDER BY id", (meeting_id,)
            ).fetchall()
        finally:
            conn.close()
    doc: Doc[Text] = Doc()
    for (data,) in rows:
        doc.apply_update(bytes(data))
    return str(doc.get("notes", type=Text))


# --- the two processes -----------------------------------------------------------------------


class Service:
    """`python -m sidecar demo --json` on one data folder and port; its log is appended to."""

    def __init__(
        self, data_dir: Path, port: int, log: IO[bytes], compact_every: int, module: str
    ) -> None:
        self.module = module
        self.data_dir = data_dir
        self.port = port
        self.log = log
        self.compact_every = compact_every
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> dict[str, Any]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_DIR), env.get("PYTHONPATH")) if p)
        # Small, so that compaction (delete and re-insert in one transaction) runs between kills.
        env["MENTOR_SIDECAR_NOTES_COMPACT_EVERY"] = str(self.compact_every)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            "demo",
            "--json",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            cwd=REPO_DIR,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log,
        )
        assert self.process.stdout is not None
        # The demo prints one JSON line once it is listening (seeded once per data folder).
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line:
            await self.process.wait()
            raise RuntimeError(f"the service exited ({self.process.returncode}) before listening")
        self.starts += 1
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
    """crash_typist.mjs as a subprocess (see tests/node_process.py)."""

    @classmethod
    async def launch(cls, log: IO[bytes]) -> Typist:
        node = shutil.which("node") or "node"
        # A report carries both documents: allow long lines.
        return cls(await cls.spawn(node, TYPIST, cwd=WEB_DIR, stderr=log, limit=16 * 1024 * 1024))

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
    synced: bool  # both clients had resynced after the previous restart before this kill
    down_s: float  # how long the service stayed down


@dataclass
class Trial:
    number: int
    seed: str
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
        return sum(len(k.lost) for k in self.kills)

    @property
    def ok(self) -> bool:
        return (
            not self.error
            and self.lost == 0
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
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]


async def run_trial(number: int, seed: int, args: argparse.Namespace, work: Path) -> Trial:
    trial_seed = f"{seed}:{number}"
    rng = random.Random(trial_seed)
    trial = Trial(number, trial_seed)
    folder = work / f"trial-{number:02d}"
    data_dir = folder / "data"
    data_dir.mkdir(parents=True)
    log_path = folder / "service.log"
    began = time.monotonic()
    with log_path.open("ab") as log, (folder / "typist.log").open("wb") as typist_log:
        service = Service(data_dir, free_port(), log, args.compact_every, args.module)
        typist: Typist | None = None
        try:
            demo = await service.start()
            trial.meeting_id = demo["meeting_id"]
            database = Settings(data_dir=data_dir).database_path
            typist = await Typist.launch(typist_log)
            specs = [
                {"name": name, "token": demo[name]["token"], "prefix": own}
                for name, own, _ in PEOPLE
            ]
            await typist.call(
                "start",
                url=f"ws://127.0.0.1:{service.port}/ws/notes",
                room=demo["meeting_id"],
                rate=args.rate,
                clients=specs,
                **({"maxBackoffMs": args.max_backoff_ms} if args.max_backoff_ms else {}),
            )
            typing_since = time.monotonic()
            seen_before: set[str] = set()
            for k in range(1, args.kills + 1):
                await asyncio.sleep(rng.uniform(args.min_gap, args.max_gap))
                service.kill()
                report = by_client(await typist.call("report"))  # at once: what each holds
                await service.wait()
                seen = set[str]()
                for name, _, other in PEOPLE:
                    seen |= tokens(report[name]["text"], other)
                stored = tokens(stored_text(database, trial.meeting_id))
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
                        # Both had resynced since the last restart (the report itself may
                        # come after a client noticed the kill, so its `synced` is too late).
                        synced=all(c["syncs"] >= k for c in report.values()),
                        down_s=round(down, 2),
                    )
                )
                seen_before |= seen
                await asyncio.sleep(down)  # the clients type on, offline
                await service.start()  # same folder, same port: the providers come back

            # The end: both back and synced, a little more typing, then stop and converge.
            await typist.call("waitSynced", timeoutMs=20000, within=25)
            await asyncio.sleep(rng.uniform(0.2, 0.6))
            await typist.call("stop")
            final = by_client(await typist.call("converge", timeoutMs=20000, within=25))
            url = f"ws://127.0.0.1:{service.port}/ws/notes/{demo['meeting_id']}"
            fresh = NotesClient(f"{url}?token={demo['mentee']['token']}")
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
    print(f"\ntrial {t.number} (seed {t.seed}, meeting {t.meeting_id}, {t.seconds:.1f} s)")
    print(f"  {'kill':>4} {'at s':>6} {'typed':>6} {'seen':>6} {'new':>5} {'stored':>6}", end="")
    print(f" {'lost':>5} {'resynced':>8} {'down s':>6}")
    for k in t.kills:
        print(
            f"  {k.number:>4} {k.at_s:>6.2f} {k.typed:>6} {k.seen:>6} {k.seen_new:>5}"
            f" {k.stored:>6} {len(k.lost):>5} {'yes' if k.synced else 'no':>8} {k.down_s:>6.2f}"
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


def totals(trials: list[Trial]) -> dict[str, int]:
    kills = [k for t in trials for k in t.kills]
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
    }


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
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the data folders and logs")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.kills < 1:
        parser.error("--trials and --kills must be at least 1")
    if not 0 <= args.min_gap <= args.max_gap or args.max_down < 0 or args.rate <= 0:
        parser.error("need 0 <= --min-gap <= --max-gap, --max-down >= 0 and --rate > 0")
    return args


async def main_async(args: argparse.Namespace) -> int:
    missing = missing_requirements()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 1_000_000
    print(
        f"crash harness: {args.trials} trials x {args.kills} kill -9s, seed {seed}"
        f" (rerun with --seed {seed}); {args.rate:g} tokens/s per person",
        flush=True,
    )
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="crash-harness-"))
    trials = []
    for number in range(1, args.trials + 1):
        trial = await run_trial(number, seed, args, work)
        print_trial(trial)
        trials.append(trial)
    summary = totals(trials)
    elapsed = time.monotonic() - began
    print("\ntotals: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    print(f"(wall time {elapsed:.0f} s)")
    if args.json:
        record = {
            "seed": seed,
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "totals": summary,
            "seconds": round(elapsed, 1),
            "trials": [{**asdict(t), "lost": t.lost, "ok": t.ok} for t in trials],
        }
        args.json.write_text(json.dumps(record, indent=1))
    failed = summary["failed_trials"] > 0
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
