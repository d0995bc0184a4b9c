"""The pair's optional summary webhook: a JSON POST with Slack-compatible `text`.

A local aiohttp server stands in for the chat service's incoming-webhook endpoint (Slack's only
needs a JSON body with `text`); the real service cannot be reached from here."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.keys import DATABASE
from sidecar.settings import Settings
from sidecar.summary.ending import end_meeting
from tests.conftest import add_meeting, make_pair
from tests.test_outbox import eventually


async def receiver() -> tuple[TestServer, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks/abc", hook)
    server = TestServer(app)
    await server.start_server()
    return server, received


async def test_the_summary_is_posted_once_to_the_pairs_webhook(tmp_path: Path) -> None:
    chat, received = await receiver()
    settings = Settings(
        data_dir=tmp_path, outbox_poll_seconds=0.1, webhook_allow_private_addresses=True
    )
    server = TestServer(create_app(settings))
    await server.start_server()
    pair = await make_pair(server.app, "a")
    client_url = f"http://127.0.0.1:{server.port}/api/v1/mentorships/{pair.mentorship_id}"
    async with aiohttp.ClientSession(headers=pair.auth()) as session:
        bad = await session.patch(client_url, json={"summary_webhook_url": "not a url"})
        assert (
            bad.status == 422
            and (await bad.json())["error"]["fields"][0]["loc"] == "summary_webhook_url"
        )
        hook_url = str(chat.make_url("/hooks/abc"))
        ok = await session.patch(client_url, json={"summary_webhook_url": hook_url})
        assert (await ok.json())["summary_webhook_url"] == hook_url
    meeting = await add_meeting(server.app, pair, datetime.now(UTC) - timedelta(minutes=40))
    await asyncio.gather(
        *[end_meeting(server.app, meeting.id, source="panel", actor=None) for _ in range(3)]
    )
    await eventually(lambda: len(received) == 1)
    await asyncio.sleep(0.3)
    assert len(received) == 1
    assert (
        received[0]["text"].startswith("*Summary of Check-in, ")
        and received[0]["meeting_id"] == meeting.id
    )
    await server.close()
    await chat.close()


async def test_a_webhook_to_a_private_address_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, outbox_poll_seconds=0.1)
    server = TestServer(create_app(settings))
    await server.start_server()
    pair = await make_pair(server.app, "a")
    db = server.app[DATABASE]
    await db.execute(
        "UPDATE mentorships SET summary_webhook_url = 'https://127.0.0.1:9/hook' WHERE id = ?",
        (pair.mentorship_id,),
    )
    meeting = await add_meeting(server.app, pair, datetime.now(UTC) - timedelta(minutes=40))
    await end_meeting(server.app, meeting.id, source="panel", actor=None)
    await asyncio.sleep(0.5)
    row = await db.fetch_one("SELECT last_error, sent_at FROM outbox WHERE kind = 'webhook'")
    assert row is not None and row["sent_at"] is None and "non-public" in row["last_error"]
    await server.close()
