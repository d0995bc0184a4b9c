"""What the two people show each other: a photo, and conversation prompts to get to know each
other."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sidecar.api.errors import ApiError
from sidecar.api.routing import Call, api
from sidecar.api.schemas import PersonOut, PromptList, PromptOut, PromptQuery
from sidecar.domain.errors import Invalid
from sidecar.domain.models import Person
from sidecar.photos import ACCEPTED, normalise_in_thread
from sidecar.prompts import KIND_TITLES, PROMPTS

TAGS = ("profiles",)


@api.route(
    "PUT",
    "/me/photo",
    summary="Upload my photo (JPEG, PNG or WebP); it is stored as a 256 px square JPEG",
    response=PersonOut,
    raw_body=tuple(ACCEPTED.values()),
    tags=TAGS,
    limit="upload",
)
async def put_photo(call: Call[Any]) -> Person:
    content_type = call.request.content_type
    if content_type not in ACCEPTED.values():
        raise ApiError(415, "Content-Type: send the photo as image/jpeg, image/png or image/webp")
    data = await call.request.read()
    if not data:
        raise Invalid("photo", "the body is empty")
    if len(data) > call.settings.photo_max_bytes:
        raise ApiError(413, f"photo: larger than {call.settings.photo_max_bytes} bytes")
    jpeg = await normalise_in_thread(data)
    return await call.repos.people.save_photo(call.viewer, jpeg)


@api.route("DELETE", "/me/photo", summary="Remove my photo", status=204, tags=TAGS)
async def delete_photo(call: Call[None]) -> None:
    await call.repos.people.delete_photo(call.viewer)


@api.route(
    "GET",
    "/people/{person_id}/photo",
    summary="A person's photo: yours, or the other person's in a mentorship you share",
    tags=TAGS,
)
async def get_photo(call: Call[None]) -> web.Response:
    content_type, data = await call.repos.people.photo(call.path("person_id"), viewer=call.viewer)
    return web.Response(
        body=data, content_type=content_type, headers={"Cache-Control": "private, max-age=300"}
    )


@api.route(
    "GET",
    "/prompts",
    summary="Conversation prompts: getting to know each other, open questions, culture",
    query=PromptQuery,
    response=PromptList,
    tags=TAGS,
)
async def list_prompts(call: Call[None]) -> PromptList:
    kinds = [call.query.kind] if call.query.kind else list(PROMPTS)
    return PromptList(
        prompts=[
            PromptOut(id=f"{kind}-{n}", kind=kind, kind_title=KIND_TITLES[kind], text=text)
            for kind in kinds
            for n, text in enumerate(PROMPTS[kind], start=1)
        ]
    )
