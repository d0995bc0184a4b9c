"""The Jitsi server this service embeds, read from the settings once at start-up.

Two kinds of server are supported:

- **self-hosted** Jitsi Meet with Prosody's token authentication: rooms are joined with an HS256
  JWT signed with `app_secret` (`iss` = `app_id`); with no secret, rooms are joined without a
  token (only sensible for trying things out: anyone who guesses the room may enter);
- **JaaS** (8x8 Jitsi as a Service): RS256 JWTs with a `kid` header, signed with the private key
  whose public half is uploaded to JaaS; room names are prefixed with the app ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiohttp import web
from yarl import URL

from sidecar.settings import SettingsError

from .settings import JitsiSettings

Kind = Literal["off", "self-hosted", "jaas"]
PUBLIC_JITSI_HOSTS = frozenset({"meet.jit.si"})


@dataclass(frozen=True)
class JitsiConfig:
    kind: Kind
    base_url: str = ""  # scheme://host[:port], no trailing slash
    app_id: str = ""
    app_secret: str = ""
    audience: str = "jitsi"
    subject: str = ""
    token_minutes: int = 90
    event_secret: str = ""
    jaas_key_id: str = ""
    jaas_private_key: str = ""  # PEM text

    @property
    def enabled(self) -> bool:
        return self.kind != "off"

    @property
    def domain(self) -> str:
        """What `new JitsiMeetExternalAPI(domain, …)` takes: host[:port] (JaaS: `8x8.vc`)."""
        url = URL(self.base_url)
        return url.raw_authority

    @property
    def origin(self) -> str:
        """The script and frame source the call page's CSP allows."""
        return str(URL(self.base_url).origin())

    @property
    def script_url(self) -> str:
        if self.kind == "jaas":
            return f"{self.base_url}/{self.app_id}/external_api.js"
        return f"{self.base_url}/external_api.js"

    @property
    def signs_tokens(self) -> bool:
        return self.kind == "jaas" or bool(self.app_secret)

    @property
    def is_public_meet_jit_si(self) -> bool:
        return URL(self.base_url).host in PUBLIC_JITSI_HOSTS

    def iframe_room(self, room_name: str) -> str:
        """The `roomName` option of the iframe: JaaS rooms live under the app ID."""
        return f"{self.app_id}/{room_name}" if self.kind == "jaas" else room_name

    @classmethod
    def from_settings(cls, settings: JitsiSettings) -> JitsiConfig:
        raw = settings.jitsi_base_url.strip()
        if not raw:
            return cls(kind="off", event_secret=settings.jitsi_event_secret)
        url = URL(raw)
        if url.scheme not in ("http", "https") or not url.host:
            raise SettingsError(
                "MENTOR_SIDECAR_JITSI_BASE_URL: expected an http(s) URL such as "
                "https://meet.example.org"
            )
        if url.path not in ("", "/") or url.query_string or url.fragment:
            raise SettingsError(
                "MENTOR_SIDECAR_JITSI_BASE_URL: give only scheme and host (and port), no path"
            )
        if settings.jitsi_token_minutes < 1:
            raise SettingsError("MENTOR_SIDECAR_JITSI_TOKEN_MINUTES: expected at least 1")
        base_url = str(url.origin())
        jaas = bool(settings.jitsi_jaas_key_id)
        key = ""
        if jaas:
            if not settings.jitsi_app_id:
                raise SettingsError("MENTOR_SIDECAR_JITSI_APP_ID: JaaS needs the app ID")
            if not settings.jitsi_jaas_private_key_file:
                raise SettingsError(
                    "MENTOR_SIDECAR_JITSI_JAAS_PRIVATE_KEY_FILE: JaaS needs the private key"
                )
            try:
                key = Path(settings.jitsi_jaas_private_key_file).read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise SettingsError(f"MENTOR_SIDECAR_JITSI_JAAS_PRIVATE_KEY_FILE: {exc}") from exc
        elif settings.jitsi_app_secret and not settings.jitsi_app_id:
            raise SettingsError(
                "MENTOR_SIDECAR_JITSI_APP_ID: token authentication needs Prosody's app_id"
            )
        return cls(
            kind="jaas" if jaas else "self-hosted",
            base_url=base_url,
            app_id=settings.jitsi_app_id,
            app_secret="" if jaas else settings.jitsi_app_secret,
            audience=settings.jitsi_audience,
            subject=settings.jitsi_subject or (url.host or "").lower(),
            token_minutes=settings.jitsi_token_minutes,
            event_secret=settings.jitsi_event_secret,
            jaas_key_id=settings.jitsi_jaas_key_id,
            jaas_private_key=key,
        )


# The Jitsi server this service embeds and signs room tokens for, read from the settings once.
JITSI = web.AppKey("jitsi", JitsiConfig)
