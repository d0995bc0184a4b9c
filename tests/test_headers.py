"""The headers a careful reviewer (and Zoom's app review) checks, on every kind of response.

Every response: HSTS, nosniff, Referrer-Policy. Every HTML page: a strict CSP whose
frame-ancestors is `'self'` except on the Zoom Home URL (Zoom's own origins may frame it), and
whose script/frame sources are widened on the Jitsi call page to the configured Jitsi server
only. Cookies: HttpOnly always, Secure when the service is reached over HTTPS (directly or
behind a trusted proxy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.demo import seed_demo
from sidecar.keys import REPOS
from tests.platform_settings import TESTED_NAMES, app_of, configured, needs
from tests.test_zoom_support import CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET

Client = TestClient[web.Request, web.Application]
JITSI = "https://meet.example.org"


@pytest.fixture
async def full(aiohttp_client: Any, tmp_path: Path) -> Client:
    settings = configured(
        data_dir=tmp_path / "data",
        trust_forwarded_headers=True,
        zoom_client_id=CLIENT_ID,
        zoom_client_secret=CLIENT_SECRET,
        zoom_webhook_secret=WEBHOOK_SECRET,
        jitsi_base_url=JITSI,
        jitsi_app_id="mentor-sidecar",
        jitsi_app_secret="a-jitsi-secret-long-enough-for-hs256!",
    )
    client: Client = await aiohttp_client(app_of(settings))
    return client


def directives(csp: str) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in csp.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def assert_common(response: Any) -> None:
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


async def test_every_kind_of_response_carries_the_security_headers(full: Client) -> None:
    seed = await seed_demo(full.app)
    auth = {"Authorization": f"Bearer {seed.mentor.token}"}
    pages = [
        "/",
        "/me",
        f"/meetings/{seed.meeting_id}",
        f"/mentorships/{seed.mentorship_id}/agreement",
    ]
    for path in pages:
        response = await full.get(path, headers=auth)
        assert response.status == 200, path
        assert_common(response)
        csp = directives(response.headers["Content-Security-Policy"])
        assert csp["default-src"] == ["'none'"]
        assert csp["script-src"] == ["'self'"], path
        assert csp["frame-ancestors"] == ["'self'"], path
        assert (
            "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        )
    for path in ("/api/v1/me", "/healthz", "/static/panel.js", "/api/v1/openapi.json"):
        response = await full.get(path, headers=auth)
        assert response.status == 200, path
        assert_common(response)
    missing = await full.get("/api/v1/meetings/nope", headers=auth)
    assert missing.status == 404
    assert_common(missing)


@needs("jitsi")
async def test_the_jitsi_page_may_load_only_the_configured_jitsi(full: Client) -> None:
    seed = await seed_demo(full.app)
    response = await full.get(
        f"/meetings/{seed.meeting_id}/call",
        headers={"Authorization": f"Bearer {seed.mentor.token}"},
    )
    assert response.status == 200
    csp = directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'", JITSI]
    assert csp["frame-src"] == [JITSI]
    assert csp["frame-ancestors"] == ["'self'"]


@needs("zoom")
async def test_the_zoom_home_url_may_be_framed_by_zoom_only(full: Client) -> None:
    response = await full.get("/zoom/home", allow_redirects=False)
    assert_common(response)
    csp = directives(response.headers["Content-Security-Policy"])
    ancestors = csp["frame-ancestors"]
    assert "'self'" in ancestors
    assert all(a == "'self'" or a.endswith("zoom.us") for a in ancestors), ancestors
    assert "*" not in ancestors


@pytest.mark.parametrize("proto", ["http", "https"])
async def test_cookies_are_httponly_and_secure_over_https(full: Client, proto: str) -> None:
    seed = await seed_demo(full.app)
    response = await full.get(
        seed.mentee.signin_path,
        headers={"X-Forwarded-Proto": proto},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = response.cookies["sidecar_session"]
    assert cookie["httponly"]
    assert bool(cookie["secure"]) is (proto == "https")
    assert cookie["samesite"] == "Lax"
    if "zoom" not in TESTED_NAMES:
        return
    # The Zoom OAuth state cookie too, for a signed-in person starting the install.
    token = await full.app[REPOS].tokens.issue(seed.mentee.id)
    install = await full.get(
        "/zoom/install",
        headers={"Authorization": f"Bearer {token[0]}", "X-Forwarded-Proto": proto},
        allow_redirects=False,
    )
    assert install.status in (302, 303), await install.text()
    for morsel in install.cookies.values():
        assert morsel["httponly"], morsel.key
        assert bool(morsel["secure"]) is (proto == "https"), morsel.key
    assert install.cookies, "the OAuth state travels in a cookie"
