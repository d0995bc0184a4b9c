"""The Zoom platform's settings: the panel as a Zoom App, OAuth and the event webhook.

Read like the core's (sidecar/settings.py): variables ``MENTOR_SIDECAR_ZOOM_*``, each field
with a default and help text; `mentor-sidecar settings` and the README's table list them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sidecar.settings import SettingsGroup


def _setting(default: Any, help: str) -> Any:
    return Field(default=default, description=help)


class ZoomSettings(SettingsGroup):
    zoom_client_id: str = _setting(
        "", "Client ID of the Zoom App (Marketplace: App Credentials); empty turns Zoom off."
    )
    zoom_client_secret: str = _setting(
        "",
        "Client secret of the Zoom App; also the key (SHA-256 of it) of the x-zoom-app-context "
        "header.",
    )
    zoom_webhook_secret: str = _setting(
        "",
        "Secret token of the Zoom App's event subscription; /zoom/webhook refuses every event "
        "while it is empty.",
    )
    zoom_oauth_base_url: str = _setting(
        "https://zoom.us", "Where Zoom's OAuth lives (`/oauth/authorize`, `/oauth/token`)."
    )
    zoom_api_base_url: str = _setting(
        "https://api.zoom.us", "Base URL of Zoom's REST API (`/v2/users/me`)."
    )
    zoom_token_key: str = _setting(
        "",
        "Key that encrypts stored Zoom tokens (AES-256-GCM): 32 bytes in URL-safe base64; "
        "empty derives one from the client secret.",
    )
    zoom_webhook_max_age_seconds: int = _setting(
        300, "Zoom events whose x-zm-request-timestamp is further from now than this are refused."
    )
