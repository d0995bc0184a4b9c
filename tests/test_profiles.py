"""Photos the pair show each other, checked and resized; and the conversation prompts."""

from __future__ import annotations

from io import BytesIO

from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.conftest import Pair, tiny_png

Client = TestClient[web.Request, web.Application]


def image_bytes(fmt: str, size: tuple[int, int] = (1200, 800)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, "orange").save(out, format=fmt)
    return out.getvalue()


async def test_a_photo_is_resized_and_shown_to_the_partner_only(
    client: Client, pair: Pair, other_pair: Pair
) -> None:
    for fmt, content_type in (("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")):
        response = await client.put(
            "/api/v1/me/photo",
            data=image_bytes(fmt),
            headers={**pair.auth("mentor"), "Content-Type": content_type},
        )
        assert response.status == 200, await response.text()
        assert (await response.json())["photo_updated_at"] is not None
    photo = await client.get(f"/api/v1/people/{pair.mentor_id}/photo", headers=pair.auth("mentee"))
    assert photo.status == 200 and photo.content_type == "image/jpeg"
    with Image.open(BytesIO(await photo.read())) as stored:
        assert stored.size == (256, 256) and stored.format == "JPEG"
    stranger = await client.get(f"/api/v1/people/{pair.mentor_id}/photo", headers=other_pair.auth())
    assert stranger.status == 404
    me = await (await client.get("/api/v1/me", headers=pair.auth("mentee"))).json()
    assert me["mentorships"][0]["other"]["photo_updated_at"] is not None


async def test_uploads_that_are_not_accepted_images_are_refused(client: Client, pair: Pair) -> None:
    cases = [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", 415),
        (b"GIF89a not really", "image/png", 422),
        (image_bytes("GIF"), "image/png", 422),
        (b"", "image/png", 422),
        (image_bytes("PNG")[:200], "image/png", 422),
        (tiny_png(), "application/json", 415),
    ]
    for data, content_type, status in cases:
        response = await client.put(
            "/api/v1/me/photo", data=data, headers={**pair.auth(), "Content-Type": content_type}
        )
        assert response.status == status, (content_type, await response.text())
        body = await response.json()
        if status == 422:
            assert body["error"]["fields"][0]["loc"] == "photo"
    me = await (await client.get("/api/v1/me", headers=pair.auth())).json()
    assert me["person"]["photo_updated_at"] is None, "nothing was stored"


async def test_a_photo_over_the_limit_is_413(aiohttp_client: object, tmp_path: object) -> None:
    from sidecar.app import create_app
    from sidecar.settings import Settings
    from tests.conftest import make_pair

    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path, photo_max_bytes=10_000)))  # type: ignore[arg-type, operator]
    pair = await make_pair(client.app, "a")
    big = image_bytes("PNG", (2000, 2000))
    response = await client.put(
        "/api/v1/me/photo", data=big, headers={**pair.auth(), "Content-Type": "image/png"}
    )
    assert response.status == 413


async def test_prompts_come_in_three_kinds(client: Client, pair: Pair) -> None:
    every = await (await client.get("/api/v1/prompts", headers=pair.auth())).json()
    kinds = {p["kind"] for p in every["prompts"]}
    assert kinds == {"getting_to_know", "open_question", "cultural"}
    cultural = await client.get("/api/v1/prompts", params={"kind": "cultural"}, headers=pair.auth())
    assert {p["kind"] for p in (await cultural.json())["prompts"]} == {"cultural"}
    bad = await client.get("/api/v1/prompts", params={"kind": "gossip"}, headers=pair.auth())
    assert bad.status == 422
