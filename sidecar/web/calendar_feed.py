"""`/calendar/{secret}.ics`: the subscription a calendar app polls; the secret is the access."""

from __future__ import annotations

from aiohttp import web

from sidecar.api.auth import public_origin
from sidecar.calendar import feed
from sidecar.domain.errors import NotFound
from sidecar.keys import REPOS


async def calendar_feed(request: web.Request) -> web.Response:
    repos = request.app[REPOS]
    try:
        person_id = await repos.calendar_feeds.person_for(request.match_info["code"])
    except NotFound:
        raise web.HTTPNotFound(text="unknown or replaced calendar link") from None
    viewer = await repos.people.get(person_id)
    meetings = await repos.meetings.for_person(person_id)
    mentorships = {m.id: m for m in await repos.mentorships.list_for(person_id)}
    people = {}
    for mentorship in mentorships.values():
        for member in (mentorship.mentor_id, mentorship.mentee_id):
            if member and member not in people:
                people[member] = await repos.people.get(member)
    body = feed(viewer, meetings, mentorships, people, public_origin(request))
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/calendar/{code}.ics", calendar_feed)
