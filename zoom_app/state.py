"""What the Zoom App keeps for the life of the application (under `ZOOM`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from zoom_app.crypto import Sealer, Signer, derive_key, parse_token_key
from zoom_app.settings import ZoomSettings
from zoom_app.store import ZoomStore


@dataclass
class ZoomState:
    settings: ZoomSettings
    store: ZoomStore
    http: aiohttp.ClientSession
    sealer: Sealer
    signer: Signer
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # a new event was stored
    working: asyncio.Lock = field(default_factory=asyncio.Lock)  # one event processor at a time

    @property
    def configured(self) -> bool:
        return bool(self.settings.zoom_client_id and self.settings.zoom_client_secret)


def keys_for(settings: ZoomSettings) -> tuple[Sealer, Signer]:
    """The token-sealing key (configured, or derived from the client secret) and the cookie
    signing key (derived from the client secret, or a per-process random one without it)."""
    secret = settings.zoom_client_secret
    if settings.zoom_token_key:
        token_key = parse_token_key(settings.zoom_token_key)
    else:
        token_key = derive_key(secret or _process_secret(), "tokens")
    return Sealer(token_key), Signer(derive_key(secret or _process_secret(), "cookies"))


# The Zoom App's state: its store, HTTP client for Zoom, and the webhook worker's wake-up.
ZOOM: web.AppKey[ZoomState] = web.AppKey("zoom")

_PROCESS_SECRET: list[str] = []


def _process_secret() -> str:
    import secrets

    if not _PROCESS_SECRET:
        _PROCESS_SECRET.append(secrets.token_urlsafe(32))
    return _PROCESS_SECRET[0]
