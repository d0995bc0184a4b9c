"""Every route outside the JSON API, taken from the router itself, tried by everyone.

tests/test_access_matrix.py covers /api/v1 from the endpoint registry. This file covers the rest:
pages, websockets, webhooks and feeds. Each route must be classified below (a new route fails
`test_every_route_is_classified` until someone decides who may use it), then each class is tried
as anonymous, with a malformed token, an unknown one, a revoked one, as a member of another
mentorship and as a member: nothing of a pair is readable by anyone else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.api.routing import api
from sidecar.app import create_app
from sidecar.keys import REPOS
from sidecar.settings import Settings
from tests.conftest import Pair
from tests.platform_settings import TESTED

Client = TestClient[web.Request, web.Application]

# Pages of one pair's meeting or mentorship: members only, 404 for anyone else.
MEMBER_PAGES = {
    "GET /meetings/{meeting_id}",
    "GET /meetings/{meeting_id}/call",
    "GET /mentorships/{mentorship_id}/agreement",
}
# The caller's own page: about the caller only.
OWN_PAGES = {"GET /me"}
# Websockets of a meeting: authorised before the upgrade, 403 for anyone else.
SOCKETS = {
    "GET /ws/notes/{meeting_id}",
    "GET /ws/meetings/{meeting_id}/events",
    "GET /ws/mentorships/{mentorship_id}/events",
}
# Open to anyone, and why nothing of a pair leaks through them.
PUBLIC = {
    "GET /": "the start page; no data",
    "GET /favicon.ico": "empty",
    "GET /static": "the panel's script and styles",
    "GET /static/platforms/jitsi": "the Jitsi platform's page scripts (its FrontEnd folder)",
    "GET /static/platforms/zoom": "the Zoom platform's page scripts (its FrontEnd folder)",
    "GET /healthz": "liveness; no data",
    "GET /readyz": "readiness; no data",
    "GET /api/v1/openapi.json": "the API's description",
    "GET /invite/{code}": "a page shell; the invite itself is read by code through the API",
    "GET /signin/{code}": "a one-time code exchanged for a session (tests/test_api.py)",
    "POST /signin/{code}": "an emailed code's Sign in button (tests/test_signin_requests.py)",
    "GET /signed-out": "where signing out lands: how to get back in; no data",
    "POST /signout": "ends the caller's own session",
    "GET /calendar/{code}.ics": "a feed behind a secret URL (tests/test_before_the_call.py)",
}
# Authenticated by something other than a person's token, each tested in its own file.
MACHINE = {
    "POST /jitsi/events/{kind}/{what}": "Prosody's bearer secret (tests/test_jitsi_events.py)",
    "POST /zoom/webhook": "Zoom's x-zm-signature (tests/test_zoom_webhook.py)",
    "GET /zoom/home": "Zoom's encrypted x-zoom-app-context header (tests/test_zoom_oauth.py)",
    "GET /zoom/install": "starts OAuth for the signed-in person (tests/test_zoom_oauth.py)",
    "GET /zoom/oauth/callback": "OAuth state in a signed cookie (tests/test_zoom_oauth.py)",
    "POST /zoom/oauth/in-client/start": "in-client OAuth (tests/test_zoom_oauth.py)",
    "POST /zoom/oauth/in-client/finish": "in-client OAuth (tests/test_zoom_oauth.py)",
}


def routes(app: web.Application) -> set[str]:
    found = set()
    api_paths = {(e.method, e.full_path) for e in api.endpoints}
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        path = str(info.get("path") or info.get("formatter") or info.get("prefix"))
        if (route.method, path) in api_paths:
            continue
        found.add(f"{route.method} {path}")
    return found


# Routes of installed platforms the suite runs without (MENTOR_SIDECAR_PLATFORMS): not served.
NOT_SERVED = routes(create_app(Settings(platforms="all"))) - routes(
    create_app(Settings(platforms=TESTED))
)


def served(classified: Iterable[str]) -> list[str]:
    return sorted(set(classified) - NOT_SERVED)


def test_every_route_is_classified(client: Client) -> None:
    classified = MEMBER_PAGES | OWN_PAGES | SOCKETS | set(PUBLIC) | set(MACHINE)
    present = routes(client.app)
    assert present - classified == set(), "classify new routes in tests/test_access_routes.py"
    assert classified - present - NOT_SERVED == set(), "routes listed here no longer exist"


def fill(path: str, pair: Pair) -> str:
    values = {"meeting_id": pair.meeting_id, "mentorship_id": pair.mentorship_id}
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path.split(" ", 1)[1])


async def strangers(client: Client, pair: Pair, other: Pair) -> list[tuple[str, dict[str, str]]]:
    revoked_secret, revoked = await client.app[REPOS].tokens.issue(pair.mentor_id, label="old")
    await client.app[REPOS].tokens.revoke(pair.mentor_id, revoked.id)
    return [
        ("anonymous", {}),
        ("malformed header", {"Authorization": "Token abc"}),
        ("unknown token", {"Authorization": "Bearer mst_not-a-real-token"}),
        ("revoked token", {"Authorization": f"Bearer {revoked_secret}"}),
        ("malformed cookie", {"Cookie": "sidecar_session=%%%"}),
        ("revoked cookie", {"Cookie": f"sidecar_session={revoked_secret}"}),
        ("other pair", other.auth()),
    ]


def secrets_of(pair: Pair) -> list[str]:
    return [pair.mentorship_id, pair.meeting_id, pair.mentor_id, pair.mentee_id, "Check-in"]


@pytest.mark.parametrize("route", served(MEMBER_PAGES))
async def test_member_pages(client: Client, pair: Pair, other_pair: Pair, route: str) -> None:
    path = fill(route, pair)
    for who, headers in await strangers(client, pair, other_pair):
        response = await client.get(path, headers=headers)
        body = await response.text()
        assert response.status in (401, 404), f"{who}: {response.status}"
        for secret in secrets_of(pair):
            assert secret not in body, f"{who} sees {secret}"
    for who in ("mentor", "mentee"):
        response = await client.get(path, headers=pair.auth(who))
        assert response.status == 200, who
        assert (
            pair.meeting_id in await response.text() or pair.mentorship_id in await response.text()
        )


async def test_own_page_shows_nothing_of_others(
    client: Client, pair: Pair, other_pair: Pair
) -> None:
    for who, headers in await strangers(client, pair, other_pair):
        response = await client.get("/me", headers=headers)
        body = await response.text()
        for secret in secrets_of(pair)[:4]:
            assert secret not in body, f"{who} sees {secret}"


@pytest.mark.parametrize("route", served(SOCKETS))
async def test_sockets(client: Client, pair: Pair, other_pair: Pair, route: str) -> None:
    path = fill(route, pair)
    origin = str(client.make_url("")).rstrip("/")
    for who, headers in await strangers(client, pair, other_pair):
        query = ""
        if headers.get("Authorization", "").startswith("Bearer "):
            query = "?token=" + headers.pop("Authorization").removeprefix("Bearer ")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(path + query, headers={**headers, "Origin": origin})
        assert refused.value.status == 403, who
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await client.ws_connect(
            f"{path}?token={pair.mentor_token}", headers={"Origin": "https://evil.example"}
        )
    assert foreign.value.status == 403, "a foreign Origin"
    for token in (pair.mentor_token, pair.mentee_token):
        ws = await client.ws_connect(f"{path}?token={token}", headers={"Origin": origin})
        await ws.receive()
        await ws.close()


@pytest.mark.parametrize("route", served(MACHINE))
async def test_machine_routes_refuse_people_without_their_secret(
    client: Client, pair: Pair, route: str
) -> None:
    method, path = route.split(" ", 1)
    path = path.replace("{kind}/{what}", "room/destroyed")
    kwargs: dict[str, Any] = {"json": {"room_name": "x"}} if method == "POST" else {}
    # A member's token is not what these routes take: never a 2xx with pair data.
    response = await client.request(
        method, path, headers=pair.auth(), allow_redirects=False, **kwargs
    )
    body = await response.text()
    for secret in secrets_of(pair)[:4]:
        assert secret not in body
    assert response.status < 500


@pytest.mark.parametrize("route", served(PUBLIC))
async def test_public_routes_leak_nothing(client: Client, pair: Pair, route: str) -> None:
    method, path = route.split(" ", 1)
    path = {
        "/static": "/static/panel.css",
        "/static/platforms/jitsi": "/static/platforms/jitsi/panel.js",
        "/static/platforms/zoom": "/static/platforms/zoom/profile.js",
        "/invite/{code}": "/invite/nope",
    }.get(path, path)
    path = path.replace("{code}", "not-a-code")
    response = await client.request(method, path, allow_redirects=False)
    assert response.status < 500
    body = await response.read()
    for secret in secrets_of(pair)[:4]:
        assert secret.encode() not in body
