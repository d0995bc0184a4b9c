"""Where the memory of an idle open meeting goes: the service in this process, real clients.

    python bench/idle_memory.py                      # 300 meetings: RSS and objects per meeting
    python bench/idle_memory.py --tracemalloc        # and Python's allocations, by line
    python bench/idle_memory.py --fast-path off      # the public aiohttp path

Runs the real app (`create_app`, aiohttp's AppRunner on uvloop, as `sidecar serve` does) in this
process on a seeded database, and opens meetings from `bench/loadgen.mjs` in `idleOnly` mode
(two real yjs + y-websocket clients per meeting, both synced, presence set, nobody typing) in
Node processes, so the clients' memory is not ours. First `--warmup` meetings are opened and
kept open (one-time costs go into the baseline), then `--meetings` fresh ones; after each, a
settle and `gc.collect()`. It prints, per meeting: RSS, live objects by type, and with
`--tracemalloc` Python's allocations grouped by source line and by file. RSS counts what
tracemalloc cannot see: pycrdt's Rust documents, uvloop's and OpenSSL's C buffers, malloc's
overhead. Findings: bench/README.md, "Memory per idle open meeting".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from notes_bench import LOADGEN, free_port, seed_meetings  # noqa: E402


def rss_kib() -> int:
    """This process's resident memory (not its children's: the Node clients are those)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def object_counts() -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        counts[f"{kind.__module__}.{kind.__qualname__}"] += 1
    return counts


async def open_meetings(
    port: int, meetings: list[dict[str, Any]], work: Path, name: str, per: int
) -> list[asyncio.subprocess.Process]:
    procs = []
    for i in range(0, len(meetings), per):
        config = work / f"{name}-{i // per}.json"
        config.write_text(
            json.dumps(
                {
                    "base": f"ws://127.0.0.1:{port}/ws/notes",
                    "protocol": "y-websocket",
                    "idleOnly": True,
                    "meetings": meetings[i : i + per],
                    "batch": 25,
                    "connectTimeoutMs": 120_000,
                    "maxSeconds": 900,
                    "seed": i + 1,
                }
            )
        )
        procs.append(
            await asyncio.create_subprocess_exec(
                shutil.which("node") or "node",
                str(LOADGEN),
                str(config),
                cwd=BENCH_DIR,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        while True:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise RuntimeError("a load generator exited before READY")
            if line.startswith("READY "):
                ready = json.loads(line[6:])
                if ready["synced"] != ready["clients"]:
                    raise RuntimeError(f"not every client synced: {ready}")
                break
    return procs


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)
    gc.collect()


def top_lines(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, key: str, n: int, per: int
) -> list[str]:
    stats = after.compare_to(before, key)
    total = sum(s.size_diff for s in stats)
    out = [f"Python allocations by {key}: {total / per / 1024:.1f} KiB per meeting in all"]
    for stat in stats[:n]:
        if stat.size_diff <= 0:
            continue
        frame = stat.traceback[0]
        where = f"{frame.filename}:{frame.lineno}" if key == "lineno" else frame.filename
        where = where.replace(str(BENCH_DIR.parent) + "/", "").split("site-packages/")[-1]
        out.append(
            f"  {stat.size_diff / per / 1024:7.2f} KiB {stat.count_diff / per:7.1f} blocks  {where}"
        )
    return out


async def main_async(args: argparse.Namespace) -> None:
    from aiohttp import web

    from sidecar.app import create_app
    from sidecar.settings import Settings
    from sidecar.web.access_log import AccessLogger

    work = Path(tempfile.mkdtemp(prefix="idle-memory-"))
    procs: list[asyncio.subprocess.Process] = []
    try:
        meetings = await seed_meetings(work / "data", args.warmup + args.meetings)
        settings = Settings(data_dir=work / "data", notes_fast_path=args.fast_path)
        app = create_app(settings)
        runner = web.AppRunner(app, access_log_class=AccessLogger)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await settle(1)
        rss_start = rss_kib()
        procs += await open_meetings(port, meetings[: args.warmup], work, "warmup", args.per)
        await settle(args.settle)
        if args.tracemalloc:
            tracemalloc.start(args.frames)
        rss_base, objects_base = rss_kib(), object_counts()
        snap_base = tracemalloc.take_snapshot() if args.tracemalloc else None
        t0 = time.monotonic()
        fresh = meetings[args.warmup :]
        procs += await open_meetings(port, fresh, work, "idle", args.per)
        opened = time.monotonic() - t0
        await settle(args.settle)
        rss_open, objects_open = rss_kib(), object_counts()
        snap_open = tracemalloc.take_snapshot() if args.tracemalloc else None
        n = args.meetings
        print(
            f"{n} idle open meetings (2 clients each, synced, nobody typing) after {args.warmup}"
            f" warm-up ones; fast path {args.fast_path}; opened in {opened:.1f} s"
        )
        print(
            f"RSS: start {rss_start / 1024:.1f} MiB, baseline {rss_base / 1024:.1f} MiB, open"
            f" {rss_open / 1024:.1f} MiB: {(rss_open - rss_base) / n:.1f} KiB per meeting"
            + (" (tracemalloc on: its own bookkeeping inflates RSS)" if args.tracemalloc else "")
        )
        grown = {k: objects_open[k] - objects_base.get(k, 0) for k in objects_open}
        ranked = sorted(grown.items(), key=lambda kv: -kv[1])
        print(f"live objects per meeting (gc-tracked): {sum(grown.values()) / n:.1f}")
        for kind, count in ranked[: args.top]:
            if count / n >= 0.5:
                print(f"  {count / n:7.1f}  {kind}")
        if snap_base is not None and snap_open is not None:
            filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
            snap_base = snap_base.filter_traces(filters)
            snap_open = snap_open.filter_traces(filters)
            for key in ("lineno", "filename"):
                print("\n".join(top_lines(snap_base, snap_open, key, args.top, n)))
            if args.tracebacks:
                stats = snap_open.compare_to(snap_base, "traceback")
                for stat in stats[: args.tracebacks]:
                    print(f"-- {stat.size_diff / n / 1024:.2f} KiB per meeting")
                    for line in stat.traceback.format(limit=args.frames):
                        print("   " + line)
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"QUIT\n")
            await proc.stdin.drain()
        await asyncio.gather(*(p.wait() for p in procs))
        procs = []
        await runner.cleanup()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=300, help="fresh meetings measured (300)")
    parser.add_argument("--warmup", type=int, default=30, help="meetings opened first (30)")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds before reading (4)")
    parser.add_argument("--per", type=int, default=100, help="meetings per Node process (100)")
    parser.add_argument("--fast-path", default="auto", choices=("auto", "off"))
    parser.add_argument("--tracemalloc", action="store_true", help="Python allocations by line")
    parser.add_argument("--frames", type=int, default=1, help="tracemalloc frames kept (1)")
    parser.add_argument("--tracebacks", type=int, default=0, help="print the N largest stacks")
    parser.add_argument("--top", type=int, default=25, help="rows per listing (25)")
    parser.add_argument("--loop", default="uvloop", choices=("uvloop", "asyncio"))
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main_async(args))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
