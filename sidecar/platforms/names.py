"""Platform names: free text (a plugin names itself), checked to be a plain identifier.

They are stored (`meetings.ended_by`, `meeting_attendance.call_source`) and appear in logs and
the API, so a name is lower-case letters, digits and underscores, starting with a letter.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Who else ends a meeting than a platform: a person in the panel, or the idle check.
CORE_SOURCES = frozenset({"panel", "idle"})


class BadPlatformName(ValueError):
    pass


def checked_platform_name(name: str) -> str:
    """`name` itself, or BadPlatformName when it is not a platform identifier."""
    if not _NAME.fullmatch(name):
        raise BadPlatformName(
            f"platform name {name!r}: expected lower-case letters, digits and _ (at most 32)"
        )
    return name
