"""Who is calling: a bearer token, or the HttpOnly session cookie a sign-in link sets.

No administrator exists: a token names a person, and the repositories decide what that person may
see (only the mentorships they belong to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from yarl import URL

from sidecar.api.errors import ApiError, unauthorized
from sidecar.keys import REPOS, SETTINGS

SESSION_COOKIE = "sidecar_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Identity:
    person_id: str
    token_id: str
    via: Literal["bearer", "cookie", "query"]


# Per-request cache, so several checks in one request look the token up once.
_IDENTITY: web.RequestKey[Identity | None] = web.RequestKey("identity")


async def identify(request: web.Request, *, allow_query_token: bool = False) -> Identity | None:
    """The caller's identity; None when anonymous. A bad bearer token is an error, not anonymous."""
    if _IDENTITY in request:
        cached: Identity | None = request[_IDENTITY]
        return cached
    identity = await _identify(request, allow_query_token)
    request[_IDENTITY] = identity
    return identity


async def _identify(request: web.Request, allow_query_token: bool) -> Identity | None:
    tokens = request.app[REPOS].tokens
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise unauthorized("Authorization: expected 'Bearer <token>'")
        found = await tokens.authenticate(secret.strip())
        if found is None:
            raise unauthorized("Authorization: the token is unknown, expired or revoked")
        return Identity(*found, via="bearer")
    if allow_query_token and "token" in request.query:
        found = await tokens.authenticate(request.query["token"])
        if found is None:
            raise unauthorized("token: unknown, expired or revoked")
        return Identity(*found, via="query")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = await tokens.authenticate(cookie)
        if found is not None:
            _check_same_origin(request)
            return Identity(*found, via="cookie")
    return None


async def require_identity(request: web.Request) -> Identity:
    identity = await identify(request)
    if identity is None:
        raise unauthorized()
    return identity


def public_origin(request: web.Request) -> str:
    """The origin browsers see for this service (honouring a trusted proxy's headers)."""
    settings = request.app[SETTINGS]
    if settings.public_url:
        return str(URL(settings.public_url).origin())
    scheme, host = request.scheme, request.host
    if settings.trust_forwarded_headers:
        scheme = request.headers.get("X-Forwarded-Proto", scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", host).split(",")[0].strip()
    return f"{scheme}://{host}"


def is_secure(request: web.Request) -> bool:
    return public_origin(request).startswith("https://")


def _check_same_origin(request: web.Request) -> None:
    # A cookie rides along with cross-site requests; a browser always names the page's Origin on
    # unsafe ones, so requiring ours stops cross-site request forgery.
    if request.method in _SAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin != public_origin(request):
        raise ApiError(403, "Origin: cookie-authenticated changes must come from this site")
