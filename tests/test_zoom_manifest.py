"""zoom_app/manifest.json (the Marketplace app's manifest) agrees with the code."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (resources.files("zoom_app") / "manifest.json").read_text(encoding="utf-8")
    )
    return data


def panel_capabilities() -> list[str]:
    """The CAPABILITIES array that zoom_app/static_src/sdk.js passes to zoomSdk.config()."""
    source = (ROOT / "zoom_app" / "static_src" / "sdk.js").read_text(encoding="utf-8")
    block = re.search(r"export const CAPABILITIES = \[(.*?)\];", source, re.S)
    assert block is not None
    return re.findall(r'"(\w+)"', block.group(1))


def test_manifest_lists_the_capabilities_the_panel_configures() -> None:
    apis = manifest()["features"]["in_client_feature"]["zoom_app_api"]["zoom_app_apis"]
    assert sorted(apis) == sorted(panel_capabilities())


def test_manifest_names_our_urls_events_and_in_client_oauth() -> None:
    data = manifest()
    features = data["features"]
    assert features["production_home_uri"].endswith("/zoom/home")
    assert data["oauth_information"]["production_redirect_uri"].endswith("/zoom/oauth/callback")
    assert features["in_client_feature"]["in_client_oauth"]["enable"] is True
    events = features["event_subscription"]["events"][0]
    assert events["production_webhook_url"].endswith("/zoom/webhook")
    assert set(events["event_types"]) == {
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_left",
    }
