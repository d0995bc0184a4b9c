"""What notes_bench.py measured per run, and the report it prints: tables, ratios, targets.

Ours is compared with each peer (the reference @y/websocket-server, memory only, and Hocuspocus
with its SQLite extension) and with the better of the two for each figure: the peer holding more
meetings, and at each level the peer with less CPU per relayed edit.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

P99_LIMIT_MS = 50.0
SERVERS = ("ours", "reference", "hocuspocus")
PEERS = ("reference", "hocuspocus")
LABEL = {
    "ours": "Mentor Sidecar",
    "reference": "@y/websocket-server 0.1.1",
    "hocuspocus": "Hocuspocus 3.4.4 + SQLite",
}
# The targets for ours: against the better peer, at rest, and for a lone pair.
TARGET_MEETINGS_RATIO = 1.5  # meetings held: at least this times the better peer's
TARGET_CPU_RATIO = 0.8  # CPU per relayed edit: at most this times the better peer's
TARGET_IDLE_KB = 50.0  # memory per idle open meeting, kB (1,000 bytes)
TARGET_PAIR_P50_MS = 2.0
TARGET_PAIR_P99_MS = 5.0


@dataclass
class RunResult:
    server: str
    meetings: int
    loadgens: int
    clients: int = 0
    connected: int = 0
    sent: int = 0
    received: int = 0
    lost: int = 0
    disconnects: int = 0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    window_s: float = 0.0
    server_cpu_s: float = 0.0
    server_sys_s: float = 0.0  # the kernel's share of server_cpu_s (sockets, epoll, fsync)
    cpu_us_per_edit: float = math.nan
    rss_idle_kib: int = 0
    rss_ready_kib: int = 0
    rss_end_kib: int = 0
    kib_per_meeting_ready: float = math.nan
    kib_per_meeting_end: float = math.nan
    # After typing: typing over and arrived, sockets still open, `idle_settle_s` later. Not what
    # an idle meeting costs (the allocators keep what typing used): see IdleResult for that.
    rss_settled_kib: int = 0
    kib_per_meeting_after: float = math.nan
    idle_settle_s: float = 0.0
    idle_cpu_cores: float = math.nan  # the server's CPU over that settling time
    loadgen_cpu_s: float = 0.0
    loadgen_max_core: float = 0.0  # the busiest load generator, in cores
    loadgen_loop_p99_ms: float = 0.0
    host_busy: float = 0.0  # fraction of all cores busy during the window
    other_cores: float = 0.0  # CPU used by neither the server nor the load generators
    server_errors: int = 0
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return (
            not self.error
            and self.connected == self.clients > 0
            and self.lost == 0
            and self.server_errors == 0
            and self.p99_ms <= P99_LIMIT_MS
        )

    @property
    def generator_bound(self) -> bool:
        return self.loadgen_max_core >= 0.85

    @property
    def host_saturated(self) -> bool:
        return self.host_busy >= 0.90

    @property
    def noisy(self) -> bool:
        return self.other_cores >= 0.15


@dataclass
class IdleResult:
    """Fresh meetings opened on a warmed-up server, both people connected and synced, nobody
    typing: what an idle open meeting costs."""

    server: str
    meetings: int  # opened and measured
    warmup_meetings: int  # opened first and kept open; the baseline is read with them open
    clients: int = 0
    synced: int = 0
    rss_start_kib: int = 0  # the fresh server, before any client
    rss_base_kib: int = 0  # the warm-up meetings open and settled
    rss_open_kib: int = 0  # and the measured meetings open and settled
    settle_s: float = 0.0
    idle_cpu_cores: float = math.nan  # the server's CPU while all of them sat idle
    disconnects: int = 0
    server_errors: int = 0
    error: str = ""

    @property
    def kib_per_meeting(self) -> float:
        if not self.meetings or not self.rss_open_kib or not self.rss_base_kib:
            return math.nan
        return (self.rss_open_kib - self.rss_base_kib) / self.meetings

    @property
    def ok(self) -> bool:
        return (
            not self.error
            and self.synced == self.clients > 0
            and not self.disconnects
            and not self.server_errors
        )


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return "-"
    return f"{a / b:.2f}"


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def flags(r: RunResult) -> list[str]:
    found = []
    if r.error:
        found.append("ERROR")
    if r.generator_bound:
        found.append("generator-bound")
    if r.host_saturated:
        found.append("host-saturated")
    if r.noisy:
        found.append(f"other load {r.other_cores:.2f} cores")
    return found


def table(results: list[RunResult]) -> str:
    head = (
        f"{'meetings':>8} {'gens':>4} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'edits':>7}"
        f" {'lost':>5} {'srv CPU':>7} {'us/edit':>7} {'synced':>7} {'typing':>7} {'after':>7}"
        f" {'idleCPU':>7} {'gen CPU':>7} {'gen max':>7} {'host':>5}  verdict"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        found = flags(r)
        verdict = ("holds" if r.holds else "FAILS") + (f" ({', '.join(found)})" if found else "")
        window = r.window_s or math.nan
        lines.append(
            f"{r.meetings:>8} {r.loadgens:>4} {fmt(r.p50_ms, 2):>7} {fmt(r.p99_ms, 2):>7}"
            f" {fmt(r.max_ms, 1):>7} {r.received:>7} {r.lost:>5}"
            f" {fmt(100 * r.server_cpu_s / window, 0) + '%':>7} {fmt(r.cpu_us_per_edit, 1):>7}"
            f" {fmt(r.kib_per_meeting_ready, 1):>7} {fmt(r.kib_per_meeting_end, 1):>7}"
            f" {fmt(r.kib_per_meeting_after, 1):>7}"
            f" {fmt(100 * r.idle_cpu_cores, 1) + '%':>7}"
            f" {fmt(100 * r.loadgen_cpu_s / window, 0) + '%':>7}"
            f" {fmt(100 * r.loadgen_max_core, 0) + '%':>7}"
            f" {fmt(100 * r.host_busy, 0) + '%':>5}  {verdict}"
        )
        extra = []
        if r.connected != r.clients:
            extra.append(f"only {r.connected}/{r.clients} clients synced")
        if r.disconnects:
            extra.append(f"{r.disconnects} disconnects")
        if r.server_errors:
            extra.append(f"{r.server_errors} error lines in the server log")
        if r.error:
            extra.append(r.error)
        extra += r.notes
        if extra:
            lines.append(" " * 9 + "; ".join(extra))
    return "\n".join(lines)


def held(results: list[RunResult]) -> int:
    """The highest level held with every level below it held too."""
    best = 0
    for r in sorted(results, key=lambda r: r.meetings):
        if not r.holds:
            break
        best = r.meetings
    return best


def held_text(results: list[RunResult], levels: list[int]) -> str:
    """Meetings held, with a `+` when the server held every level there was (a lower bound)."""
    n = held(results)
    return f"{n}+" if n and n == max(levels) else str(n)


def pair_section(pairs: dict[str, RunResult]) -> list[str]:
    out = ["", "== Lone pair: 1 meeting, both people typing, keystroke to the other screen =="]
    head = f"{'server':<28} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'edits':>6} {'lost':>5}"
    out += [head, "-" * len(head)]
    for kind, r in pairs.items():
        note = f"  ({', '.join(flags(r))})" if flags(r) else ""
        note += f"  {r.error}" if r.error else ""
        out.append(
            f"{LABEL[kind]:<28} {fmt(r.p50_ms, 2):>7} {fmt(r.p99_ms, 2):>7} {fmt(r.max_ms, 1):>7}"
            f" {r.received:>6} {r.lost:>5}{note}"
        )
    ours = pairs.get("ours")
    if ours is not None:
        ok50 = ours.p50_ms <= TARGET_PAIR_P50_MS
        ok99 = ours.p99_ms <= TARGET_PAIR_P99_MS and ours.lost == 0 and not ours.error
        out.append(
            f"target for ours: p50 <= {TARGET_PAIR_P50_MS:g} ms {met(ok50)}"
            f" ({fmt(ours.p50_ms, 2)}), p99 <= {TARGET_PAIR_P99_MS:g} ms {met(ok99)}"
            f" ({fmt(ours.p99_ms, 2)})"
        )
    return out


def peer_ratio_section(
    ours: dict[int, RunResult], peer: str, theirs: dict[int, RunResult]
) -> list[str]:
    out = ["", f"== ours / {LABEL[peer]} (below 1.00 is better for latency, CPU and memory) =="]
    head = (
        f"{'meetings':>8} {'p50':>6} {'p99':>6} {'CPU/edit':>9} {'synced':>7} {'typing':>7}"
        f" {'after':>6} {'gen CPU':>8}"
    )
    out += [head, "-" * len(head)]
    for n in sorted(set(ours) & set(theirs)):
        a, b = ours[n], theirs[n]
        gen_a = a.loadgen_cpu_s / a.window_s if a.window_s else math.nan
        gen_b = b.loadgen_cpu_s / b.window_s if b.window_s else math.nan
        out.append(
            f"{n:>8} {ratio(a.p50_ms, b.p50_ms):>6} {ratio(a.p99_ms, b.p99_ms):>6}"
            f" {ratio(a.cpu_us_per_edit, b.cpu_us_per_edit):>9}"
            f" {ratio(a.kib_per_meeting_ready, b.kib_per_meeting_ready):>7}"
            f" {ratio(a.kib_per_meeting_end, b.kib_per_meeting_end):>7}"
            f" {ratio(a.kib_per_meeting_after, b.kib_per_meeting_after):>6}"
            f" {ratio(gen_a, gen_b):>8}"
        )
    return out


def better_cpu_peer(n: int, by_level: dict[str, dict[int, RunResult]]) -> RunResult | None:
    """The peer with the least CPU per edit at `n` meetings among those holding it, if any."""
    runs = [by_level[p][n] for p in PEERS if p in by_level and n in by_level[p]]
    runs = [r for r in runs if not math.isnan(r.cpu_us_per_edit)]
    holding = [r for r in runs if r.holds]
    return min(holding or runs, key=lambda r: r.cpu_us_per_edit, default=None)


def versus_peers(n: int, by_level: dict[str, dict[int, RunResult]], figure: str) -> str:
    """`; reference 80.1 KiB (ours / reference 0.50)` for each peer measured at `n` meetings."""
    ours = getattr(by_level["ours"][n], figure)
    text = ""
    for p in PEERS:
        if n in by_level.get(p, {}):
            theirs = getattr(by_level[p][n], figure)
            text += f"; {p} {fmt(theirs)} KiB (ours / {p} {ratio(ours, theirs)})"
    return text


def targets_section(
    by_server: dict[str, list[RunResult]],
    levels: list[int],
    idle: dict[str, IdleResult] | None = None,
) -> list[str]:
    by_level = {k: {r.meetings: r for r in rs} for k, rs in by_server.items()}
    peers = [p for p in PEERS if p in by_server]
    ours = by_level["ours"]
    out = ["", "== Targets: ours against each peer and the better peer =="]

    held_ours = held(by_server["ours"])
    parts = [f"ours {held_text(by_server['ours'], levels)}"]
    parts += [f"{p} {held_text(by_server[p], levels)}" for p in peers]
    out.append(f"meetings held at p99 <= {P99_LIMIT_MS:g} ms (nothing lost): " + ", ".join(parts))
    if peers:
        line = ", ".join(f"ours / {p} {ratio(held_ours, held(by_server[p]))}" for p in peers)
        best = max(peers, key=lambda p: held(by_server[p]))
        best_held = held(by_server[best])
        ok = held_ours >= TARGET_MEETINGS_RATIO * best_held and held_ours > 0
        versus = ratio(held_ours, best_held) if best_held else "- (no peer held a level)"
        out.append(f"  {line}; ours / better peer ({best}) {versus}")
        out.append(f"  target >= {TARGET_MEETINGS_RATIO:g}x the better peer: {met(ok)}")

        # CPU per edit, level by level, against the peer that used less at that level.
        rows = []
        for n in sorted(ours):
            best_run = better_cpu_peer(n, by_level)
            if best_run is None or not ours[n].holds:
                continue
            r = ours[n].cpu_us_per_edit / best_run.cpu_us_per_edit
            rows.append((n, r, best_run))
        if rows:
            listed = ", ".join(
                f"{n}: {r:.2f} ({b.server}{'' if b.holds else ', which fails it'})"
                for n, r, b in rows
            )
            out.append(
                f"CPU per relayed edit, ours / the better peer at each level ours holds: {listed}"
            )
            fair = [row for row in rows if row[2].holds]
            n, r, b = (fair or rows)[-1]
            good = sum(row[1] <= TARGET_CPU_RATIO for row in rows)
            ours_cpu, peer_cpu = fmt(ours[n].cpu_us_per_edit), fmt(b.cpu_us_per_edit)
            out.append(
                f"  at {n} meetings ({ours_cpu} vs {peer_cpu} us, {b.server}): {r:.2f};"
                f" target <= {TARGET_CPU_RATIO:g}x: {met(r <= TARGET_CPU_RATIO)} there,"
                f" and at {good} of {len(rows)} levels"
            )
        else:
            out.append(
                f"CPU per relayed edit: ours held no level; target <= {TARGET_CPU_RATIO:g}x"
                " not judged"
            )

    # Memory per idle open meeting: the idle phase's fresh meetings (see IdleResult).
    if idle and "ours" in idle:
        mine = idle["ours"]
        kib = mine.kib_per_meeting
        kb = kib * 1.024
        peers_text = "".join(
            f"; {p} {fmt(idle[p].kib_per_meeting)} KiB"
            f" (ours / {p} {ratio(kib, idle[p].kib_per_meeting)})"
            for p in PEERS
            if p in idle
        )
        out.append(
            f"memory per idle open meeting ({mine.meetings} fresh meetings, both people synced,"
            f" nobody typing), ours: {fmt(kib)} KiB ({fmt(kb)} kB); target <= {TARGET_IDLE_KB:g}"
            f" kB: {met(mine.ok and not math.isnan(kb) and kb <= TARGET_IDLE_KB)}" + peers_text
        )
    else:
        out.append(
            f"memory per idle open meeting: not measured (--idle-meetings 0);"
            f" target <= {TARGET_IDLE_KB:g} kB not judged"
        )
    # While typing: the largest level ours holds (small levels are noisy), else the largest run.
    chosen = [n for n in sorted(ours) if ours[n].holds] or sorted(ours)
    if chosen:
        n = chosen[-1]
        out.append(
            f"memory per meeting while typing, ours at {n} meetings:"
            f" {fmt(ours[n].kib_per_meeting_end)} KiB"
            + versus_peers(n, by_level, "kib_per_meeting_end")
        )
    return out


def idle_section(idle: dict[str, IdleResult]) -> list[str]:
    some = next(iter(idle.values()))
    out = [
        "",
        f"== Idle open meetings: {some.meetings} fresh meetings opened after"
        f" {some.warmup_meetings} warm-up ones, both people connected and synced, nobody typing ==",
    ]
    head = (
        f"{'server':<28} {'start MiB':>9} {'base MiB':>9} {'open MiB':>9} {'KiB/mtg':>8}"
        f" {'kB/mtg':>7} {'idleCPU':>7} {'synced':>9}"
    )
    out += [head, "-" * len(head)]
    for kind, r in idle.items():
        problems = []
        if r.disconnects:
            problems.append(f"{r.disconnects} disconnects")
        if r.server_errors:
            problems.append(f"{r.server_errors} error lines in the server log")
        if r.error:
            problems.append(r.error)
        out.append(
            f"{LABEL[kind]:<28} {r.rss_start_kib / 1024:>9.1f} {r.rss_base_kib / 1024:>9.1f}"
            f" {r.rss_open_kib / 1024:>9.1f} {fmt(r.kib_per_meeting):>8}"
            f" {fmt(r.kib_per_meeting * 1.024):>7} {fmt(100 * r.idle_cpu_cores, 1) + '%':>7}"
            f" {f'{r.synced}/{r.clients}':>9}" + (f"  {'; '.join(problems)}" if problems else "")
        )
    return out


def report(
    by_server: dict[str, list[RunResult]],
    pairs: dict[str, RunResult],
    args: Any,
    idle: dict[str, IdleResult] | None = None,
) -> str:
    cores = os.cpu_count() or 1
    out = [
        f"Live-notes benchmark: {args.rate:g} edits/s per person, 2 people per meeting, "
        f"warm-up {args.warmup:g} s, measured {args.seconds:g} s per level (lone pair "
        f"{args.pair_seconds:g} s), memory read again {args.idle_settle:g} s after typing "
        f"stops and with {args.idle_meetings} fresh idle open meetings; {cores} cores shared by "
        "the server and the load generators; loopback.",
        "Columns: latency keystroke->peer; edits = relayed edits measured; srv CPU = server CPU "
        "in cores over the window; us/edit = server CPU per relayed edit; synced, typing, after = "
        "(server RSS - RSS before any client) / meetings, in KiB: once all are synced, at the "
        "end of the measured window (memory per meeting while typing), and with the meetings "
        "still open some seconds after typing stopped (the allocators keep what typing used, so "
        "this is not what an idle meeting costs: see the idle open meetings block); idleCPU = "
        "the server's CPU then; gen CPU = all load generators together in cores, gen "
        "max = the busiest one; host = all cores busy. generator-bound: a load generator used "
        ">= 85% of a core; host-saturated: >= 90% of the machine was busy, so latency includes "
        "waiting for a CPU; other load: processes outside the benchmark used that many cores.",
    ]
    if pairs:
        out += pair_section(pairs)
    for kind, results in by_server.items():
        start_mib = results[0].rss_idle_kib / 1024 if results else 0
        out.append("")
        out.append(f"== {LABEL[kind]} (RSS before any client {start_mib:.0f} MiB) ==")
        out.append(table(results))
        out.append(
            f"meetings held (p99 <= {P99_LIMIT_MS:g} ms, nothing lost):"
            f" {held_text(results, args.levels)}"
        )
    if "ours" in by_server:
        ours = {r.meetings: r for r in by_server["ours"]}
        for peer in PEERS:
            if peer in by_server:
                theirs = {r.meetings: r for r in by_server[peer]}
                out += peer_ratio_section(ours, peer, theirs)
    if idle:
        out += idle_section(idle)
    if "ours" in by_server:
        out += targets_section(by_server, args.levels, idle)
    gens = [r for rs in by_server.values() for r in rs if r.window_s]
    if gens:
        worst = max(gens, key=lambda r: r.loadgen_max_core)
        out.append("")
        out.append(
            f"load generators: {min(r.loadgens for r in gens)}-{max(r.loadgens for r in gens)} "
            f"Node processes per level (<= {args.per_loadgen} meetings each); busiest process "
            f"{100 * worst.loadgen_max_core:.0f}% of a core ({LABEL[worst.server]}, "
            f"{worst.meetings} meetings); levels flagged generator-bound: "
            f"{sum(r.generator_bound for r in gens)}, host-saturated: "
            f"{sum(r.host_saturated for r in gens)} of {len(gens)}; busiest outside load "
            f"{max(r.other_cores for r in gens):.2f} cores."
        )
    return "\n".join(out)
