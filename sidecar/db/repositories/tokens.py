"""Personal access tokens, browser sessions and one-time sign-in links; only hashes are stored."""

from __future__ import annotations

from datetime import timedelta

from sidecar.db.repositories.base import Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import hash_secret, iso, new_id, new_secret, now_iso, utcnow
from sidecar.domain.models import AccessToken

TOKEN_PREFIX = "mst"
SIGNIN_PREFIX = "msl"


class TokenRepository(Repository):
    async def issue(
        self,
        person_id: str,
        *,
        kind: str = "api",
        label: str = "",
        lifetime: timedelta | None = None,
    ) -> tuple[str, AccessToken]:
        """Create a token; the secret is returned once and never stored."""
        secret = new_secret(TOKEN_PREFIX)
        token_id = new_id()
        expires = iso(utcnow() + lifetime) if lifetime else None
        await self.db.execute(
            "INSERT INTO access_tokens (id, person_id, token_hash, kind, label, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_id, person_id, hash_secret(secret), kind, label, now_iso(), expires),
        )
        return secret, await self._get(person_id, token_id)

    async def authenticate(self, secret: str) -> tuple[str, str] | None:
        """(person id, token id) for a live token, else None."""
        row = await self.db.fetch_one(
            "SELECT id, person_id FROM access_tokens WHERE token_hash = ? AND revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (hash_secret(secret), now_iso()),
        )
        if row is None:
            return None
        return row["person_id"], row["id"]

    async def list(self, person_id: str) -> list[AccessToken]:
        rows = await self.db.fetch_all(
            "SELECT id, person_id, kind, label, created_at, expires_at, last_used_at, revoked_at"
            " FROM access_tokens WHERE person_id = ? ORDER BY created_at",
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

    async def _get(self, person_id: str, token_id: str) -> AccessToken:
        row = await self.db.fetch_one(
            "SELECT id, person_id, kind, label, created_at, expires_at, last_used_at, revoked_at"
            " FROM access_tokens WHERE id = ? AND person_id = ?",
            (token_id, person_id),
        )
        if row is None:
            raise NotFound("token")
        return AccessToken.model_validate(row)

    async def create_signin_link(self, person_id: str, lifetime: timedelta) -> str:
        code = new_secret(SIGNIN_PREFIX)
        await self.db.execute(
            "INSERT INTO signin_links (code_hash, person_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (hash_secret(code), person_id, now_iso(), iso(utcnow() + lifetime)),
        )
        return code

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
