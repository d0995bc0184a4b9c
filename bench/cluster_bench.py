"""Live notes on several instances: one instance against two sharing Redis and PostgreSQL.

    python bench/cluster_bench.py --quick       # a minute or two: small levels, short windows
    python bench/cluster_bench.py               # levels up to 600 meetings (README, "Several
                                                # instances"; 20-30 minutes)
    python bench/cluster_bench.py --levels 100,300 --seconds 20
    python bench/cluster_bench.py --designs streams --modes 2 --levels 10 --seconds 5

The pieces are scripts/cluster's (scripts/cluster_parts.py): a PostgreSQL cluster with its
durable defaults (fsync and synchronous commits on), Debian's redis-server, and instances of
`python -m sidecar serve` with MENTOR_SIDECAR_DATABASE_URL and MENTOR_SIDECAR_REDIS_URL. The
load is bench/notes_bench.py's: real yjs clients from bench/loadgen.mjs, two people per meeting,
each typing 5 edits a second. Per level (a number of concurrent meetings) it runs, on a fresh
copy of the seeded database and a fresh Redis:

- "1 instance": both people of every meeting on instance A (Redis relay on, as in a cluster);
- "2 instances": every meeting's mentor on A and its mentee on B, so every keystroke crosses
  from one instance to the other through PostgreSQL's commit and Redis (the worst case: a proxy
  would often put a pair on one instance).

For each it prints keystroke-to-peer p50/p99 (for two instances: the cross-instance latency),
whether the level is held (p99 <= 50 ms, nothing lost), and CPU per relayed edit of each
instance, of Redis and of PostgreSQL (the cluster's processes), in microseconds. The load
generators share the machine: see bench/README.md for what that does to the figures.

Each mode runs for each design of `--designs` (default pubsub,streams, taking turns going
first):

- "pubsub": ours (`python -m sidecar serve`): each update committed to PostgreSQL, then
  published on the meeting's Redis channel, relayed by every instance subscribed to it;
- "streams": y-redis's way, as a prototype on our rooms (bench/streams_relay/, `python -m
  streams_relay serve`, plus its worker process, `python -m streams_relay worker`): each update
  appended to the meeting's Redis stream (relayed once Redis acknowledged it), read by every
  instance with the meeting open (XREAD BLOCK), moved to PostgreSQL by the worker later;
- "streams-aof": the same with Redis's append-only file on and `appendfsync always` (each write
  on disk before Redis answers: durable before it is relayed, as our commit is). The other two
  run Redis without persistence, as our layout does (y-redis's compose file runs Redis's
  defaults: RDB snapshots, no AOF).

For each it also prints Redis's memory per meeting at the end of the window (INFO memory
`used_memory`, less what Redis used once the instances were up, before any meeting opened), and
at the end the ratios streams / pubsub of each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path[:0] = [str(BENCH_DIR), str(REPO_DIR / "scripts"), str(REPO_DIR)]

import notes_bench  # noqa: E402
from bench_report import RunResult, fmt  # noqa: E402
from cluster_parts import Instance, Postgres, Redis, why_not  # noqa: E402
from notes_bench import Bench, cpu_seconds, host_ticks  # noqa: E402

SEEDED = "bench_seeded"
MODES = {"1 instance": 1, "2 instances": 2}
DESIGNS = ("pubsub", "streams", "streams-aof")
DEFAULT_DESIGNS = "pubsub,streams"
# The module each design's instances run (from bench/ for the streams prototype).
DESIGN_MODULE = {"pubsub": "sidecar", "streams": "streams_relay", "streams-aof": "streams_relay"}
PARTS = ("a", "b", "worker", "redis", "postgres")


@dataclass
class ClusterRun:
    mode: str
    result: RunResult
    design: str = "pubsub"
    cpu_s: dict[str, float] = field(default_factory=dict)  # per process: a, b, worker, redis...
    redis_bytes: int = 0  # used_memory at the end of the window, less the fresh server's
    stream_entries: int = 0  # entries in the meetings' streams then (streams design)
    stored_meetings: int = 0  # meetings with notes in PostgreSQL then
    stream_bytes: int = 0  # MEMORY USAGE of those streams, summed

    def us_per_edit(self, part: str) -> float:
        received = self.result.received
        return self.cpu_s[part] / received * 1e6 if received and part in self.cpu_s else math.nan

    def total_us_per_edit(self) -> float:
        received = self.result.received
        return sum(self.cpu_s.values()) / received * 1e6 if received else math.nan

    @property
    def redis_kib_per_meeting(self) -> float:
        meetings = self.result.meetings
        return self.redis_bytes / 1024 / meetings if meetings and self.redis_bytes else math.nan

    def bytes_per_entry(self) -> float:
        """What the streams hold per entry (their MEMORY USAGE / their entries)."""
        entries = self.stream_entries
        return self.stream_bytes / entries if entries and self.stream_bytes else math.nan

    def steady_kib_per_meeting(self, edits_per_second: float = 10.0) -> float:
        """Streams: Redis per meeting once each stream holds all y-redis keeps (its minimum
        lifetime, plus a debounce before the worker trims again), the entries still missing at
        the window's end counted at `bytes_per_entry`; the window is shorter than that."""
        meetings = self.result.meetings
        per_entry = self.bytes_per_entry()
        if not self.stream_entries or not meetings or not math.isfinite(per_entry):
            return math.nan
        from streams_relay import MIN_MESSAGE_LIFETIME_MS, TASK_DEBOUNCE_MS

        kept = edits_per_second * (MIN_MESSAGE_LIFETIME_MS + TASK_DEBOUNCE_MS) / 1000 * meetings
        missing = max(0.0, kept - self.stream_entries)
        return (self.redis_bytes + missing * per_entry) / 1024 / meetings

    def record(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "mode": self.mode,
            "meetings": self.result.meetings,
            "p50_ms": self.result.p50_ms,
            "p99_ms": self.result.p99_ms,
            "sent": self.result.sent,
            "received": self.result.received,
            "lost": self.result.lost,
            "held": self.result.holds,
            "host_busy": self.result.host_busy,
            "us_per_edit": {part: self.us_per_edit(part) for part in self.cpu_s},
            "total_us_per_edit": self.total_us_per_edit(),
            "redis_bytes": self.redis_bytes,
            "redis_kib_per_meeting": self.redis_kib_per_meeting,
            "stream_entries": self.stream_entries,
            "stored_meetings": self.stored_meetings,
            "bytes_per_entry": self.bytes_per_entry(),
            "steady_kib_per_meeting": self.steady_kib_per_meeting(),
            "server_errors": self.result.server_errors,
            "error": self.result.error,
        }


