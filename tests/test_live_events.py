"""The other person's panel hears at once when the agenda, goals or next steps change."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import Pair

Client = TestClient[web.Request, web.Application]


async def listen(client: Client, pair: Pair, who: str) -> Any:
    token = pair.mentor_token if who == "mentor" else pair.mentee_token
    ws = await client.ws_connect(f"/ws/meetings/{pair.meeting_id}/events?token={token}")
    assert json.loads((await ws.receive()).data) == {"type": "hello"}
    return ws


async def next_event(ws: Any) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 3)
    return dict(json.loads(message.data))


async def test_agenda_changes_reach_the_other_panel(client: Client, pair: Pair) -> None:
    mentor_ws = await listen(client, pair, "mentor")
    added = await client.post(
        f"/api/v1/meetings/{pair.meeting_id}/agenda",
        headers=pair.auth("mentee"),
        json={"section": "topics", "text": "Visa paperwork"},
    )
    assert await next_event(mentor_ws) == {"type": "agenda", "by": pair.mentee_id}
    item_id = (await added.json())["id"]
    await client.patch(
        f"/api/v1/agenda-items/{item_id}", headers=pair.auth("mentee"), json={"done": True}
    )
    assert (await next_event(mentor_ws))["type"] == "agenda"
    await client.delete(f"/api/v1/agenda-items/{item_id}", headers=pair.auth("mentee"))
    assert (await next_event(mentor_ws))["type"] == "agenda"
    await mentor_ws.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "kind"),
    [
        ("POST", "/mentorships/{m}/goals", {"title": "New goal"}, "goals"),
        ("POST", "/goals/{g}/progress", {"note": "Half way"}, "goals"),
        ("POST", "/mentorships/{m}/action-items", {"text": "Read the book"}, "actions"),
        ("PATCH", "/mentorships/{m}/agreement", {"objectives": "New"}, "agreement"),
        ("PATCH", "/meetings/{mt}", {"title": "Renamed"}, "meeting"),
    ],
)
async def test_other_changes_reach_the_panel(
    client: Client, pair: Pair, method: str, path: str, body: dict[str, str], kind: str
) -> None:
    ws = await listen(client, pair, "mentee")
    url = "/api/v1" + path.format(m=pair.mentorship_id, g=pair.goal_id, mt=pair.meeting_id)
    response = await client.request(method, url, headers=pair.auth("mentor"), json=body)
    assert response.status < 300
    assert await next_event(ws) == {"type": kind, "by": pair.mentor_id}
    await ws.close()


async def test_the_event_socket_is_for_the_pair_only(
    client: Client, pair: Pair, other_pair: Pair
) -> None:
    for url in (
        f"/ws/meetings/{pair.meeting_id}/events",
        f"/ws/meetings/{pair.meeting_id}/events?token={other_pair.mentor_token}",
    ):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(url)
        assert refused.value.status == 403
