"""The caller's own profile, tokens and sign-in links."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sidecar.api.auth import public_origin
from sidecar.api.endpoints.links import signin_url
from sidecar.api.endpoints.views import mentorship_brief
from sidecar.api.routing import Call, api
from sidecar.api.schemas import (
    AccessTokenOut,
    CalendarFeed,
    MeOut,
    PersonOut,
    ProfileErasurePlan,
    ProfilePatch,
    SigninLink,
    TokenCreate,
    TokenCreated,
    TokenList,
)
from sidecar.domain.ids import utcnow
from sidecar.domain.models import AccessToken, Person
from sidecar.web.open_sockets import close_token_sockets

TAGS = ("me",)


@api.route(
    "GET", "/me", summary="Who I am and the mentorships I belong to", response=MeOut, tags=TAGS
)
async def get_me(call: Call[None]) -> MeOut:
    repos = call.repos
    mentorships = await repos.mentorships.list_for(call.viewer)
    planned = await repos.erasures.profile(call.viewer)
    return MeOut(
        person=PersonOut.of(await repos.people.get(call.viewer)),
        mentorships=[await mentorship_brief(repos, m, call.viewer) for m in mentorships],
        profile_erasure=ProfileErasurePlan(erase_after=planned.erase_after) if planned else None,
    )


@api.route(
    "PATCH",
    "/me",
    summary="Change my profile",
    body=ProfilePatch,
    response=PersonOut,
    example={"about": "Product designer in Lisbon; I like long walks and short meetings."},
    tags=TAGS,
)
async def patch_me(call: Call[ProfilePatch]) -> Person:
    return await call.repos.people.update(call.viewer, call.body.changes())


@api.route(
    "GET",
    "/me/tokens",
    summary="My access tokens (never their secrets)",
    response=TokenList,
    tags=TAGS,
)
async def list_tokens(call: Call[None]) -> TokenList:
    return TokenList(tokens=AccessTokenOut.all(await call.repos.tokens.list(call.viewer)))


@api.route(
    "POST",
    "/me/tokens",
    summary="Create a personal access token for scripts",
    body=TokenCreate,
    response=TokenCreated,
    status=201,
    example={"label": "calendar script"},
    tags=TAGS,
)
async def create_token(call: Call[TokenCreate]) -> TokenCreated:
    secret, info = await call.repos.tokens.issue(call.viewer, kind="api", label=call.body.label)
    return TokenCreated(token=secret, info=AccessTokenOut.of(info))


@api.route(
    "DELETE",
    "/me/tokens/{token_id}",
    summary="Revoke one of my tokens; it stops working at once",
    response=AccessTokenOut,
    tags=TAGS,
)
async def revoke_token(call: Call[None]) -> AccessToken:
    token = await call.repos.tokens.revoke(call.viewer, call.path("token_id"))
    await close_token_sockets(call.request.app, token.id)  # 4401: its open sockets too
    return token


@api.route(
    "POST",
    "/me/signin-links",
    summary="A one-time link that signs me in on another device",
    response=SigninLink,
    status=201,
    tags=TAGS,
)
async def create_signin_link(call: Call[Any]) -> SigninLink:
    minutes = call.settings.signin_link_ttl_minutes
    url = await signin_url(call.request, call.repos, call.viewer)
    return SigninLink(signin_url=url, expires_at=utcnow() + timedelta(minutes=minutes))


@api.route(
    "POST",
    "/me/calendar-feed",
    summary="A private calendar subscription URL for my meetings (replaces any earlier one)",
    response=CalendarFeed,
    status=201,
    tags=TAGS,
)
async def create_calendar_feed(call: Call[None]) -> CalendarFeed:
    code = await call.repos.calendar_feeds.rotate(call.viewer)
    return CalendarFeed(url=f"{public_origin(call.request)}/calendar/{code}.ics")