class ClusterBench:
    def __init__(self, args: argparse.Namespace, work: Path, postgres: Postgres) -> None:
        self.args = args
        self.work = work
        self.postgres = postgres
        self.meetings: list[dict[str, Any]] = []
        self.runs = 0
        self.node = shutil.which("node") or "node"

    async def seed(self, count: int) -> None:
        self.postgres.cluster.execute(f"CREATE DATABASE {SEEDED}")
        self.meetings = await notes_bench.seed_meetings(self.postgres.cluster.url(SEEDED), count)

    def loadgen_configs(self, bases: list[str], count: int, run_dir: Path) -> list[Path]:
        procs = max(1, min(self.args.max_loadgens, math.ceil(count / self.args.per_loadgen)))
        budget = 30 + count * 0.05 + self.args.warmup + self.args.seconds + self.args.drain + 60
        configs = []
        for i in range(procs):
            path = run_dir / f"loadgen-{i}.json"
            config = {
                "base": bases[0],
                "bases": bases,
                "protocol": "y-websocket",
                "rate": self.args.rate,
                "meetings": self.meetings[:count][i::procs],
                "batch": 25,
                "connectTimeoutMs": int((30 + count * 0.05) * 1000),
                "maxSeconds": int(budget),
                "seed": 1000 * count + i + 1,
                "resultPath": str(run_dir / f"result-{i}.json"),
            }
            path.write_text(json.dumps(config))
            configs.append(path)
        return configs

    async def run(self, design: str, mode: str, count: int) -> ClusterRun:
        self.runs += 1
        run_dir = self.work / f"run-{self.runs:02d}-{design}-{MODES[mode]}-{count}"
        run_dir.mkdir()
        database = f"run_{self.runs:02d}"
        self.postgres.cluster.execute(
            f"CREATE DATABASE {database} TEMPLATE {SEEDED} STRATEGY FILE_COPY"
        )
        redis = Redis(run_dir / "redis")
        instances: list[Instance] = []
        loadgens: list[asyncio.subprocess.Process] = []
        worker: asyncio.subprocess.Process | None = None
        run = ClusterRun(mode, RunResult(server=mode, meetings=count, loadgens=0), design)
        try:
            await asyncio.to_thread(redis.start)
            if design == "streams-aof":
                await append_only(redis.url)
            env = {
                "MENTOR_SIDECAR_DATABASE_URL": self.postgres.cluster.url(database),
                "MENTOR_SIDECAR_REDIS_URL": redis.url,
            }
            if design != "pubsub":  # the prototype's package is in bench/
                path = os.environ.get("PYTHONPATH")
                paths = [str(BENCH_DIR), str(REPO_DIR), *([path] if path else [])]
                env["PYTHONPATH"] = os.pathsep.join(paths)
            for name in "ab"[: MODES[mode]]:
                folder = run_dir / f"instance-{name}"
                instance = Instance(name, folder, dict(env), module=DESIGN_MODULE[design])
                instances.append(instance)
                await asyncio.to_thread(instance.start)
            if design != "pubsub":  # after the first instance has migrated the database
                with (run_dir / "worker.log").open("wb") as worker_log:
                    worker = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "streams_relay", "worker",
                        cwd=REPO_DIR, env={**os.environ, **env},
                        stdin=asyncio.subprocess.DEVNULL, stdout=worker_log, stderr=worker_log,
                    )  # fmt: skip
                await wait_for_worker(worker, run_dir / "worker.log")
            # Redis before any meeting opens (its clients connected): what meetings add is theirs.
            redis_base = await redis_used_memory(redis.url)
            urls = [i.origin.replace("http://", "ws://") + "/ws/notes" for i in instances]
            bases = [urls[0], urls[-1]]  # one instance: both people on it
            configs = self.loadgen_configs(bases, count, run_dir)
            run.result.loadgens = len(configs)
            with (run_dir / "loadgen.log").open("wb") as loadgen_log:
                for config in configs:
                    loadgens.append(
                        await asyncio.create_subprocess_exec(
                            self.node,
                            str(notes_bench.LOADGEN),
                            str(config),
                            cwd=BENCH_DIR,
                            stdin=asyncio.subprocess.PIPE,
                            stdout=asyncio.subprocess.PIPE,
                            stderr=loadgen_log,
                            limit=64 * 1024 * 1024,
                        )
                    )
                await self.measure(
                    database, run, instances, redis, worker, loadgens, count, redis_base
                )
        except Exception as exc:  # a level that breaks is reported, not fatal to the benchmark
            run.result.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            for p in loadgens:
                await notes_bench.stop_process(p, 2)
            for instance in instances:
                await asyncio.to_thread(instance.stop)
            if worker is not None:
                await notes_bench.stop_process(worker, 10)
            await asyncio.to_thread(redis.stop)
            self.postgres.cluster.drop(database)
        run.result.server_errors = sum(
            line.startswith("Traceback") or " ERROR " in line
            for instance in instances
            for line in instance.log_tail(10**9).splitlines()
        )
        worker_log_path = run_dir / "worker.log"
        if worker_log_path.exists():
            run.result.server_errors += sum(
                line.startswith("Traceback") or " ERROR " in line
                for line in worker_log_path.read_text(errors="replace").splitlines()
            )
        return run

    async def measure(
        self,
        database: str,
        run: ClusterRun,
        instances: list[Instance],
        redis: Redis,
        worker: asyncio.subprocess.Process | None,
        loadgens: list[asyncio.subprocess.Process],
        count: int,
        redis_base: int,
    ) -> None:
        readies = await asyncio.wait_for(
            asyncio.gather(*(Bench.read_line(p, "READY") for p in loadgens)), 60 + count * 0.05
        )
        run.result.clients = sum(r["clients"] for r in readies)
        run.result.connected = sum(r["synced"] for r in readies)
        start = time.time() * 1000 + 200
        measure_from = start + self.args.warmup * 1000
        measure_to = measure_from + self.args.seconds * 1000
        go = {"measure_from": measure_from, "measure_to": measure_to,
              "drain_ms": int(self.args.drain * 1000)}  # fmt: skip
        for p in loadgens:
            assert p.stdin is not None
            p.stdin.write(f"GO {json.dumps(go)}\n".encode())
            await p.stdin.drain()
        results = asyncio.gather(*(Bench.read_line(p, "RESULT") for p in loadgens))

        pids = {i.name: i.process.pid for i in instances if i.process is not None}
        if worker is not None:
            pids["worker"] = worker.pid
        if redis.process is not None:
            pids["redis"] = redis.process.pid
        if self.postgres.pid is not None:
            pids["postgres"] = self.postgres.pid

        def cpu() -> dict[str, float]:
            return {part: cpu_seconds(pid) for part, pid in pids.items()}

        await asyncio.sleep(max(0.0, measure_from / 1000 - time.time()))
        cpu0, host0, t0 = cpu(), host_ticks(), time.monotonic()
        await asyncio.sleep(max(0.0, measure_to / 1000 - time.time()))
        cpu1, host1, t1 = cpu(), host_ticks(), time.monotonic()
        run.redis_bytes = max(0, await redis_used_memory(redis.url) - redis_base)
        run.stream_entries, run.stream_bytes = await stream_entries(redis.url)
        run.stored_meetings = await stored_meetings(self.postgres.cluster.url(database))
        outcomes = await asyncio.wait_for(results, self.args.drain + 30)
        run.cpu_s = {part: cpu1[part] - cpu0[part] for part in pids}
        servers = sum(v for part, v in run.cpu_s.items() if part in ("a", "b"))
        Bench.summarise(run.result, outcomes, servers, t1 - t0, host0, host1)


