"""Every API endpoint, taken from the registry itself, tried by everyone who might call it.

A new endpoint is covered automatically; one whose path parameter this file cannot fill fails
the test instead of being skipped, so access is decided for every route on purpose.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.api.routing import Endpoint, api
from sidecar.keys import REPOS
from tests.conftest import Pair, tiny_png

Client = TestClient[web.Request, web.Application]
MEMBER_ENDPOINTS = [e for e in api.endpoints if e.auth == "required"]
# The fixture pair is complete, so a new invite is refused; test_api shows the 201 for a half pair.
QUERY_EXAMPLES = {"q": "critique"}  # values for required query parameters
EXPECTED_FOR_MEMBERS = {
    "POST /mentorships/{mentorship_id}/invites": 409,
    # The spare token is an API token, not a browser session (test_signin_requests ends one).
    "DELETE /me/sessions/{token_id}": 404,
    # Nothing is planned for erasure in the fixture pair, so there is nothing to undo.
    "POST /mentorships/{mentorship_id}/erasure/undo": 404,
    "POST /me/erasure/undo": 409,
    # The fixture's meeting has not ended, so there is nothing to reopen.
    "POST /meetings/{meeting_id}/reopen": 409,
}


def _ids(e: Endpoint) -> str:
    return f"{e.method} {e.path}"


def fill_path(endpoint: Endpoint, pair: Pair, **extra: str) -> str:
    values = extra | {
        "mentorship_id": pair.mentorship_id,
        "meeting_id": pair.meeting_id,
        "agenda_item_id": pair.agenda_item_id,
        "goal_id": pair.goal_id,
        "action_item_id": pair.action_item_id,
        "token_id": pair.spare_token_id,
        "person_id": pair.mentee_id,
        "agreement_id": pair.agreement_id,
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"access matrix: no value for path parameter {{{name}}}"
        return values[name]

    return re.sub(r"{(\w+)}", replace, endpoint.full_path)


async def readable(response: Any) -> str:
    """The whole answer as text; an archive is opened and every file in it read."""
    data = await response.read()
    if response.content_type == "application/zip":
        archive = zipfile.ZipFile(io.BytesIO(data))
        data = b"".join(archive.read(name) for name in archive.namelist())
    return str(data.decode("utf-8", "replace"))


async def call(client: Client, endpoint: Endpoint, pair: Pair, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if endpoint.body is not None:
        kwargs["json"] = endpoint.example or {}
    if endpoint.query is not None:
        required = [n for n, f in endpoint.query.model_fields.items() if f.is_required()]
        kwargs["params"] = {name: QUERY_EXAMPLES[name] for name in required}
    if endpoint.raw_body:
        kwargs["data"] = tiny_png()
        kwargs["headers"] = {**headers, "Content-Type": "image/png"}
    return await client.request(endpoint.method, fill_path(endpoint, pair), **kwargs)


@pytest.mark.parametrize("endpoint", MEMBER_ENDPOINTS, ids=_ids)
async def test_strangers_get_nothing(
    client: Client, pair: Pair, other_pair: Pair, endpoint: Endpoint
) -> None:
    revoked_secret, revoked = await client.app[REPOS].tokens.issue(pair.mentor_id, label="old")
    await client.app[REPOS].tokens.revoke(pair.mentor_id, revoked.id)

    for who, headers in [
        ("anonymous", {}),
        ("malformed header", {"Authorization": "Token abc"}),
        ("unknown token", {"Authorization": "Bearer mst_not-a-real-token"}),
        ("revoked token", {"Authorization": f"Bearer {revoked_secret}"}),
    ]:
        response = await call(client, endpoint, pair, headers)
        assert response.status == 401, f"{who}: {response.status} {await response.text()}"
        assert (await response.json())["error"]["status"] == 401

    uses_own_scope = endpoint.path.startswith("/me") or "{" not in endpoint.path
    response = await call(client, endpoint, pair, other_pair.auth())
    body = await readable(response)
    if uses_own_scope:
        # /me and list endpoints answer about the caller only: never the other pair's data.
        assert response.status in (200, 201, 202, 204, 404, 409), body
        for secret_id in (pair.mentorship_id, pair.meeting_id, pair.mentor_id, pair.goal_id):
            assert secret_id not in body
    else:
        assert response.status == 404, f"member of another pair: {response.status} {body}"


@pytest.mark.parametrize("endpoint", MEMBER_ENDPOINTS, ids=_ids)
async def test_members_may(client: Client, pair: Pair, endpoint: Endpoint) -> None:
    for who in ("mentor", "mentee"):
        if endpoint.method == "DELETE" and who == "mentee":
            continue  # the first call already deleted the item
        if endpoint.path == "/me/tokens/{token_id}" and who == "mentee":
            continue  # the spare token is the mentor's own; for the mentee it is someone else's
        response = await call(client, endpoint, pair, pair.auth(who))
        expected = EXPECTED_FOR_MEMBERS.get(_ids(endpoint), endpoint.status)
        if _ids(endpoint) == "POST /meetings/{meeting_id}/agenda/send" and who == "mentee":
            # Allowed, but the mentor's call just emailed it: a second send within
            # MENTOR_SIDECAR_AGENDA_RESEND_MINUTES waits (a 429, not the 404 of an outsider).
            expected = 429
        assert response.status == expected, f"{who}: {await response.text()}"


async def test_a_token_of_someone_else_cannot_be_revoked(client: Client, pair: Pair) -> None:
    response = await client.delete(
        f"/api/v1/me/tokens/{pair.spare_token_id}", headers=pair.auth("mentee")
    )
    assert response.status == 404
    still = await client.get("/api/v1/me/tokens", headers=pair.auth("mentor"))
    assert all(t["revoked_at"] is None for t in (await still.json())["tokens"])


def test_every_endpoint_is_in_the_matrix_or_deliberately_public() -> None:
    public = {_ids(e) for e in api.endpoints if e.auth != "required"}
    assert public == {
        "POST /mentorships",
        "GET /invites/{code}",
        "POST /invites/{code}/accept",
        "POST /signin-requests",
    }
