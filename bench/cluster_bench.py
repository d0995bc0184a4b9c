"""Live notes on several instances: one instance against two sharing Redis and PostgreSQL.

    python bench/cluster_bench.py --quick       # a minute or two: small levels, short windows
    python bench/cluster_bench.py               # levels up to 600 meetings (README, "Several
                                                # instances"; 20-30 minutes)
    python bench/cluster_bench.py --levels 100,300 --seconds 20

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


@dataclass
class ClusterRun:
    mode: str
    result: RunResult
    cpu_s: dict[str, float] = field(default_factory=dict)  # per process: a, b, redis, postgres

    def us_per_edit(self, part: str) -> float:
        received = self.result.received
        return self.cpu_s[part] / received * 1e6 if received and part in self.cpu_s else math.nan


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

    async def run(self, mode: str, count: int) -> ClusterRun:
        self.runs += 1
        run_dir = self.work / f"run-{self.runs:02d}-{MODES[mode]}-{count}"
        run_dir.mkdir()
        database = f"run_{self.runs:02d}"
        self.postgres.cluster.execute(
            f"CREATE DATABASE {database} TEMPLATE {SEEDED} STRATEGY FILE_COPY"
        )
        redis = Redis(run_dir / "redis")
        instances: list[Instance] = []
        loadgens: list[asyncio.subprocess.Process] = []
        run = ClusterRun(mode, RunResult(server=mode, meetings=count, loadgens=0))
        try:
            await asyncio.to_thread(redis.start)
            env = {
                "MENTOR_SIDECAR_DATABASE_URL": self.postgres.cluster.url(database),
                "MENTOR_SIDECAR_REDIS_URL": redis.url,
            }
            for name in "ab"[: MODES[mode]]:
                instance = Instance(name, run_dir / f"instance-{name}", dict(env))
                instances.append(instance)
                await asyncio.to_thread(instance.start)
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
                await self.measure(run, instances, redis, loadgens, count)
        except Exception as exc:  # a level that breaks is reported, not fatal to the benchmark
            run.result.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            for p in loadgens:
                await notes_bench.stop_process(p, 2)
            for instance in instances:
                await asyncio.to_thread(instance.stop)
            await asyncio.to_thread(redis.stop)
            self.postgres.cluster.drop(database)
        run.result.server_errors = sum(
            line.startswith("Traceback") or " ERROR " in line
            for instance in instances
            for line in instance.log_tail(10**9).splitlines()
        )
        return run

    async def measure(
        self,
        run: ClusterRun,
        instances: list[Instance],
        redis: Redis,
        loadgens: list[asyncio.subprocess.Process],
        count: int,
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
        outcomes = await asyncio.wait_for(results, self.args.drain + 30)
        run.cpu_s = {part: cpu1[part] - cpu0[part] for part in pids}
        servers = sum(v for part, v in run.cpu_s.items() if part in "ab")
        Bench.summarise(run.result, outcomes, servers, t1 - t0, host0, host1)


def line_for(run: ClusterRun) -> str:
    r = run.result
    parts = ", ".join(
        f"{part} {fmt(run.us_per_edit(part))}"
        for part in ("a", "b", "redis", "postgres")
        if part in run.cpu_s
    )
    held = "held" if r.holds else "NOT held"
    return (
        f"{run.mode:11} {r.meetings:5} meetings: p50 {fmt(r.p50_ms, 2)} ms, p99 "
        f"{fmt(r.p99_ms, 2)} ms, lost {r.lost}/{r.sent}, {held}; CPU us/edit: {parts};"
        f" host {100 * r.host_busy:.0f}% busy" + (f"; error: {r.error}" if r.error else "")
    )


def summary(runs: list[ClusterRun]) -> list[str]:
    lines = ["", "meetings held at p99 <= 50 ms with nothing lost:"]
    for mode in MODES:
        mine = [r for r in runs if r.mode == mode]
        held = [r.result.meetings for r in mine if r.result.holds]
        lines.append(f"  {mode:11} {max(held) if held else 0} (levels run: "
                     f"{', '.join(str(r.result.meetings) for r in mine)})")  # fmt: skip
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
    args = parser.parse_args(argv)
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
        for level in args.levels:
            for mode in MODES:
                run = await bench.run(mode, level)
                runs.append(run)
                print(line_for(run), flush=True)
        print("\n".join(summary(runs)))
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
