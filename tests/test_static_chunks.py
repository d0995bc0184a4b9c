"""The split front-end as the service serves it: the entry script, its chunks, their gzip twins."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.web.pages import CHUNK_CACHE_CONTROL

Client = TestClient[web.Request, web.Application]
STATIC = Path(__file__).resolve().parents[1] / "sidecar" / "static"


def a_chunk() -> str:
    """A chunk panel.js imports (read from the shipped entry, so it is one that exists)."""
    entry = (STATIC / "panel.js").read_text(encoding="utf-8")
    found = re.search(r'"\./(chunks/[\w.-]+\.js)"', entry)
    assert found, "panel.js imports no chunk"
    return found.group(1)


async def test_chunks_are_served_gzipped_as_javascript_and_cached_for_good(client: Client) -> None:
    chunk = a_chunk()
    response = await client.get(f"/static/{chunk}", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.content_type in {"text/javascript", "application/javascript"}
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == CHUNK_CACHE_CONTROL
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await response.read() == (STATIC / chunk).read_bytes()  # the client unpacks it

    plain = await client.get(f"/static/{chunk}", headers={"Accept-Encoding": "identity"})
    assert plain.status == 200 and "Content-Encoding" not in plain.headers
    assert await plain.read() == (STATIC / chunk).read_bytes()


async def test_the_entry_keeps_its_name_and_is_not_cached_for_good(client: Client) -> None:
    response = await client.get("/static/panel.js", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.content_type in {"text/javascript", "application/javascript"}
    assert "immutable" not in response.headers.get("Cache-Control", "")


async def test_an_unknown_chunk_is_404_and_not_cached(client: Client) -> None:
    response = await client.get("/static/chunks/panel-NOSUCHHASH.js")
    assert response.status == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")
