"""Talking to Zoom: the OAuth token endpoint and `/v2/users/me`.

Tokens are sealed (AES-256-GCM) before they reach the database and refreshed with the
refresh_token grant when they are used within a minute of expiring.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from sidecar.domain.ids import utcnow
from zoom_app.state import ZoomState
from zoom_app.store import ZoomAccount

log = logging.getLogger(__name__)
REFRESH_MARGIN = timedelta(seconds=60)
TIMEOUT = aiohttp.ClientTimeout(total=10)


class ZoomError(Exception):
    """Zoom refused or could not be reached; `field` names what it was about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime
    scope: str


@dataclass(frozen=True)
class ZoomUser:
    id: str
    email: str


def _basic(state: ZoomState) -> str:
    pair = f"{state.settings.zoom_client_id}:{state.settings.zoom_client_secret}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


async def _token_request(state: ZoomState, form: dict[str, str]) -> Tokens:
    url = state.settings.zoom_oauth_base_url.rstrip("/") + "/oauth/token"
    try:
        async with state.http.post(
            url, data=form, headers={"Authorization": _basic(state)}, timeout=TIMEOUT
        ) as response:
            data: Any = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise ZoomError("code", f"Zoom's token endpoint could not be reached ({exc})") from exc
    if status != 200 or not isinstance(data, dict) or not data.get("access_token"):
        reason = data.get("reason") or data.get("error") if isinstance(data, dict) else None
        raise ZoomError("code", f"Zoom refused the {form['grant_type']} grant ({reason or status})")
    return Tokens(
        access_token=str(data["access_token"]),
        refresh_token=str(data.get("refresh_token", "")),
        expires_at=utcnow() + timedelta(seconds=int(data.get("expires_in", 3600))),
        scope=str(data.get("scope", "")),
    )


async def exchange_code(state: ZoomState, code: str, verifier: str, redirect_uri: str) -> Tokens:
    return await _token_request(
        state,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )


async def refresh(state: ZoomState, refresh_token: str) -> Tokens:
    return await _token_request(
        state, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


async def user_me(state: ZoomState, access_token: str) -> ZoomUser:
    url = state.settings.zoom_api_base_url.rstrip("/") + "/v2/users/me"
    try:
        async with state.http.get(
            url, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
        ) as response:
            data: Any = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise ZoomError("zoom", f"Zoom's API could not be reached ({exc})") from exc
    if status != 200 or not isinstance(data, dict) or not data.get("id"):
        raise ZoomError("zoom", f"Zoom did not say who you are (HTTP {status})")
    return ZoomUser(id=str(data["id"]), email=str(data.get("email", "")))


def seal(state: ZoomState, person_id: str, tokens: Tokens) -> bytes:
    return state.sealer.seal(
        {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token},
        context=f"zoom-tokens:{person_id}",
    )


async def access_token(state: ZoomState, account: ZoomAccount) -> str:
    """A usable access token for a linked person, refreshed (and re-stored) when due."""
    if account.tokens is None:
        raise ZoomError("zoom", "no Zoom tokens are stored: connect Zoom again")
    try:
        stored = state.sealer.open(account.tokens, context=f"zoom-tokens:{account.person_id}")
    except ValueError as exc:
        raise ZoomError("zoom", "stored Zoom tokens cannot be read: connect Zoom again") from exc
    expires = account.token_expires_at
    if expires is not None and expires - REFRESH_MARGIN > utcnow():
        return str(stored["access_token"])
    fresh = await refresh(state, str(stored["refresh_token"]))
    if not fresh.refresh_token:  # Zoom normally rotates it; keep the old one if it did not
        fresh = Tokens(
            fresh.access_token, str(stored["refresh_token"]), fresh.expires_at, fresh.scope
        )
    await state.store.save_tokens(
        account.person_id, seal(state, account.person_id, fresh), fresh.expires_at, fresh.scope
    )
    log.info("refreshed the Zoom token of person %s", account.person_id)
    return fresh.access_token
