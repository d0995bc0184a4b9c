"""The pair's optional summary webhook: a JSON POST with Slack-compatible `text`.

A local aiohttp server stands in for the chat service's incoming-webhook endpoint (Slack's only
needs a JSON body with `text`); the real service cannot be reached from here."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.keys import DATABASE
from sidecar.mail import webhook
from sidecar.meeting_lifecycle import end_meeting
from sidecar.settings import Settings
from tests.conftest import add_meeting, make_pair
from tests.waiting import eventually, outbox_empty


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
    await outbox_empty(server.app[DATABASE])  # nothing left that could post a second time
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

    async def tried() -> bool:
        sql = "SELECT attempts FROM outbox WHERE kind = 'webhook'"
        return bool(await db.fetch_value(sql))

    await eventually(tried, what="the webhook's first attempt")
    row = await db.fetch_one("SELECT last_error, sent_at FROM outbox WHERE kind = 'webhook'")
    assert row is not None and row["sent_at"] is None and "non-public" in row["last_error"]
    await server.close()


class ChangingDns:
    """A resolver that answers a public address first and loopback after (DNS rebinding)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[tuple[Any, ...]]:
        self.calls += 1
        address = "93.184.215.14" if self.calls == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


async def test_the_webhook_connects_only_to_the_addresses_it_checked() -> None:
    """The host is resolved once; a second answer (loopback) is never asked for or used."""
    reached_loopback: list[object] = []

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reached_loopback.append(writer.get_extra_info("peername"))
        writer.close()

    loopback = await asyncio.start_server(count, "127.0.0.1", 0)
    port = loopback.sockets[0].getsockname()[1]
    dns = ChangingDns(port)
    dialled: list[tuple[Any, ...]] = []

    def no_outside_network(addr_info: Any) -> socket.socket:
        dialled.append(addr_info[4])
        raise OSError("the test does not reach outside networks")

    with pytest.raises(aiohttp.ClientConnectorError):
        await webhook.post(
            f"https://chat.test:{port}/hooks/abc",
            b"{}",
            allow_private=False,
            lookup=dns,
            socket_factory=no_outside_network,
        )
    assert dns.calls == 1
    assert dialled == [("93.184.215.14", port)]
    assert reached_loopback == []
    loopback.close()
    await loopback.wait_closed()


async def test_a_host_answering_loopback_first_is_refused_before_connecting() -> None:
    dns = ChangingDns(443)
    dns.calls = 1  # the next answer is loopback
    dialled: list[object] = []

    def record(addr_info: Any) -> socket.socket:
        dialled.append(addr_info)
        raise OSError("unexpected")

    with pytest.raises(webhook.WebhookRefused, match="non-public"):
        await webhook.post(
            "https://chat.test/hooks/abc",
            b"{}",
            allow_private=False,
            lookup=dns,
            socket_factory=record,
        )
    assert dialled == []


async def test_the_pinned_resolver_answers_only_for_the_checked_host() -> None:
    checked = await webhook.check_destination(
        "https://chat.test/x", allow_private=False, lookup=ChangingDns(443)
    )
    assert checked is not None
    resolver = webhook.PinnedResolver("chat.test", checked)
    answer = await resolver.resolve("chat.test", 8443)
    assert [(a["host"], a["port"], a["hostname"]) for a in answer] == [
        ("93.184.215.14", 8443, "chat.test")
    ]
    with pytest.raises(OSError):
        await resolver.resolve("other.test", 443)
