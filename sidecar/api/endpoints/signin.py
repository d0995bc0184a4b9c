"""Getting back in: a sign-in link by email, and the devices (browser sessions) I am on."""

from __future__ import annotations

from sidecar.api.auth import public_origin
from sidecar.api.routing import Call, api
from sidecar.api.schemas import Session, SessionList, SigninRequest, SigninRequested
from sidecar.keys import RATE_LIMITER, SIGNIN_MAILER
from sidecar.limits import QUOTAS, enforce_for
from sidecar.web.open_sockets import close_token_sockets

SENT = "If that address belongs to a mentorship here, a link is on its way. Check your inbox."


@api.route(
    "POST",
    "/signin-requests",
    summary="Email me a one-time sign-in link (one answer whether or not the address is known)",
    auth="none",
    body=SigninRequest,
    response=SigninRequested,
    status=202,
    example={"email": "ana@example.org"},
    tags=("sign-in",),
    limit="signin_request",
)
async def request_signin(call: Call[SigninRequest]) -> SigninRequested:
    address = str(call.body.email)
    limiter, settings = call.request.app[RATE_LIMITER], call.settings
    await enforce_for(limiter, QUOTAS["signin_email"], address.lower(), settings)
    people = await call.repos.people.with_email(address)  # looked up either way
    if people:
        call.request.app[SIGNIN_MAILER].submit(people, public_origin(call.request))
    return SigninRequested(message=SENT)


@api.route(
    "GET",
    "/me/sessions",
    summary="The devices I am signed in on (browser sessions), this one marked",
    response=SessionList,
    tags=("me",),
)
async def list_sessions(call: Call[None]) -> SessionList:
    current = call.identity.token_id if call.identity else None
    return SessionList(
        sessions=[
            Session(
                id=token.id,
                device=token.device or "A browser",
                created_at=token.created_at,
                last_used_at=token.last_used_at,
                expires_at=token.expires_at,
                current=token.id == current,
            )
            for token in await call.repos.tokens.sessions(call.viewer)
        ]
    )


@api.route(
    "DELETE",
    "/me/sessions/{token_id}",
    summary="Sign one of my devices out; its open panels close at once",
    status=204,
    tags=("me",),
)
async def end_session(call: Call[None]) -> None:
    session = await call.repos.tokens.revoke_session(call.viewer, call.path("token_id"))
    await close_token_sockets(call.request.app, session.id)  # 4401: that device's panels
