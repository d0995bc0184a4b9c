"""The Home URL's x-zoom-app-context, and connecting a Zoom account with OAuth + PKCE.

Context headers are sealed by tests/test_zoom_support.seal_context, written from Zoom's
documented layout (it stands in for the Zoom client). `FakeZoom` (served by aiohttp_server, with
MENTOR_SIDECAR_ZOOM_OAUTH_BASE_URL / _API_BASE_URL pointed at it) stands in for Zoom's token
endpoint and /v2/users/me; the test plays the person's browser and Zoom's consent screen.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sidecar.keys import DATABASE, REPOS
from tests.conftest import ClientFactory, Pair, make_pair
from tests.platform_settings import Configured, app_of, needs
from tests.test_zoom_support import (
    CLIENT_SECRET,
    FakeZoom,
    context_claims,
    seal_context,
    zoom_settings,
)
from zoom_app.crypto import ContextError, decrypt_context
from zoom_app.state import ZOOM

pytestmark = needs("zoom")

Client = TestClient[web.Request, web.Application]


# --- the context header -------------------------------------------------------------------------


def test_context_round_trip() -> None:
    claims = context_claims("zoom-user-7", mid="meeting-uuid==")
    context = decrypt_context(seal_context(claims), CLIENT_SECRET)
    assert (context.uid, context.mid, context.typ) == ("zoom-user-7", "meeting-uuid==", "meeting")


@pytest.mark.parametrize("where", ["iv", "aad", "ciphertext", "tag"])
def test_a_tampered_context_is_refused(where: str) -> None:
    raw = bytearray(base64.b64decode(seal_context(context_claims("u"), aad=b"aad-bytes")))
    iv_len = raw[0]
    offsets = {"iv": 1, "aad": 1 + iv_len + 2, "ciphertext": 1 + iv_len + 2 + 9 + 4, "tag": -1}
    raw[offsets[where]] ^= 0x01
    with pytest.raises(ContextError):
        decrypt_context(base64.b64encode(bytes(raw)).decode(), CLIENT_SECRET)


@pytest.mark.parametrize(
    "header",
    ["", "not base64!!", base64.b64encode(b"\x0c short").decode(), "A" * 9000],
)
def test_a_malformed_context_is_refused(header: str) -> None:
    with pytest.raises(ContextError):
        decrypt_context(header, CLIENT_SECRET)


def test_an_expired_context_or_another_secret_is_refused() -> None:
    now = int(time.time() * 1000)
    expired = {"typ": "meeting", "uid": "u", "mid": "", "ts": now - 600_000, "exp": now - 1}
    with pytest.raises(ContextError, match="expired"):
        decrypt_context(seal_context(expired), CLIENT_SECRET)
    with pytest.raises(ContextError, match="tampered"):
        decrypt_context(seal_context(context_claims("u")), "another-secret")


@pytest.fixture
def settings(tmp_path: Path) -> Configured:
    return zoom_settings(tmp_path)


def cookie_header(response: Any, name: str) -> str:
    return next(
        (v for v in response.headers.getall("Set-Cookie", []) if v.startswith(f"{name}=")), ""
    )


async def test_home_signs_in_a_linked_zoom_user_with_zoom_headers(
    client: Client, pair: Pair
) -> None:
    await client.app[ZOOM].store.link_account(
        pair.mentee_id,
        zoom_user_id="zoom-mentee",
        zoom_email="",
        tokens=None,
        token_expires_at=None,
        scope="",
    )
    header = seal_context(context_claims("zoom-mentee"))
    response = await client.get("/zoom/home", headers={"x-zoom-app-context": header})
    assert response.status == 200
    assert 'data-page="zoom"' in await response.text()
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://zoom.us https://*.zoom.us" in csp
    assert "script-src 'self'" in csp
    for name in ("Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy"):
        assert name in response.headers
    assert cookie_header(response, "sidecar_session")
    me = await client.get("/api/v1/me")  # the webview is now the mentee
    assert (await me.json())["person"]["id"] == pair.mentee_id


async def test_an_unknown_zoom_user_gets_the_link_page_and_no_session(
    client: Client, pair: Pair
) -> None:
    signed_in = await client.get(
        "/api/v1/me", headers=pair.auth()
    )  # a token elsewhere changes nothing here
    assert signed_in.status == 200
    header = seal_context(context_claims("zoom-stranger"))
    response = await client.get("/zoom/home", headers={"x-zoom-app-context": header})
    assert response.status == 200
    body = await response.text()
    assert 'data-page="zoom-link"' in body and pair.mentorship_id not in body
    assert 'sidecar_session=""' in cookie_header(response, "sidecar_session")  # cleared
    assert (await client.get("/api/v1/me")).status == 401


@pytest.mark.parametrize("tamper", ["expired", "flipped"])
async def test_home_refuses_a_bad_context(client: Client, tamper: str) -> None:
    if tamper == "expired":
        now = int(time.time() * 1000)
        header = seal_context({"uid": "u", "ts": now - 10_000, "exp": now - 5_000})
    else:
        raw = bytearray(base64.b64decode(seal_context(context_claims("u"))))
        raw[-3] ^= 0x10
        header = base64.b64encode(bytes(raw)).decode()
    response = await client.get("/zoom/home", headers={"x-zoom-app-context": header})
    assert response.status == 401
    assert 'data-page="zoom-problem"' in await response.text()
    assert not cookie_header(response, "sidecar_session")


async def test_behind_a_proxy_cookies_are_secure_and_samesite_none(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(app_of(zoom_settings(tmp_path, trust_forwarded_headers=True)))
    pair = await make_pair(client.app, "p")
    await client.app[ZOOM].store.link_account(
        pair.mentor_id,
        zoom_user_id="zoom-mentor",
        zoom_email="",
        tokens=None,
        token_expires_at=None,
        scope="",
    )
    response = await client.get(
        "/zoom/home",
        headers={
            "x-zoom-app-context": seal_context(context_claims("zoom-mentor")),
            "X-Forwarded-Proto": "https",
        },
    )
    session = cookie_header(response, "sidecar_session").lower()
    assert "secure" in session and "samesite=none" in session and "httponly" in session
    plain = await client.get(
        "/zoom/home", headers={"x-zoom-app-context": seal_context(context_claims("zoom-mentor"))}
    )
    cookie = cookie_header(plain, "zoom_ctx").lower()
    assert "samesite=lax" in cookie and "secure" not in cookie  # no SameSite=None over http


# --- OAuth against a stand-in Zoom --------------------------------------------------------------


@pytest.fixture
async def fake_zoom(aiohttp_server: ClientFactory) -> tuple[FakeZoom, TestServer]:
    fake = FakeZoom()
    server: TestServer = await aiohttp_server(fake.app())
    return fake, server


@pytest.fixture
async def zoom_client(
    aiohttp_client: ClientFactory, tmp_path: Path, fake_zoom: tuple[FakeZoom, TestServer]
) -> Client:
    base = str(fake_zoom[1].make_url("")).rstrip("/")
    settings = zoom_settings(
        tmp_path,
        zoom_oauth_base_url=base,
        zoom_api_base_url=base,
        trust_forwarded_headers=True,
    )
    client: Client = await aiohttp_client(app_of(settings))
    return client


async def sign_in(client: Client, person_id: str) -> None:
    code = await client.app[REPOS].tokens.create_signin_link(person_id, timedelta(minutes=5))
    response = await client.get(f"/signin/{code}", allow_redirects=False)
    assert response.status == 303


async def test_connect_zoom_from_the_browser_with_pkce_and_state(
    zoom_client: Client, fake_zoom: tuple[FakeZoom, TestServer]
) -> None:
    fake, _ = fake_zoom
    pair = await make_pair(zoom_client.app, "o")
    await sign_in(zoom_client, pair.mentor_id)
    # Behind a TLS proxy: the redirect URL is https and the state cookie Secure.
    proxied = await zoom_client.get(
        "/zoom/install", allow_redirects=False, headers={"X-Forwarded-Proto": "https"}
    )
    proxied_query = parse_qs(urlsplit(proxied.headers["Location"]).query)
    assert proxied_query["redirect_uri"][0].startswith("https://")
    assert "secure" in cookie_header(proxied, "zoom_oauth").lower()

    start = await zoom_client.get("/zoom/install", allow_redirects=False)
    assert start.status == 302
    location = urlsplit(start.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.path == "/oauth/authorize"
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    assert query["redirect_uri"].endswith("/zoom/oauth/callback")

    # A callback with another state is refused, and Zoom is never asked.
    wrong = await zoom_client.get(
        "/zoom/oauth/callback", params={"code": "x", "state": "forged"}, allow_redirects=False
    )
    assert wrong.status == 400 and not fake.grants

    code = fake.authorize(query["code_challenge"])  # the person says yes on Zoom's page
    back = await zoom_client.get(
        "/zoom/oauth/callback",
        params={"code": code, "state": query["state"]},
        allow_redirects=False,
    )
    assert back.status == 303, await back.text()
    assert back.headers["Location"] == "/me?zoom=connected"
    assert fake.grants[0]["grant_type"] == "authorization_code"
    assert fake.grants[0]["redirect_uri"] == query["redirect_uri"]
    status = await (await zoom_client.get("/api/v1/me/zoom")).json()
    assert status["linked"] is True and status["zoom_email"] == "helena@zoom.example"
    assert await zoom_client.app[ZOOM].store.person_for_zoom_user("zoom-user-1") == pair.mentor_id
    # Stored encrypted: neither token appears in the database file's row.
    row = await zoom_client.app[DATABASE].fetch_one("SELECT tokens FROM zoom_accounts")
    assert (
        row is not None and b"access-1" not in row["tokens"] and b"refresh-1" not in row["tokens"]
    )

    # The state cookie is used up: replaying the callback does nothing.
    replay = await zoom_client.get(
        "/zoom/oauth/callback",
        params={"code": code, "state": query["state"]},
        allow_redirects=False,
    )
    assert replay.status == 400


async def test_tokens_are_refreshed_when_used_near_expiry(
    zoom_client: Client, fake_zoom: tuple[FakeZoom, TestServer]
) -> None:
    fake, _ = fake_zoom
    fake.expires_in = 30  # inside the one-minute margin: the next use refreshes
    pair = await make_pair(zoom_client.app, "f")
    await sign_in(zoom_client, pair.mentee_id)
    start = await zoom_client.get("/zoom/install", allow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    code = fake.authorize(query["code_challenge"])
    await zoom_client.get("/zoom/oauth/callback", params={"code": code, "state": query["state"]})
    check = await zoom_client.post(
        "/api/v1/me/zoom/check", headers={"Origin": str(zoom_client.make_url("")).rstrip("/")}
    )
    assert check.status == 200, await check.text()
    assert [g["grant_type"] for g in fake.grants] == ["authorization_code", "refresh_token"]
    assert fake.grants[1]["refresh_token"] == "refresh-1"
    account = await zoom_client.app[ZOOM].store.account(pair.mentee_id)
    assert account.tokens is not None
    opened = zoom_client.app[ZOOM].sealer.open(account.tokens, f"zoom-tokens:{pair.mentee_id}")
    assert opened == {"access_token": "access-2", "refresh_token": "refresh-2"}


async def test_in_client_oauth_links_with_a_link_code(
    zoom_client: Client, fake_zoom: tuple[FakeZoom, TestServer]
) -> None:
    fake, _ = fake_zoom
    fake.user_id = "zoom-in-client"
    pair = await make_pair(zoom_client.app, "i")
    made = await zoom_client.post("/api/v1/me/zoom/link-code", headers=pair.auth("mentee"))
    assert made.status == 201
    link_code = (await made.json())["code"]
    # Inside Zoom: the unknown user's Home URL, then authorize() with our challenge and state.
    header = seal_context(context_claims("zoom-in-client"))
    await zoom_client.get("/zoom/home", headers={"x-zoom-app-context": header})
    started = await (await zoom_client.post("/zoom/oauth/in-client/start")).json()
    code = fake.authorize(started["codeChallenge"])  # what onAuthorized carries

    missing = await zoom_client.post(
        "/zoom/oauth/in-client/finish", json={"code": code, "state": started["state"]}
    )
    assert missing.status == 422
    assert (await missing.json())["error"]["fields"][0]["loc"] == "link_code"

    code = fake.authorize(started["codeChallenge"])
    done = await zoom_client.post(
        "/zoom/oauth/in-client/finish",
        json={"code": code, "state": started["state"], "link_code": link_code.lower()},
    )
    assert done.status == 200, await done.text()
    assert (await done.json())["next"] == "/zoom/home"
    me = await (await zoom_client.get("/api/v1/me")).json()
    assert me["person"]["id"] == pair.mentee_id
    home = await zoom_client.get("/zoom/home", headers={"x-zoom-app-context": header})
    assert 'data-page="zoom"' in await home.text()


async def test_in_client_finish_rejects_bad_input_and_a_foreign_state(zoom_client: Client) -> None:
    await zoom_client.post("/zoom/oauth/in-client/start")
    bad = await zoom_client.post("/zoom/oauth/in-client/finish", json={"code": ""})
    assert bad.status == 422
    locs = {f["loc"] for f in (await bad.json())["error"]["fields"]}
    assert locs == {"code", "state"}
    foreign = await zoom_client.post(
        "/zoom/oauth/in-client/finish", json={"code": "c", "state": "not-ours"}
    )
    assert foreign.status == 400
    assert (await foreign.json())["error"]["message"].startswith("state")
