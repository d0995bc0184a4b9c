"""Soak: many meetings, two people typing in each for minutes; memory, latency, nothing lost.

    python bench/soak.py --meetings 1000 --minutes 10    # the long run (about 15 minutes)
    python bench/soak.py --meetings 300 --minutes 3      # medium (about 7 minutes)

Runs our server as a subprocess (`python -m sidecar serve` on a database seeded through the
service's own repositories, with notes_bench.py's seeding) and drives it with Node load
generators (bench/soak_loadgen.mjs: two real yjs + y-websocket clients per meeting, each typing
--rate keystrokes per second at its own cursor). Every --slice seconds it prints the server's
resident memory, keystroke-to-peer latency over that slice (p50, p99, max), keystrokes typed and
arrived so far, those overdue (on their way for over 5 s), and the CPU of the load generators and
of the server.

Then the unloading check. Typing stops (what is on its way may take --drain seconds to arrive;
later counts as lost), every client closes, and once the rooms' idle time has passed
(MENTOR_SIDECAR_NOTES_ROOM_IDLE_SECONDS, --idle-unload, 5 s) the server's memory is read again.
Fresh waves follow (--fresh-waves, 4), alternating the same meetings again (their grown
documents reload from storage) and as many meetings never opened before, each typing
--wave-seconds, closing and waiting past the idle time.

Memory "stays flat once rooms are unloaded" when the waves of the second round leave it where
the first round did: every unloaded reading after the first three (the soak, one wave of each
kind) is within --tolerance-mib or --tolerance-pct (whichever is larger) of the highest of
those three. The first round sets the allocators' high-water mark (Python and glibc keep freed
memory for reuse rather than returning it), so the start of the run is not the baseline; a leak
adds memory for every room opened, in every wave. See bench/README.md (Soak).
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
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
LOADGEN = BENCH_DIR / "soak_loadgen.mjs"
sys.path.insert(0, str(BENCH_DIR))

from notes_bench import (  # noqa: E402  (the benchmark's seeding and /proc readings)
    cpu_seconds,
    free_port,
    rss_kib,
    seed_meetings,
    stop_process,
    wait_for_port,
)

OVERDUE_MS = 5000


def missing_requirements() -> str | None:
    """Why the soak cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (BENCH_DIR / "node_modules" / "y-websocket").is_dir():
        return "bench/node_modules missing: run `npm ci` in bench/"
    return None


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def percentiles(hist: dict[int, int], *qs: float) -> list[float]:
    """Percentiles from soak_loadgen's histogram (bucket i: up to 0.01 * 1.01^(i+1) ms)."""
    total = sum(hist.values())
    if not total:
        return [math.nan for _ in qs]
    ordered = sorted(hist.items())
    found = []
    for q in qs:
        rank = max(1, math.ceil(q / 100 * total))
        seen = 0
        for index, count in ordered:
            seen += count
            if seen >= rank:
                found.append(round(0.01 * 1.01 ** (index + 1), 3))
                break
    return found


