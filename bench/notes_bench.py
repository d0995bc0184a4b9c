"""Live-notes benchmark: Mentor Sidecar against the reference server and Hocuspocus.

    python bench/notes_bench.py                  # full run, all three servers (see bench/README)
    python bench/notes_bench.py --quick          # a minute or two: a lone pair, two small levels
    python bench/notes_bench.py --levels 50,100,200 --seconds 20 --servers ours,reference
    python bench/notes_bench.py --database postgresql   # ours on PostgreSQL instead of SQLite

Three servers side by side in one run: ours (`python -m sidecar serve`), the reference
@y/websocket-server (memory only) and Hocuspocus (@hocuspocus/server with its SQLite extension,
the durable server a user would pick; bench/hocuspocus_server.mjs). First a lone pair per server
(one meeting, both people typing: keystroke-to-peer p50 and p99), then for each level (a number of
concurrent meetings, two people each, every person typing 5 edits per second) and each server, it
starts a fresh server process, connects the clients from several Node load-generator processes
(bench/loadgen.mjs: real yjs clients with y-websocket's provider, or Hocuspocus's own for
Hocuspocus), lets them type through a warm-up and a measured window, and reports
keystroke-to-peer latency (p50, p99), lost edits, server CPU time per relayed edit, server
resident memory per meeting while typing and per idle open meeting (after typing stops, sockets
still open), and the load generators' own CPU. A server "holds" a level when p99 <= 50 ms and
nothing is lost. Servers run one at a time, taking turns going first, since they share 2 cores
with the load generators. See bench/README.md.

With `--database postgresql` ours stores into PostgreSQL: a throwaway cluster started for the
benchmark (tests/postgres_cluster.py, fsync and synchronous commits on, as in production), the
meetings seeded once into a database every run copies (`CREATE DATABASE ... TEMPLATE`). The
cluster's CPU is not the server's: it is reported beside each run ("PostgreSQL ... us/edit").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import bench_report
from bench_report import SERVERS, IdleResult, RunResult, fmt, percentile, report

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
LOADGEN = BENCH_DIR / "loadgen.mjs"
REFERENCE_BIN = BENCH_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
HOCUSPOCUS_SERVER = BENCH_DIR / "hocuspocus_server.mjs"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# With --database postgresql: the database seeded once, which each run's database copies.
SEEDED_DATABASE = "bench_seeded"


# --- processes and /proc ---------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def _tree(pid: int) -> list[int]:
    """The process and its descendants (the reference server has none; ours has none either)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                children.setdefault(int(_stat_fields(int(entry))[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """CPU seconds of a process tree, to the nanosecond.

    The scheduler's own count of time on a CPU for every live thread (/proc/TID/schedstat),
    plus the reaped children's time. utime and stime come in 10 ms clock ticks, too coarse for
    a short level on a busy host: a lone pair's few hundred edits can cost less than one tick.
    A thread that exits takes its count with it; the servers' threads (the loop, the database's,
    libuv's pool) live as long as the process.
    """
    total = 0.0
    for member in _tree(pid):
        with contextlib.suppress(OSError):
            f = _stat_fields(member)
            total += (int(f[13]) + int(f[14])) / CLK_TCK
            total += _threads_on_cpu_ns(member) / 1e9
    return total


def _threads_on_cpu_ns(pid: int) -> int:
    on_cpu = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        schedstat = f"/proc/{pid}/task/{tid}/schedstat"
        with contextlib.suppress(OSError, ValueError), open(schedstat) as f:
            on_cpu += int(f.read().split()[0])
    return on_cpu


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process tree; system is mostly socket and epoll calls.

    The total is cpu_seconds(); the clock ticks only say how it divides between user and kernel.
    """
    user = system = 0
    for member in _tree(pid):
        with contextlib.suppress(OSError):
            f = _stat_fields(member)
            user += int(f[11]) + int(f[13])
            system += int(f[12]) + int(f[14])
    total = cpu_seconds(pid)
    if user + system == 0:
        return total, 0.0
    return total * user / (user + system), total * system / (user + system)


def rss_kib(pid: int) -> int:
    total = 0
    for member in _tree(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def host_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


def open_log(path: Path) -> BinaryIO:
    return path.open("wb")  # closed by the caller once the process has stopped


def read_json(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for_port(port: int, proc: asyncio.subprocess.Process, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        return
    raise RuntimeError(f"server did not listen on {port} within {within:.0f} s")


async def stop_process(proc: asyncio.subprocess.Process, grace: float = 10.0) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


# --- seeding our database --------------------------------------------------------------------


async def seed_meetings(target: Path | str, count: int) -> list[dict[str, Any]]:
    """`count` mentorships with one meeting each and a token per person, via the service's code,
    into the SQLite database of a data folder or the PostgreSQL database of a URL."""
    sys.path.insert(0, str(REPO_DIR))
    from sidecar.db import open_database
    from sidecar.db.repositories import Repositories
    from sidecar.settings import Settings

    where = target if isinstance(target, str) else Settings(data_dir=target).database_path
    db = await open_database(where)
    repos = Repositories.over(db)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    meetings = []
    try:
        async with db.transaction():
            for i in range(count):
                mentor = await repos.people.create(
                    name=f"Bench Mentor {i}",
                    email=f"bench.mentor.{i}@example.org",
                    timezone="Europe/Lisbon",
                    locale="en",
                )
                mentee = await repos.people.create(
                    name=f"Bench Mentee {i}",
                    email=f"bench.mentee.{i}@example.org",
                    timezone="Asia/Tokyo",
                    locale="en",
                )
                mentor_token, _ = await repos.tokens.issue(mentor.id, label="bench")
                mentee_token, _ = await repos.tokens.issue(mentee.id, label="bench")
                pair = await repos.mentorships.create(mentor.id, "mentor", f"Bench pair {i}")
                code, _ = await repos.mentorships.create_invite(
                    pair.id, timedelta(hours=1), viewer=mentor.id
                )
                await repos.mentorships.accept_invite(code, mentee.id)
                meeting = await repos.meetings.create(
                    pair.id,
                    title=f"Bench meeting {i}",
                    scheduled_start=start,
                    scheduled_end=start + timedelta(minutes=45),
                    platform="link",
                    join_url=None,
                    viewer=mentor.id,
                )
                meetings.append({"room": meeting.id, "tokens": [mentor_token, mentee_token]})
    finally:
        await db.close()
    return meetings


# --- one measured run ------------------------------------------------------------------------


@dataclass(frozen=True)
class Phases:
    """How long a run types before and inside its window, and how long it then idles."""

    warmup: float
    seconds: float
    idle_settle: float  # 0: no idle measurement, the clients leave once typing is over


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        work: Path,
        meetings: list[dict[str, Any]],
        cluster: Any = None,
    ):
        self.args = args
        self.work = work
        self.meetings = meetings
        self.node = shutil.which("node") or "node"
        self.run_index = 0
        self.profiles: list[Path] = []
        # With --database postgresql: the cluster (tests/postgres_cluster.PostgresCluster), and
        # the database of the run under way, copied from the seeded one.
        self.cluster = cluster
        self.run_database: str | None = None

    def database_cpu(self) -> float:
        """CPU seconds of the PostgreSQL cluster (the postmaster and its backends); 0 without."""
        if self.cluster is None:
            return 0.0
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.cluster.data / "postmaster.pid").read_text().split()[0])
            return cpu_seconds(pid)
        return 0.0

    def drop_run_database(self) -> None:
        if self.cluster is not None and self.run_database is not None:
            self.cluster.drop(self.run_database)
            self.run_database = None

    async def start_server(
        self, kind: str, port: int, run_dir: Path, log
    ) -> asyncio.subprocess.Process:
        if kind == "ours":
            data_dir = run_dir / "data"
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            env.pop("MENTOR_SIDECAR_DATABASE_URL", None)
            if self.cluster is not None:
                data_dir.mkdir()
                self.run_database = f"run_{self.run_index:02d}"
                self.cluster.execute(
                    f"CREATE DATABASE {self.run_database} TEMPLATE {SEEDED_DATABASE}"
                    " STRATEGY FILE_COPY"
                )
                env["MENTOR_SIDECAR_DATABASE_URL"] = self.cluster.url(self.run_database)
            else:
                shutil.copytree(self.work / "template", data_dir)
            paths = [str(REPO_DIR), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
            cmd = [sys.executable, "-m", self.args.ours_module, "serve", "--host", "127.0.0.1"]
            cmd += ["--port", str(port), "--data-dir", str(data_dir)]
            cwd = REPO_DIR
        elif kind == "hocuspocus":
            env = dict(os.environ)
            cmd = [self.node, str(HOCUSPOCUS_SERVER), "--host", "127.0.0.1", "--port", str(port)]
            cmd += ["--database", str(run_dir / "hocuspocus.sqlite")]
            cwd = BENCH_DIR
        else:
            env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
            cmd = [self.node, str(REFERENCE_BIN)]
            cwd = BENCH_DIR
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
        await wait_for_port(port, proc, within=30)
        return proc

    def loadgen_configs(
        self, kind: str, port: int, count: int, run_dir: Path, phases: Phases
    ) -> list[Path]:
        procs = max(1, min(self.args.max_loadgens, math.ceil(count / self.args.per_loadgen)))
        base = f"ws://127.0.0.1:{port}/ws/notes" if kind == "ours" else f"ws://127.0.0.1:{port}"
        chosen = self.meetings[:count]
        configs = []
        budget = self.connect_timeout(count) + phases.warmup + phases.seconds
        budget += self.args.drain + phases.idle_settle + 30
        for i in range(procs):
            mine = chosen[i::procs]
            if kind != "ours":  # the peers ignore tokens; the room name is all they need
                mine = [{"room": m["room"], "tokens": None} for m in mine]
            path = run_dir / f"loadgen-{i}.json"
            path.write_text(
                json.dumps(
                    {
                        "base": base,
                        "protocol": "hocuspocus" if kind == "hocuspocus" else "y-websocket",
                        "holdOpen": phases.idle_settle > 0,
                        "rate": self.args.rate,
                        "meetings": mine,
                        "batch": 25,
                        "connectTimeoutMs": int(self.connect_timeout(count) * 1000),
                        "maxSeconds": int(budget),
                        "seed": 1000 * count + i + 1,
                        "resultPath": str(run_dir / f"result-{i}.json"),
                    }
                )
            )
            configs.append(path)
        return configs

    async def start_py_spy(self, pid: int, run_dir: Path) -> asyncio.subprocess.Process:
        """Sample our server through the measured window (diagnosis; it costs the server CPU)."""
        out = run_dir / "py-spy.txt"
        self.profiles.append(out)
        seconds = str(int(self.args.seconds))
        cmd = ["py-spy", "record", "--pid", str(pid), "--duration", seconds]
        cmd += ["--rate", "250", "--nonblocking", "--format", "raw", "--output", str(out)]
        return await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )

    def connect_timeout(self, count: int) -> float:
        return 30 + count * 0.05

    async def wait_until_quiet(self) -> None:
        """Other work on the machine skews every figure: wait (bounded) for it to stop."""
        if self.args.quiet_wait <= 0:
            return
        cores = os.cpu_count() or 1
        deadline = time.monotonic() + self.args.quiet_wait
        while True:
            before = host_ticks()
            await asyncio.sleep(1.0)
            after = host_ticks()
            busy = (after[0] - before[0]) / max(1, after[1] - before[1]) * cores
            if busy < 0.15 or time.monotonic() >= deadline:
                if busy >= 0.15:
                    print(f"machine still busy ({busy:.2f} cores) by other work", file=sys.stderr)
                return

    def level_phases(self) -> Phases:
        return Phases(self.args.warmup, self.args.seconds, self.args.idle_settle)

    def pair_phases(self) -> Phases:
        return Phases(min(self.args.warmup, 2.0), self.args.pair_seconds, 0.0)

    async def run(self, kind: str, count: int, phases: Phases) -> RunResult:
        await self.wait_until_quiet()
        self.run_index += 1
        run_dir = self.work / f"run-{self.run_index:02d}-{kind}-{count}"
        run_dir.mkdir()
        port = free_port()
        server_log = open_log(run_dir / "server.log")
        loadgen_log = open_log(run_dir / "loadgen.log")
        server = await self.start_server(kind, port, run_dir, server_log)
        configs = self.loadgen_configs(kind, port, count, run_dir, phases)
        result = RunResult(server=kind, meetings=count, loadgens=len(configs))
        loadgens: list[asyncio.subprocess.Process] = []
        profiler: asyncio.subprocess.Process | None = None
        try:
            await asyncio.sleep(1.0)  # settle, then the idle baseline
            result.rss_idle_kib = rss_kib(server.pid)
            for config in configs:
                loadgens.append(
                    await asyncio.create_subprocess_exec(
                        self.node,
                        str(LOADGEN),
                        str(config),
                        cwd=BENCH_DIR,
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=loadgen_log,
                        limit=64 * 1024 * 1024,
                    )
                )
            readies = await asyncio.wait_for(
                asyncio.gather(*(self.read_line(p, "READY") for p in loadgens)),
                self.connect_timeout(count) + 30,
            )
            result.clients = sum(r["clients"] for r in readies)
            result.connected = sum(r["synced"] for r in readies)
            if result.connected < result.clients:
                stuck = sum(r.get("unsynced_connected", 0) for r in readies)
                codes = [r.get("close_codes") for r in readies if r.get("close_codes")]
                result.notes.append(
                    f"{result.clients - result.connected} clients never synced ({stuck} of them"
                    f" connected); close codes while connecting: {codes}"
                )
            await asyncio.sleep(0.5)
            result.rss_ready_kib = rss_kib(server.pid)

            start = time.time() * 1000 + 200
            measure_from = start + phases.warmup * 1000
            measure_to = measure_from + phases.seconds * 1000
            drain_ms = int(self.args.drain * 1000)
            go = {"measure_from": measure_from, "measure_to": measure_to, "drain_ms": drain_ms}
            for p in loadgens:
                assert p.stdin is not None
                p.stdin.write(f"GO {json.dumps(go)}\n".encode())
                await p.stdin.drain()
            results_task = asyncio.gather(*(self.read_line(p, "RESULT") for p in loadgens))

            await asyncio.sleep(max(0.0, measure_from / 1000 - time.time()))
            split0, host0, t0 = cpu_split(server.pid), host_ticks(), time.monotonic()
            database0 = self.database_cpu()
            if kind == "ours" and self.args.py_spy:
                profiler = await self.start_py_spy(server.pid, run_dir)
            await asyncio.sleep(max(0.0, measure_to / 1000 - time.time()))
            split1, host1, t1 = cpu_split(server.pid), host_ticks(), time.monotonic()
            database1 = self.database_cpu()
            result.rss_end_kib = rss_kib(server.pid)
            outcomes = await asyncio.wait_for(results_task, self.args.drain + 30)
            if phases.idle_settle > 0:
                # Typing is over and has arrived; the meetings stay open with nobody typing.
                idle0, i0 = cpu_seconds(server.pid), time.monotonic()
                await asyncio.sleep(phases.idle_settle)
                result.rss_settled_kib = rss_kib(server.pid)
                result.idle_settle_s = time.monotonic() - i0
                result.idle_cpu_cores = (cpu_seconds(server.pid) - idle0) / result.idle_settle_s
                grown = result.rss_settled_kib - result.rss_idle_kib
                result.kib_per_meeting_after = grown / count
        except Exception as exc:  # a level that breaks is reported, not fatal to the benchmark
            stage = "connecting" if not result.clients else "measuring"
            result.error = f"{type(exc).__name__} while {stage}: {exc}"[:300]
            outcomes = []
        finally:
            if profiler is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(profiler.wait(), 30)
                await stop_process(profiler, 2)
            for p in loadgens:
                if p.returncode is None:
                    if p.stdin is not None:  # a generator holding its meetings open leaves now
                        p.stdin.close()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(p.wait(), 5)
                await stop_process(p, 2)
            await stop_process(server)
            self.drop_run_database()
            server_log.close()
            loadgen_log.close()

        text = (run_dir / "server.log").read_text(errors="replace")
        result.server_errors = sum(
            1
            for line in text.splitlines()
            if " ERROR " in line or line.startswith(("Traceback", "Error"))
        )
        if not outcomes:
            return result
        result.server_sys_s = split1[1] - split0[1]
        self.summarise(result, outcomes, sum(split1) - sum(split0), t1 - t0, host0, host1)
        if self.cluster is not None and kind == "ours":
            # PostgreSQL's work is the server's storage, not another process's noise.
            database = database1 - database0
            result.other_cores = max(0.0, result.other_cores - database / (t1 - t0))
            per_edit = database / result.received * 1e6 if result.received else math.nan
            result.notes.append(
                f"PostgreSQL {database / (t1 - t0):.2f} cores, {fmt(per_edit)} us/edit"
                " beside the server's"
            )
        if kind == "ours" and not self.args.keep:
            shutil.rmtree(run_dir / "data", ignore_errors=True)
        return result

    def idle_config(self, kind: str, port: int, chosen: list[dict[str, Any]], path: Path) -> Path:
        """A load generator that opens `chosen` meetings, syncs both clients and types nothing."""
        base = f"ws://127.0.0.1:{port}/ws/notes" if kind == "ours" else f"ws://127.0.0.1:{port}"
        if kind != "ours":
            chosen = [{"room": m["room"], "tokens": None} for m in chosen]
        timeout = self.connect_timeout(len(chosen))
        path.write_text(
            json.dumps(
                {
                    "base": base,
                    "protocol": "hocuspocus" if kind == "hocuspocus" else "y-websocket",
                    "idleOnly": True,
                    "meetings": chosen,
                    "batch": 25,
                    "connectTimeoutMs": int(timeout * 1000),
                    "maxSeconds": int(4 * timeout + 3 * self.args.idle_settle + 120),
                    "seed": len(chosen),
                }
            )
        )
        return path

    async def run_idle(self, kind: str) -> IdleResult:
        """Memory per idle open meeting, measured as such (not after typing, whose memory the
        allocators keep): on a fresh server, `--idle-warmup` meetings are opened first and stay
        open (one-time costs: imports' lazy parts, the first room, caches, the allocators' first
        arenas), the baseline is read once they have settled, then `--idle-meetings` fresh
        meetings are opened, both people connected and synced and nobody typing, and after the
        same settle: (RSS now - baseline) / meetings."""
        await self.wait_until_quiet()
        self.run_index += 1
        warm, count = self.args.idle_warmup, self.args.idle_meetings
        run_dir = self.work / f"run-{self.run_index:02d}-{kind}-idle-{count}"
        run_dir.mkdir()
        port = free_port()
        server_log = open_log(run_dir / "server.log")
        loadgen_log = open_log(run_dir / "loadgen.log")
        server = await self.start_server(kind, port, run_dir, server_log)
        result = IdleResult(server=kind, meetings=count, warmup_meetings=warm)
        chosen = self.meetings[:warm], self.meetings[warm : warm + count]
        procs: list[asyncio.subprocess.Process] = []
        per = max(1, self.args.per_loadgen)

        async def open_meetings(meetings: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
            started = []
            for i in range(0, len(meetings), per):
                config = self.idle_config(
                    kind, port, meetings[i : i + per], run_dir / f"{name}-{i // per}.json"
                )
                proc = await asyncio.create_subprocess_exec(
                    self.node,
                    str(LOADGEN),
                    str(config),
                    cwd=BENCH_DIR,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=loadgen_log,
                )
                procs.append(proc)
                started.append(proc)
            timeout = self.connect_timeout(len(meetings)) + 30
            return list(
                await asyncio.wait_for(
                    asyncio.gather(*(self.read_line(p, "READY") for p in started)), timeout
                )
            )

        try:
            await asyncio.sleep(1.0)
            result.rss_start_kib = rss_kib(server.pid)
            readies = await open_meetings(chosen[0], "warmup")
            await asyncio.sleep(self.args.idle_settle)
            result.rss_base_kib = rss_kib(server.pid)
            readies = await open_meetings(chosen[1], "idle")
            result.clients = sum(r["clients"] for r in readies)
            result.synced = sum(r["synced"] for r in readies)
            cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
            await asyncio.sleep(self.args.idle_settle)
            result.rss_open_kib = rss_kib(server.pid)
            result.settle_s = time.monotonic() - t0
            result.idle_cpu_cores = (cpu_seconds(server.pid) - cpu0) / result.settle_s
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(b"QUIT\n")
                await proc.stdin.drain()
            summaries = await asyncio.wait_for(
                asyncio.gather(*(self.read_line(p, "IDLE") for p in procs)), 30
            )
            # The warm-up meetings were open all along: their disconnects count too.
            result.disconnects = sum(s.get("disconnects", 0) for s in summaries)
        except Exception as exc:  # reported, not fatal to the benchmark
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            for proc in procs:
                if proc.returncode is None:
                    if proc.stdin is not None:
                        proc.stdin.close()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(proc.wait(), 5)
                await stop_process(proc, 2)
            await stop_process(server)
            self.drop_run_database()
            server_log.close()
            loadgen_log.close()
        text = (run_dir / "server.log").read_text(errors="replace")
        result.server_errors = sum(
            1
            for line in text.splitlines()
            if " ERROR " in line or line.startswith(("Traceback", "Error"))
        )
        if kind == "ours" and not self.args.keep:
            shutil.rmtree(run_dir / "data", ignore_errors=True)
        return result

    @staticmethod
    def summarise(
        result: RunResult,
        outcomes: list[dict[str, Any]],
        server_cpu: float,
        window: float,
        host0: tuple[int, int],
        host1: tuple[int, int],
    ) -> None:
        latencies = sorted(v for o in outcomes for v in o.get("latencies_ms", []))
        errors = [o["error"] for o in outcomes if o.get("error")]
        if errors:
            result.error = errors[0][:300]
        result.sent = sum(o.get("sent", 0) for o in outcomes)
        result.received = sum(o.get("received", 0) for o in outcomes)
        result.lost = result.sent - result.received
        result.disconnects = sum(o.get("disconnects", 0) for o in outcomes)
        result.p50_ms = percentile(latencies, 50)
        result.p99_ms = percentile(latencies, 99)
        result.max_ms = latencies[-1] if latencies else math.nan
        result.window_s = window
        result.server_cpu_s = server_cpu
        if result.received:
            result.cpu_us_per_edit = server_cpu / result.received * 1e6
        if result.meetings:
            result.kib_per_meeting_ready = (
                result.rss_ready_kib - result.rss_idle_kib
            ) / result.meetings
            grown = result.rss_end_kib - result.rss_idle_kib
            result.kib_per_meeting_end = grown / result.meetings
        cpus = [(o.get("cpu_user_ms", 0) + o.get("cpu_system_ms", 0)) / 1000 for o in outcomes]
        result.loadgen_cpu_s = sum(cpus)
        result.loadgen_max_core = max(cpus) / window if window else 0.0
        result.loadgen_loop_p99_ms = max(o.get("loop_delay_p99_ms", 0) for o in outcomes)
        busy = host1[0] - host0[0]
        total = host1[1] - host0[1]
        result.host_busy = busy / total if total else 0.0
        cores = os.cpu_count() or 1
        if window:
            used = (server_cpu + result.loadgen_cpu_s) / window
            result.other_cores = max(0.0, result.host_busy * cores - used)
        codes: dict[str, int] = {}
        for o in outcomes:
            for code, n in o.get("close_codes", {}).items():
                codes[code] = codes.get(code, 0) + n
        if codes:
            result.notes.append(f"close codes {codes}")

    @staticmethod
    async def read_line(proc: asyncio.subprocess.Process, kind: str) -> dict[str, Any]:
        assert proc.stdout is not None
        while True:
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(f"load generator {proc.pid} exited before {kind}")
            text = line.decode()
            if text.startswith(kind + " "):
                payload = dict(json.loads(text[len(kind) + 1 :]))
                if set(payload) == {"file"}:
                    payload = read_json(Path(payload["file"]))
                return payload


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two small levels, short windows")
    parser.add_argument("--levels", help="comma-separated meeting counts (default by mode)")
    parser.add_argument("--seconds", type=float, help="measured window per level (default 20)")
    parser.add_argument("--warmup", type=float, help="typing before the window (default 5)")
    parser.add_argument("--rate", type=float, default=5.0, help="edits/s per person (5)")
    parser.add_argument(
        "--drain",
        type=float,
        default=3.0,
        help="seconds allowed after the window for the last edits to arrive; later is lost (3)",
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated, from ours,reference,hocuspocus (all three)",
    )
    parser.add_argument(
        "--pair-seconds",
        type=float,
        help="measured window of the lone pair, 1 meeting (default 30; 0: no lone pair)",
    )
    parser.add_argument(
        "--idle-settle",
        type=float,
        help="after typing stops, seconds with the meetings open and idle before memory is read"
        " (default 8: Hocuspocus stores each document 2 s after its last change; 0: none)",
    )
    parser.add_argument(
        "--idle-meetings",
        type=int,
        help="fresh meetings opened, synced and left idle to measure memory per idle open"
        " meeting, on a fresh server per peer after the levels (default 500; --quick 200; 0: none)",
    )
    parser.add_argument(
        "--idle-warmup",
        type=int,
        help="meetings opened first and kept open, so one-time costs are in the baseline"
        " (default 50; --quick 20)",
    )
    parser.add_argument("--per-loadgen", type=int, default=100, help="meetings per Node process")
    parser.add_argument("--max-loadgens", type=int, default=8, help="most Node processes")
    parser.add_argument(
        "--budget-minutes", type=float, default=50.0, help="start no new level past this (50)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each run, wait up to this many seconds for other CPU load to stop (30)",
    )
    parser.add_argument(
        "--noisy-retries",
        type=int,
        default=2,
        help="run a level again (at most this often) when other processes used the CPU (2)",
    )
    parser.add_argument(
        "--stop-after",
        type=int,
        default=2,
        help="stop a server after this many failing levels in a row (2)",
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="run every level for every server"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="what ours stores into: its SQLite file (default), or PostgreSQL (a throwaway"
        " cluster for the benchmark, durable settings, a fresh copy of the seeded database per"
        " run)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    parser.add_argument(
        "--ours-module",
        default="sidecar",
        help="run `python -m MODULE serve` as our server (to A/B a variant; default sidecar)",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample our server with py-spy during each window (implies --keep; skews its CPU)",
    )
    args = parser.parse_args(argv)
    args.keep = args.keep or args.py_spy
    if args.quick:
        default_levels, seconds, warmup, pair, settle = "20,100", 6.0, 2.0, 6.0, 4.0
        idle_meetings, idle_warmup = 200, 20
    else:
        default_levels = "50,100,200,300,400,500,600,700,800,1000"
        seconds, warmup, pair, settle = 20.0, 5.0, 30.0, 8.0
        idle_meetings, idle_warmup = 500, 50
    args.levels = sorted({int(v) for v in (args.levels or default_levels).split(",")})
    args.seconds = args.seconds if args.seconds is not None else seconds
    args.warmup = args.warmup if args.warmup is not None else warmup
    args.pair_seconds = args.pair_seconds if args.pair_seconds is not None else pair
    args.idle_settle = args.idle_settle if args.idle_settle is not None else settle
    args.idle_meetings = args.idle_meetings if args.idle_meetings is not None else idle_meetings
    args.idle_warmup = args.idle_warmup if args.idle_warmup is not None else idle_warmup
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for s in args.servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}; choose from {', '.join(SERVERS)}")
    if not 0 <= args.drain <= 60 or not 1 <= args.seconds <= 600:
        parser.error("--drain: 0 to 60 s; --seconds: 1 to 600 s")
    if not (args.pair_seconds == 0 or 1 <= args.pair_seconds <= 600):
        parser.error("--pair-seconds: 0 (none) or 1 to 600 s")
    if not 0 <= args.idle_settle <= 120:
        parser.error("--idle-settle: 0 to 120 s")
    if not 0 <= args.idle_meetings <= 5000 or not 1 <= args.idle_warmup <= 1000:
        parser.error("--idle-meetings: 0 (none) to 5000; --idle-warmup: 1 to 1000")
    if not 1 <= len(args.levels) <= 20 or min(args.levels) < 1 or max(args.levels) > 5000:
        parser.error("levels: 1 to 20 meeting counts between 1 and 5000")
    return args


async def main_async(args: argparse.Namespace) -> int:
    if shutil.which("node") is None:
        print("node is not on PATH", file=sys.stderr)
        return 2
    needed = ["y-websocket"] + (["@hocuspocus/server"] if "hocuspocus" in args.servers else [])
    if not all((BENCH_DIR / "node_modules" / n).is_dir() for n in needed):
        print("run `npm_config_nodedir=/usr npm ci` in bench/ first", file=sys.stderr)
        return 2
    cluster = None
    if args.database == "postgresql" and "ours" in args.servers:
        sys.path.insert(0, str(REPO_DIR))
        from tests.postgres_cluster import PostgresCluster, why_not

        missing = why_not()
        if missing:
            print(f"--database postgresql: {missing}", file=sys.stderr)
            return 2
        cluster = PostgresCluster(durable=True)
        cluster.start()
        bench_report.LABEL["ours"] = "Mentor Sidecar + PostgreSQL"
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="notes-bench-"))
    try:
        meetings: list[dict[str, Any]] = []
        if "ours" in args.servers:
            t = time.monotonic()
            needed = max(max(args.levels), args.idle_warmup + args.idle_meetings)
            if cluster is not None:
                cluster.execute(f"CREATE DATABASE {SEEDED_DATABASE}")
                meetings = await seed_meetings(cluster.url(SEEDED_DATABASE), needed)
            else:
                meetings = await seed_meetings(work / "template", needed)
            print(
                f"seeded {len(meetings)} meetings in {time.monotonic() - t:.1f} s",
                file=sys.stderr,
            )
        else:
            needed = max(max(args.levels), args.idle_warmup + args.idle_meetings)
            meetings = [{"room": f"bench-{i:05d}", "tokens": None} for i in range(needed)]
        bench = Bench(args, work, meetings, cluster)

        async def measure(kind: str, level: int, phases: Phases) -> RunResult:
            result = await bench.run(kind, level, phases)
            for _ in range(args.noisy_retries):
                if not result.noisy:
                    break
                print(
                    f"{kind} at {level}: other processes used {result.other_cores:.2f} cores;"
                    " running the level again",
                    file=sys.stderr,
                )
                again = await bench.run(kind, level, phases)
                result = min(result, again, key=lambda r: r.other_cores)
            print(
                f"[{time.monotonic() - began:5.0f} s] {kind:10} {level:5} meetings: "
                f"p50 {fmt(result.p50_ms, 2)} ms, p99 {fmt(result.p99_ms, 2)} ms, "
                f"lost {result.lost}, {fmt(result.cpu_us_per_edit)} us/edit"
                f" ({fmt(100 * result.server_sys_s / (result.server_cpu_s or math.nan), 0)}%"
                " kernel), "
                f"after typing {fmt(result.kib_per_meeting_after)} KiB/meeting, "
                f"gen max {100 * result.loadgen_max_core:.0f}%"
                + (f", error: {result.error}" if result.error else ""),
                file=sys.stderr,
                flush=True,
            )
            return result

        pairs: dict[str, RunResult] = {}
        if args.pair_seconds:
            for kind in args.servers:
                pairs[kind] = await measure(kind, 1, bench.pair_phases())
        by_server: dict[str, list[RunResult]] = {s: [] for s in args.servers}
        failed: set[str] = set()
        misses = dict.fromkeys(args.servers, 0)  # consecutive failing levels per server
        for i, level in enumerate(args.levels):
            active = [s for s in args.servers if s not in failed]
            if not active:
                break
            if time.monotonic() - began > args.budget_minutes * 60:
                print(f"time budget reached; not starting {level} meetings", file=sys.stderr)
                break
            turn = i % len(active)
            for kind in active[turn:] + active[:turn]:  # each server goes first in turn
                result = await measure(kind, level, bench.level_phases())
                by_server[kind].append(result)
                misses[kind] = 0 if result.holds else misses[kind] + 1
                if misses[kind] >= args.stop_after and not args.keep_going:
                    failed.add(kind)
        idle: dict[str, IdleResult] = {}
        if args.idle_meetings:
            for kind in args.servers:
                found = await bench.run_idle(kind)
                idle[kind] = found
                print(
                    f"[{time.monotonic() - began:5.0f} s] {kind:10} {found.meetings:5} idle"
                    f" meetings: {fmt(found.kib_per_meeting)} KiB/meeting, synced"
                    f" {found.synced}/{found.clients}"
                    + (f", error: {found.error}" if found.error else ""),
                    file=sys.stderr,
                    flush=True,
                )
        print(report(by_server, pairs, args, idle))
        print(f"\n(total wall time {time.monotonic() - began:.0f} s)")
        if args.json:
            record: dict[str, Any] = {k: [asdict(r) for r in v] for k, v in by_server.items()}
            record["lone_pair"] = {k: asdict(r) for k, r in pairs.items()}
            record["idle_open"] = {
                k: {**asdict(r), "kib_per_meeting": r.kib_per_meeting} for k, r in idle.items()
            }
            args.json.write_text(json.dumps(record, indent=1))
        all_runs = [r for rs in by_server.values() for r in rs] + list(pairs.values())
        return 1 if any(r.error for r in all_runs) or any(r.error for r in idle.values()) else 0
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
        if cluster is not None:
            cluster.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up (servers, load generators) as Ctrl+C does


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