async def wait_for_worker(worker: asyncio.subprocess.Process, log: Path) -> None:
    """Until the worker says it runs (it logs its settings once connected to Redis)."""

    def text() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    deadline = time.monotonic() + 60
    while "debounce" not in text():
        if worker.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the streams worker did not start: {text()[-500:]}")
        await asyncio.sleep(0.1)


async def stored_meetings(url: str) -> int:
    """Meetings whose notes PostgreSQL holds (the streams design's worker writes them late)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(DISTINCT meeting_id) FROM note_updates"))
    finally:
        await conn.close()


async def append_only(url: str) -> None:
    """Turn Redis's append-only file on, fsynced before every answer, and wait until it is."""
    from redis.asyncio import Redis as RedisClient

    client = RedisClient.from_url(url)
    try:
        await client.config_set("appendfsync", "always")
        await client.config_set("appendonly", "yes")
        deadline = time.monotonic() + 30
        while True:
            info = await client.info("persistence")
            if info.get("aof_enabled") == 1 and not info.get("aof_rewrite_in_progress"):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis did not turn its AOF on: {info}")
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def redis_used_memory(url: str) -> int:
    """INFO memory's used_memory: what Redis holds (data, clients' buffers, its own)."""
    from redis.asyncio import Redis as RedisClient

    client = RedisClient.from_url(url)
    try:
        return int((await client.info("memory"))["used_memory"])
    finally:
        await client.aclose()


