"""Health checks, security headers, and a graceful shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestClient, TestServer

from sidecar.app import create_app
from sidecar.keys import WEBSOCKETS
from sidecar.settings import Settings

Client = TestClient[web.Request, web.Application]


async def test_health_and_readiness(client: Client) -> None:
    assert (await (await client.get("/healthz")).json()) == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"


async def test_every_response_carries_the_security_headers(client: Client) -> None:
    for path in ("/", "/healthz", "/api/v1/me", "/meetings/unknown", "/static/panel.js"):
        response = await client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Strict-Transport-Security"].startswith("max-age="), path
        assert response.headers["Referrer-Policy"] == "no-referrer", path


async def test_html_pages_have_a_strict_csp_and_no_inline_script(client: Client) -> None:
    for path, status in (("/", 200), ("/meetings/unknown", 401), ("/invite/msi_x", 200)):
        response = await client.get(path)
        assert response.status == status, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp
        assert "frame-ancestors" in csp and "default-src 'none'" in csp
        html = await response.text()
        nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
        assert nonce and "<script>" not in html.replace(" ", "")
        for tag in html.split("<script")[1:]:
            assert 'src="/static/' in tag.split(">", 1)[0], "only our own script files"
        assert "http://" not in html.split("<body", 1)[0].replace("http://www.w3.org", ""), "no CDN"


async def test_each_page_gets_its_own_nonce(client: Client) -> None:
    first = (await client.get("/")).headers["Content-Security-Policy"]
    second = (await client.get("/")).headers["Content-Security-Policy"]
    assert first != second


async def test_shutdown_closes_websockets_with_going_away(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        request.app[WEBSOCKETS].add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            request.app[WEBSOCKETS].discard(ws)
        return ws

    app.router.add_get("/ws/test", echo)
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.make_url("/ws/test"))
        received = asyncio.create_task(ws.receive())  # answer the close while the server waits
        await server.close()
        message = await received
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == WSCloseCode.GOING_AWAY
