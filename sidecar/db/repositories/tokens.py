"""Personal access tokens, browser sessions and one-time sign-in links; only hashes are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sidecar.db.repositories.base import Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import hash_secret, iso, new_id, new_secret, now_iso, utcnow
from sidecar.domain.models import AccessToken

TOKEN_PREFIX = "mst"
SIGNIN_PREFIX = "msl"
# `last_used_at` is written at most this often per token: the device list needs minutes, and a
# write on every request would cost the hot path a commit.
LAST_USED_GRANULARITY = timedelta(minutes=1)
_TOKEN_COLUMNS = (
    "id, person_id, kind, label, device, created_at, expires_at, last_used_at, revoked_at"
)


@dataclass(frozen=True)
class SigninLinkState:
    """What a sign-in code is: whose, whether it waits for a click, whether it still works."""

    person_id: str
    needs_click: bool
    usable: bool


class TokenRepository(Repository):
    async def issue(
        self,
        person_id: str,
        *,
        kind: str = "api",
        label: str = "",
        lifetime: timedelta | None = None,
        device: str = "",
    ) -> tuple[str, AccessToken]:
        """Create a token; the secret is returned once and never stored."""
        secret = new_secret(TOKEN_PREFIX)
        token_id = new_id()
        expires = iso(utcnow() + lifetime) if lifetime else None
        await self.db.execute(
            "INSERT INTO access_tokens (id, person_id, token_hash, kind, label, device,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (token_id, person_id, hash_secret(secret), kind, label, device, now_iso(), expires),
        )
        return secret, await self._get(person_id, token_id)

    async def authenticate(self, secret: str) -> tuple[str, str] | None:
        """(person id, token id) for a live token, else None."""
        now = utcnow()
        row = await self.db.fetch_one(
            "SELECT id, person_id, last_used_at FROM access_tokens WHERE token_hash = ?"
            " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
            (hash_secret(secret), iso(now)),
        )
        if row is None:
            return None
        last = row["last_used_at"]
        if last is None or datetime.fromisoformat(last) < now - LAST_USED_GRANULARITY:
            await self.db.execute(
                "UPDATE access_tokens SET last_used_at = ? WHERE id = ?", (iso(now), row["id"])
            )
        return row["person_id"], row["id"]

    async def sessions(self, person_id: str) -> list[AccessToken]:
        """The person's browser sessions that still work, the most recently used first."""
        rows = await self.db.fetch_all(
            f"SELECT {_TOKEN_COLUMNS} FROM access_tokens WHERE person_id = ? AND kind = 'session'"
            " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
            " ORDER BY COALESCE(last_used_at, created_at) DESC, created_at DESC",
            (person_id, now_iso()),
        )
        return [AccessToken.model_validate(row) for row in rows]

    async def list(self, person_id: str) -> list[AccessToken]:
        rows = await self.db.fetch_all(
            f"SELECT {_TOKEN_COLUMNS} FROM access_tokens WHERE person_id = ? ORDER BY created_at",
            (person_id,),
        )
        return [AccessToken.model_validate(row) for row in rows]

    async def revoke(self, person_id: str, token_id: str) -> AccessToken:
        changed = await self.db.execute(
            "UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND person_id = ?"
            " AND revoked_at IS NULL",
            (now_iso(), token_id, person_id),
        )
        token = await self._get(person_id, token_id)
        if not changed and token.revoked_at is None:
            raise NotFound("token")
        return token

    async def revoke_session(self, person_id: str, token_id: str) -> AccessToken:
        """Sign one of the person's devices out; NotFound for anything but a live session."""
        changed = await self.db.execute(
            "UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND person_id = ?"
            " AND kind = 'session' AND revoked_at IS NULL",
            (now_iso(), token_id, person_id),
        )
        if not changed:
            raise NotFound("session")
        return await self._get(person_id, token_id)

    async def _get(self, person_id: str, token_id: str) -> AccessToken:
        row = await self.db.fetch_one(
            f"SELECT {_TOKEN_COLUMNS} FROM access_tokens WHERE id = ? AND person_id = ?",
            (token_id, person_id),
        )
        if row is None:
            raise NotFound("token")
        return AccessToken.model_validate(row)

    async def create_signin_link(
        self, person_id: str, lifetime: timedelta, *, needs_click: bool = False
    ) -> str:
        """A one-time code; `needs_click` for links sent by email (see `peek_signin_link`)."""
        code = new_secret(SIGNIN_PREFIX)
        await self.db.execute(
            "INSERT INTO signin_links (code_hash, person_id, created_at, expires_at, needs_click)"
            " VALUES (?, ?, ?, ?, ?)",
            (hash_secret(code), person_id, now_iso(), iso(utcnow() + lifetime), int(needs_click)),
        )
        return code

    async def peek_signin_link(self, code: str) -> SigninLinkState:
        """What the link is, without using it up; NotFound for a code never issued."""
        row = await self.db.fetch_one(
            "SELECT person_id, needs_click, used_at IS NULL AND expires_at > ? AS usable"
            " FROM signin_links WHERE code_hash = ?",
            (now_iso(), hash_secret(code)),
        )
        if row is None:
            raise NotFound("sign-in link")
        return SigninLinkState(str(row["person_id"]), bool(row["needs_click"]), bool(row["usable"]))

    async def redeem_signin_link(self, code: str) -> str:
        """Mark the link used and return its person; a link works once."""
        row = await self.db.fetch_one(
            "UPDATE signin_links SET used_at = :now WHERE code_hash = :hash AND used_at IS NULL"
            " AND expires_at > :now RETURNING person_id",
            {"now": now_iso(), "hash": hash_secret(code)},
        )
        if row is None:
            raise NotFound("sign-in link")
        return str(row["person_id"])
