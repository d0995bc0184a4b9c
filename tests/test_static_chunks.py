"""The split front-end as the service serves it: the entry script, its chunks, their gzip twins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.web.pages import CHUNK_CACHE_CONTROL

Client = TestClient[web.Request, web.Application]
STATIC = Path(__file__).resolve().parents[1] / "sidecar" / "static"
ZOOM_CHUNK = min(
    p.name for p in (STATIC.parents[1] / "zoom_app" / "static" / "chunks").glob("*.js")
)


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


async def test_a_platforms_hashed_chunks_are_cached_for_good_too(client: Client) -> None:
    """Zoom's build splits the SDK into hashed chunks of its own (/static/platforms/zoom/...)."""
    if not (await client.get("/static/platforms/zoom/pages.js")).ok:
        pytest.skip("the suite runs without Zoom (MENTOR_SIDECAR_PLATFORMS)")
    response = await client.get(f"/static/platforms/zoom/chunks/{ZOOM_CHUNK}")
    assert response.status == 200
    assert response.headers["Cache-Control"] == CHUNK_CACHE_CONTROL
    entry = await client.get("/static/platforms/zoom/pages.js")
    assert "immutable" not in entry.headers.get("Cache-Control", "")
