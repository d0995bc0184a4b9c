"""Random ids and secrets, and the service's notion of now."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime


def new_id() -> str:
    """An opaque, unguessable id: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def new_secret(prefix: str) -> str:
    """A bearer secret (token, invite or sign-in code); only its hash is ever stored."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    # The secrets carry 256 random bits, so a plain SHA-256 is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """The one timestamp format stored in SQLite: sortable ISO 8601 UTC with a Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(utcnow())