def merge(hists: list[dict[str, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for hist in hists:
        for index, count in hist.items():
            merged[int(index)] = merged.get(int(index), 0) + count
    return merged


# --- the load generators ---------------------------------------------------------------------


class LoadGens:
    """soak_loadgen.mjs processes; each command goes to all, and one reply comes from each."""

    def __init__(self, procs: list[asyncio.subprocess.Process]) -> None:
        self.procs = procs

    @classmethod
    async def start(
        cls,
        meetings: list[dict[str, Any]],
        base: str,
        seconds: float,
        args: argparse.Namespace,
        folder: Path,
        log: IO[bytes],
    ) -> LoadGens:
        count = max(1, min(args.max_loadgens, math.ceil(len(meetings) / args.per_loadgen)))
        node = shutil.which("node") or "node"
        procs = []
        for i in range(count):
            config = folder / f"loadgen-{i}.json"
            config.write_text(
                json.dumps(
                    {
                        "base": base,
                        "rate": args.rate,
                        "meetings": meetings[i::count],
                        "batch": 25,
                        "connectTimeoutMs": int(connect_timeout(len(meetings)) * 1000),
                        "maxSeconds": int(seconds + connect_timeout(len(meetings)) + 300),
                        "overdueMs": OVERDUE_MS,
                        "seed": 7919 * (i + 1) + len(meetings),
                    }
                )
            )
            procs.append(
                await asyncio.create_subprocess_exec(
                    node,
                    str(LOADGEN),
                    str(config),
                    cwd=BENCH_DIR,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log,
                )
            )
        return cls(procs)

    async def send(self, command: str) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{command}\n".encode())
            await proc.stdin.drain()

    async def ask(self, command: str, reply: str, within: float) -> list[dict[str, Any]]:
        if command:
            await self.send(command)
        return await asyncio.wait_for(
            asyncio.gather(*(read_line(p, reply) for p in self.procs)), within
        )

    def cpu(self) -> list[float]:
        return [cpu_seconds(p.pid) if p.returncode is None else 0.0 for p in self.procs]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ask("CLOSE", "CLOSED", 20)
        for proc in self.procs:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
            await stop_process(proc, 2)


async def read_line(proc: asyncio.subprocess.Process, kind: str) -> dict[str, Any]:
    assert proc.stdout is not None
    while True:
        line = await proc.stdout.readline()
        if not line:
            raise RuntimeError(f"load generator {proc.pid} exited before {kind}; see its log")
        text = line.decode()
        if text.startswith(kind + " "):
            return dict(json.loads(text[len(kind) + 1 :]))


def connect_timeout(meetings: int) -> float:
    return 30 + meetings * 0.05


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Slice:
    t_s: float  # since typing started
    rss_mib: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    typed: int  # in the slice
    arrived: int
    typed_total: int
    arrived_total: int
    pending: int
    overdue: int  # on their way for more than 5 s (lost if they never arrive)
    disconnects: int
    loadgen_cores: float  # all load generators together
    loadgen_max_core: float  # the busiest one
    server_cores: float
    loadgen_loop_p99_ms: float
    warmup: bool  # the warm-up slice: shown, not in the wave's latency figures


@dataclass
class Wave:
    name: str
    meetings: int
    seconds: float
    loadgens: int = 0
    clients: int = 0
    synced: int = 0
    connect_s: float = 0.0
    slices: list[Slice] = field(default_factory=list)
    typed: int = 0
    arrived: int = 0
    lost: int = 0
    diverged: int = 0
    duplicates: int = 0
    disconnects: int = 0
    close_codes: dict[str, int] = field(default_factory=dict)
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = 0.0
    worst_slice_p99_ms: float = math.nan
    rss_before_mib: float = 0.0
    rss_synced_mib: float = 0.0
    rss_peak_mib: float = 0.0
    rss_end_typing_mib: float = 0.0
    rss_unloaded_mib: float = 0.0
    text_chars_per_meeting: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return (
            not self.error
            and self.synced == self.clients > 0
            and self.lost == 0
            and self.diverged == 0
            and self.arrived == self.typed > 0
        )


class Soak:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.server: asyncio.subprocess.Process | None = None
        self.port = 0
        self.rss_peak_kib = 0  # over the whole run
        self.wave_peak_kib = 0  # since the current wave started connecting

    def rss(self) -> int:
        assert self.server is not None
        kib = rss_kib(self.server.pid)
        self.rss_peak_kib = max(self.rss_peak_kib, kib)
        self.wave_peak_kib = max(self.wave_peak_kib, kib)
        return kib

    async def start_server(self, data_dir: Path, log: IO[bytes]) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_DIR), env.get("PYTHONPATH")) if p)
        env["MENTOR_SIDECAR_NOTES_ROOM_IDLE_SECONDS"] = str(self.args.idle_unload)
        cmd = [sys.executable, "-m", self.args.module, "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--data-dir", str(data_dir)]
        self.server = await asyncio.create_subprocess_exec(
            *cmd, cwd=REPO_DIR, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
        await wait_for_port(self.port, self.server, within=30)

    async def sample_memory(self) -> None:
        """Read the server's memory every second, for the peaks, until cancelled."""
        while self.server is not None and self.server.returncode is None:
            with contextlib.suppress(OSError):
                self.rss()
            await asyncio.sleep(1.0)

    async def run_wave(
        self, name: str, meetings: list[dict[str, Any]], seconds: float, log: IO[bytes]
    ) -> Wave:
        args = self.args
        assert self.server is not None
        self.wave_peak_kib = 0
        wave = Wave(name, len(meetings), seconds, rss_before_mib=mib(self.rss()))
        folder = self.work / f"wave-{name}"
        folder.mkdir()
        base = f"ws://127.0.0.1:{self.port}/ws/notes"
        began = time.monotonic()
        gens = await LoadGens.start(meetings, base, seconds, args, folder, log)
        wave.loadgens = len(gens.procs)
        try:
            readies = await gens.ask("", "READY", connect_timeout(len(meetings)) + 30)
            wave.clients = sum(r["clients"] for r in readies)
            wave.synced = sum(r["synced"] for r in readies)
            wave.connect_s = round(time.monotonic() - began, 1)
            await asyncio.sleep(0.5)
            wave.rss_synced_mib = mib(self.rss())
            await gens.send("GO")
            start = time.monotonic()
            cpu_gens, cpu_server, last = gens.cpu(), cpu_seconds(self.server.pid), start
            everything: dict[int, int] = {}
            while True:
                elapsed = time.monotonic() - start
                # The first slice is the warm-up: every client starts typing at once, and the
                # generators' own CPU then delays delivery (shown, left out of the figures).
                warming = not wave.slices and args.warmup > 0
                length = min(args.warmup, seconds) if warming else args.slice
                await asyncio.sleep(min(length, seconds - elapsed))
                replies = await gens.ask("SLICE", "SLICE", 60)
                now, gens_now, server_now = (
                    time.monotonic(),
                    gens.cpu(),
                    cpu_seconds(self.server.pid),
                )
                span = max(1e-6, now - last)
                hist = merge([r["hist"] for r in replies])
                if not warming:
                    for index, count in hist.items():
                        everything[index] = everything.get(index, 0) + count
                p50, p99 = percentiles(hist, 50, 99)
                per_gen = [(b - a) / span for a, b in zip(cpu_gens, gens_now, strict=True)]
                piece = Slice(
                    t_s=round(now - start, 1),
                    rss_mib=mib(self.rss()),
                    p50_ms=p50,
                    p99_ms=p99,
                    max_ms=round(max(r["max_ms"] for r in replies), 1),
                    typed=sum(r["typed"] for r in replies),
                    arrived=sum(r["arrived"] for r in replies),
                    typed_total=sum(r["typed_total"] for r in replies),
                    arrived_total=sum(r["arrived_total"] for r in replies),
                    pending=sum(r["pending"] for r in replies),
                    overdue=sum(r["overdue"] for r in replies),
                    disconnects=sum(r["disconnects"] for r in replies),
                    loadgen_cores=round(sum(per_gen), 2),
                    loadgen_max_core=round(max(per_gen), 2),
                    server_cores=round((server_now - cpu_server) / span, 2),
                    loadgen_loop_p99_ms=round(max(r["loop_delay_p99_ms"] for r in replies), 1),
                    warmup=warming,
                )
                wave.slices.append(piece)
                print_slice(name, piece)
                cpu_gens, cpu_server, last = gens_now, server_now, now
                if now - start >= seconds - 0.05:
                    break
            stopped = await gens.ask(
                "STOP " + json.dumps({"drain_ms": int(args.drain * 1000)}),
                "STOPPED",
                args.drain + 60,
            )
            for index, count in merge([r["hist"] for r in stopped]).items():
                everything[index] = everything.get(index, 0) + count
            wave.typed = sum(r["typed_total"] for r in stopped)
            wave.arrived = sum(r["arrived_total"] for r in stopped)
            wave.lost = sum(r["lost"] for r in stopped)
            wave.diverged = sum(r["diverged"] for r in stopped)
            wave.duplicates = sum(r["duplicates"] for r in stopped)
            wave.disconnects = sum(r["disconnects"] for r in stopped)
            for r in stopped:
                for code, n in r["close_codes"].items():
                    wave.close_codes[code] = wave.close_codes.get(code, 0) + n
            wave.p50_ms, wave.p99_ms = percentiles(everything, 50, 99)
            measured = [s for s in wave.slices if not s.warmup]
            wave.max_ms = max([s.max_ms for s in measured] + [r["max_ms"] for r in stopped])
            wave.worst_slice_p99_ms = max(
                (s.p99_ms for s in measured if not math.isnan(s.p99_ms)), default=math.nan
            )
            wave.text_chars_per_meeting = round(
                sum(r["text_chars"] for r in stopped) / max(1, len(meetings))
            )
            wave.rss_end_typing_mib = mib(self.rss())
            wave.rss_peak_mib = mib(self.wave_peak_kib)
        except Exception as exc:  # reported, and the server and generators still stop
            wave.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            await gens.close()
        # Every client has gone: past the rooms' idle time they leave memory.
        await asyncio.sleep(args.idle_unload + args.settle)
        wave.rss_unloaded_mib = mib(self.rss())
        print(
            f"wave {name}: {wave.meetings} meetings, typed {wave.typed}, arrived {wave.arrived},"
            f" lost {wave.lost}, diverged {wave.diverged}, p50 {wave.p50_ms} ms, p99"
            f" {wave.p99_ms} ms; RSS before {wave.rss_before_mib}, synced {wave.rss_synced_mib},"
            f" peak {wave.rss_peak_mib}, end {wave.rss_end_typing_mib}, unloaded"
            f" {wave.rss_unloaded_mib} MiB" + (f"; ERROR {wave.error}" if wave.error else ""),
            flush=True,
        )
        return wave


def print_slice(name: str, s: Slice) -> None:
    print(
        f"[{name} {s.t_s:6.0f} s{' warm-up' if s.warmup else ''}] RSS {s.rss_mib:7.1f} MiB"
        f"  p50 {s.p50_ms:6.2f}  p99"
        f" {s.p99_ms:7.2f}  max {s.max_ms:7.1f} ms  typed {s.typed_total:8}  arrived"
        f" {s.arrived_total:8}  overdue {s.overdue:4}  disc {s.disconnects:3}  gen CPU"
        f" {100 * s.loadgen_cores:4.0f}% (max {100 * s.loadgen_max_core:3.0f}%)  srv CPU"
        f" {100 * s.server_cores:4.0f}%",
        flush=True,
    )


def server_error_lines(log_path: Path) -> list[str]:
    text = log_path.read_text(errors="replace")
    return [
        line
        for line in text.splitlines()
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=1000, help="concurrent meetings (1000)")
    parser.add_argument("--minutes", type=float, default=10.0, help="typing time (10)")
    parser.add_argument("--seconds", type=float, help="typing time in seconds (overrides)")
    parser.add_argument("--rate", type=float, default=5.0, help="keystrokes/s per person (5)")
    parser.add_argument("--slice", type=float, default=10.0, help="seconds per printed slice")
    parser.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="first seconds of each wave's typing, shown but left out of its latency (5)",
    )
    parser.add_argument(
        "--drain", type=float, default=10.0, help="seconds for the last edits to arrive (10)"
    )
    parser.add_argument(
        "--idle-unload",
        type=float,
        default=5.0,
        help="MENTOR_SIDECAR_NOTES_ROOM_IDLE_SECONDS for the server (5)",
    )
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds waited past the idle time (10)"
    )
    parser.add_argument(
        "--fresh-waves",
        type=int,
        default=4,
        help="waves after the soak: the same meetings again, then new ones, alternating (4)",
    )
    parser.add_argument("--wave-seconds", type=float, default=30.0, help="typing per wave (30)")
    parser.add_argument("--tolerance-mib", type=float, default=20.0, help="memory check (20)")
    parser.add_argument("--tolerance-pct", type=float, default=10.0, help="memory check (10)")
    parser.add_argument("--per-loadgen", type=int, default=100, help="meetings per Node process")
    parser.add_argument("--max-loadgens", type=int, default=8, help="most Node processes (8)")
    parser.add_argument(
        "--module", default="sidecar", help="run `python -m MODULE serve` (default sidecar)"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args(argv)
    args.seconds = args.seconds if args.seconds is not None else args.minutes * 60
    if args.meetings < 1 or args.seconds <= 0 or args.slice <= 0 or args.fresh_waves < 0:
        parser.error("--meetings, --seconds (or --minutes) and --slice must be positive")
    return args


async def main_async(args: argparse.Namespace) -> int:
    missing = missing_requirements()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="notes-soak-"))
    soak = Soak(args, work)
    load_start = os.getloadavg()
    new_waves = (args.fresh_waves + 1) // 2
    t = time.monotonic()
    meetings = await seed_meetings(work / "data", args.meetings * (1 + new_waves))
    print(
        f"soak: {args.meetings} meetings x 2 people x {args.rate:g} keystrokes/s for"
        f" {args.seconds:g} s; rooms unload after {args.idle_unload:g} s idle; seeded"
        f" {len(meetings)} meetings in {time.monotonic() - t:.1f} s; load average"
        f" {load_start[0]:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    log_path = work / "server.log"
    waves: list[Wave] = []
    rss_start = 0.0
    exit_code = None
    sampler: asyncio.Task[None] | None = None
    with log_path.open("wb") as log, (work / "loadgen.log").open("wb") as gen_log:
        try:
            await soak.start_server(work / "data", log)
            sampler = asyncio.create_task(soak.sample_memory())
            await asyncio.sleep(1.0)  # settle, then the idle baseline
            rss_start = mib(soak.rss())
            soaked = meetings[: args.meetings]
            waves.append(await soak.run_wave("soak", soaked, args.seconds, gen_log))
            for i in range(args.fresh_waves):
                if i % 2 == 0:
                    name, chosen = f"same-{i + 1}", soaked
                else:
                    first = args.meetings * (1 + i // 2)
                    name, chosen = f"new-{i + 1}", meetings[first : first + args.meetings]
                waves.append(await soak.run_wave(name, chosen, args.wave_seconds, gen_log))
        finally:
            if sampler is not None:
                sampler.cancel()
            if soak.server is not None:
                await stop_process(soak.server, 30)
                exit_code = soak.server.returncode
    errors = server_error_lines(log_path)
    if not waves:
        print(f"the soak did not run; server log: {log_path}", file=sys.stderr)
        return 1
    first = waves[0]
    unloaded = [w.rss_unloaded_mib for w in waves]
    # The first round (the soak and one wave of each kind) sets the high-water mark; the later
    # waves must not raise it. With fewer waves, the last is compared with those before it.
    first_round = 3 if len(waves) >= 5 else max(1, len(waves) - 1)
    reference = max(unloaded[:first_round])
    later = unloaded[first_round:]
    tolerance = max(args.tolerance_mib, args.tolerance_pct / 100 * reference)
    growth = max(later) - reference if later else math.nan
    flat = growth <= tolerance if later else None  # None: not checked (no fresh waves)
    opened = sum(w.meetings for w in waves[first_round:])
    ok = all(w.ok for w in waves) and flat is not False and not errors and exit_code == 0
    elapsed = time.monotonic() - began
    print()
    print(
        f"server RSS: start {rss_start} MiB, all synced {first.rss_synced_mib}, peak"
        f" {mib(soak.rss_peak_kib)}, end of typing {first.rss_end_typing_mib},"
        f" rooms unloaded {first.rss_unloaded_mib}"
    )
    print(
        "after each wave, rooms unloaded: "
        + ", ".join(f"{w.name} {w.rss_unloaded_mib}" for w in waves)
        + (
            f" MiB; later waves vs the first round's {reference} MiB: {growth:+.1f} MiB"
            f" ({1024 * growth / max(1, opened):+.1f} KiB per meeting opened), tolerance"
            f" {tolerance:.1f} MiB: {'flat' if flat else 'NOT FLAT'}"
            if later
            else " MiB; not checked (needs --fresh-waves 1 or more)"
        )
    )
    print(
        f"soak: p50 {first.p50_ms} ms, p99 {first.p99_ms} ms (worst slice p99"
        f" {first.worst_slice_p99_ms} ms), max {first.max_ms} ms; typed {first.typed}, arrived"
        f" {first.arrived}, lost {first.lost} (all waves: {sum(w.lost for w in waves)}),"
        f" diverged {sum(w.diverged for w in waves)}, disconnects"
        f" {sum(w.disconnects for w in waves)}; server log errors {len(errors)}; clean stop:"
        f" {'yes' if exit_code == 0 else f'NO ({exit_code})'}"
    )
    load_end = os.getloadavg()
    print(
        f"(wall time {elapsed:.0f} s; load average {load_start[0]:.2f} at start, {load_end[0]:.2f}"
        f" at end) => {'ok' if ok else 'FAILED'}"
    )
    record = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "rss_start_mib": rss_start,
        "rss_peak_mib": mib(soak.rss_peak_kib),
        "rss_end_mib": first.rss_end_typing_mib,
        "rss_unloaded_mib": unloaded,
        "memory_reference_mib": reference,
        "memory_growth_mib": round(growth, 1),
        "memory_tolerance_mib": round(tolerance, 1),
        "memory_flat": flat,
        "lost": sum(w.lost for w in waves),
        "server_errors": errors[:20],
        "server_exit": exit_code,
        "load_average": {"start": load_start, "end": load_end},
        "seconds": round(elapsed, 1),
        "ok": ok,
        "waves": [{**asdict(w), "ok": w.ok} for w in waves],
    }
    if args.json:
        args.json.write_text(json.dumps(record, indent=1))
    if args.keep or not ok:
        print(f"work folder kept: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up (server, load generators) as Ctrl+C does


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
