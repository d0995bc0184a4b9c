"""The Jitsi platform's settings: the call page, room tokens and Prosody's event_sync.

Read like the core's (sidecar/settings.py): variables ``MENTOR_SIDECAR_JITSI_*``, each field
with a default and help text; `mentor-sidecar settings` and the README's table list them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sidecar.settings import SettingsGroup


def _setting(default: Any, help: str) -> Any:
    return Field(default=default, description=help)


class JitsiSettings(SettingsGroup):
    jitsi_base_url: str = _setting(
        "",
        "Base URL of the Jitsi Meet server the call page embeds, e.g. `https://meet.example.org` "
        "(`https://8x8.vc` for JaaS); empty turns the Jitsi call page off.",
    )
    jitsi_app_id: str = _setting(
        "",
        "Prosody's token `app_id` (each room token's `iss`); for JaaS the `vpaas-magic-cookie-…` "
        "app ID.",
    )
    jitsi_app_secret: str = _setting(
        "",
        "Prosody's token `app_secret`, which signs each person's HS256 room token; empty (and "
        "no JaaS key) joins rooms without a token.",
    )
    jitsi_audience: str = _setting(
        "jitsi", "The `aud` claim of room tokens (one of Prosody's `asap_accepted_audiences`)."
    )
    jitsi_subject: str = _setting(
        "",
        "The `sub` claim of room tokens: the Jitsi XMPP domain (or `*`); empty means the host "
        "of JITSI_BASE_URL.",
    )
    jitsi_token_minutes: int = _setting(
        90, "How long a room token stays valid, in minutes (the call page gets a fresh one)."
    )
    jitsi_event_secret: str = _setting(
        "",
        "Bearer secret Prosody's event_sync module sends (`api_headers`) to /jitsi/events/*; "
        "empty turns those endpoints off.",
    )
    jitsi_jaas_key_id: str = _setting(
        "",
        "JaaS only: the API key ID (the `kid` header, `vpaas-magic-cookie-…/…`); set, room "
        "tokens are RS256 JaaS tokens signed with JITSI_JAAS_PRIVATE_KEY_FILE.",
    )
    jitsi_jaas_private_key_file: str = _setting(
        "", "JaaS only: the PEM file of the private key whose public key is uploaded to JaaS."
    )