async def stream_entries(url: str) -> tuple[int, int]:
    """Entries held in the meetings' streams (the streams design's `y:*`, its worker queue not
    counted), and their memory (MEMORY USAGE, every entry counted); 0 for pub/sub."""
    from redis.asyncio import Redis as RedisClient

    client = RedisClient.from_url(url)
    try:
        pipe = client.pipeline(transaction=False)
        keys = [k async for k in client.scan_iter(match="y:*", count=1000, _type="stream")]
        keys = [k for k in keys if k != b"y:worker"]
        if not keys:
            return 0, 0
        for key in keys:
            pipe.xlen(key)
            pipe.memory_usage(key, samples=0)
        replies = await pipe.execute()
        return sum(replies[0::2]), sum(int(r or 0) for r in replies[1::2])
    finally:
        await client.aclose()


def line_for(run: ClusterRun) -> str:
    r = run.result
    parts = ", ".join(f"{part} {fmt(run.us_per_edit(part))}" for part in PARTS if part in run.cpu_s)
    held = "held" if r.holds else "NOT held"
    entries = (
        f" ({run.stream_entries} stream entries, {fmt(run.bytes_per_entry(), 0)} B each; once "
        f"full, about {fmt(run.steady_kib_per_meeting(), 1)} KiB/meeting)"
        if run.stream_entries
        else ""
    )
    return (
        f"{run.design:7} {run.mode:11} {r.meetings:5} meetings: p50 {fmt(r.p50_ms, 2)} ms, p99 "
        f"{fmt(r.p99_ms, 2)} ms, lost {r.lost}/{r.sent}, {held}; CPU us/edit: {parts}"
        f" (all {fmt(run.total_us_per_edit())}); Redis {fmt(run.redis_kib_per_meeting, 2)} "
        f"KiB/meeting{entries}; notes of {run.stored_meetings}/{r.meetings} meetings in "
        f"PostgreSQL; host {100 * r.host_busy:.0f}% busy"
        + (f"; error: {r.error}" if r.error else "")
    )


def ratio(a: float, b: float) -> str:
    return fmt(a / b, 2) if b and math.isfinite(a) and math.isfinite(b) else "-"


