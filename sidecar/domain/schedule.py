"""A meeting series that meets more often at the start and tapers off.

Times repeat on the wall clock of one time zone ("Tuesdays at 14:00 in Lisbon"), so a change to
or from summer time keeps the meeting at 14:00 there rather than drifting by an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Phase:
    every_weeks: int
    count: int


# Weekly for the first six weeks, then every two weeks: trust is built early, then it settles.
TAPERING = (Phase(every_weeks=1, count=6), Phase(every_weeks=2, count=6))


def series(
    first_local: datetime, timezone: str, phases: tuple[Phase, ...] | list[Phase]
) -> list[datetime]:
    """Start times (UTC) of the series; `first_local` is a naive wall-clock time in `timezone`."""
    zone = ZoneInfo(timezone)
    starts: list[datetime] = []
    wall = first_local.replace(tzinfo=None)
    for phase in phases:
        for _ in range(phase.count):
            if starts:  # each meeting comes its own phase's interval after the one before
                wall += timedelta(weeks=phase.every_weeks)
            starts.append(_resolve(wall, zone).astimezone(UTC))
    return starts


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """Attach a zone; a wall time skipped by a clock change moves forward to exist."""
    local = wall.replace(tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != wall:  # in the gap of a spring-forward: take the time after the jump
        local = (wall + timedelta(hours=1)).replace(tzinfo=zone)
    return local