def summary(runs: list[ClusterRun]) -> list[str]:
    lines = ["", "meetings held at p99 <= 50 ms with nothing lost:"]
    for design in dict.fromkeys(r.design for r in runs):
        for mode in MODES:
            mine = [r for r in runs if r.mode == mode and r.design == design]
            if not mine:
                continue
            held = [r.result.meetings for r in mine if r.result.holds]
            lines.append(f"  {design:7} {mode:11} {max(held) if held else 0} (levels run: "
                         f"{', '.join(str(r.result.meetings) for r in mine)})")  # fmt: skip
    pairs = [
        (s, p)
        for s in runs
        if s.design != "pubsub"
        for p in runs
        if p.design == "pubsub" and p.mode == s.mode and p.result.meetings == s.result.meetings
    ]
    if pairs:
        lines += ["", "streams / pubsub (below 1: streams does better):"]
    for s, p in pairs:
        name = f"{s.design}:" if s.design != "streams" else ""
        cpu = ", ".join(
            f"{part} {ratio(s.us_per_edit(part), p.us_per_edit(part))}"
            for part in ("a", "b", "redis", "postgres")
            if part in s.cpu_s and part in p.cpu_s
        )
        lines.append(
            f"  {name}{s.mode:11} {s.result.meetings:5} meetings: p50 "
            f"{ratio(s.result.p50_ms, p.result.p50_ms)}, p99 "
            f"{ratio(s.result.p99_ms, p.result.p99_ms)}; CPU per edit {cpu}, all parts "
            f"{ratio(s.total_us_per_edit(), p.total_us_per_edit())} (the worker's included); "
            f"Redis memory {ratio(s.redis_kib_per_meeting, p.redis_kib_per_meeting)}"
        )
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small levels, short windows")
    parser.add_argument("--levels", help="comma-separated meeting counts")
    parser.add_argument("--seconds", type=float, help="measured window per level (20; quick 5)")
    parser.add_argument("--warmup", type=float, help="typing before the window (5; quick 2)")
    parser.add_argument("--rate", type=float, default=5.0, help="edits/s per person (5)")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds for late edits (3)")
    parser.add_argument("--per-loadgen", type=int, default=100, help="meetings per Node process")
    parser.add_argument("--max-loadgens", type=int, default=8, help="most Node processes")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    parser.add_argument(
        "--designs",
        default=DEFAULT_DESIGNS,
        help="pubsub (ours), streams (y-redis's), streams-aof (with appendfsync always); "
        f"{DEFAULT_DESIGNS}",
    )
    parser.add_argument("--modes", default="1,2", help="instances: 1, 2 or both (1,2)")
    parser.add_argument("--json", type=Path, help="write every run's figures to this file")
    args = parser.parse_args(argv)
    args.designs = [d for d in DESIGNS if d in args.designs.split(",")]
    if not args.designs:
        parser.error(f"--designs: one or more of {', '.join(DESIGNS)}")
    wanted = {int(m) for m in args.modes.split(",")}
    args.modes = [mode for mode, n in MODES.items() if n in wanted]
    if not args.modes:
        parser.error("--modes: 1, 2 or 1,2")
    levels = args.levels or ("10,40" if args.quick else "50,100,200,300,400,500,600")
    args.levels = sorted({int(v) for v in levels.split(",")})
    args.seconds = args.seconds or (5.0 if args.quick else 20.0)
    args.warmup = args.warmup or (2.0 if args.quick else 5.0)
    return args


async def main_async(args: argparse.Namespace) -> int:
    missing = why_not()
    if missing or shutil.which("node") is None:
        print(missing or "node is not on PATH", file=sys.stderr)
        return 2
    if not (BENCH_DIR / "node_modules" / "y-websocket").is_dir():
        print("run `npm ci` in bench/ first", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    postgres = Postgres(durable=True)
    runs: list[ClusterRun] = []
    try:
        await asyncio.to_thread(postgres.cluster.start)
        bench = ClusterBench(args, work, postgres)
        await bench.seed(max(args.levels))
        turn = 0
        for level in args.levels:
            for mode in args.modes:
                # The designs take turns going first (a warmer machine favours neither).
                designs = (
                    args.designs[turn % len(args.designs) :]
                    + args.designs[: turn % len(args.designs)]
                )
                turn += 1
                for design in designs:
                    run = await bench.run(design, mode, level)
                    runs.append(run)
                    print(line_for(run), flush=True)
        print("\n".join(summary(runs)))
        if args.json is not None:
            args.json.write_text(json.dumps([r.record() for r in runs], indent=1))
        return 1 if any(r.result.error for r in runs) else 0
    finally:
        postgres.stop()
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            with contextlib.suppress(OSError):
                shutil.rmtree(work)


def main(argv: list[str] | None = None) -> int:
    os.environ.pop("MENTOR_SIDECAR_DATABASE_URL", None)
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
