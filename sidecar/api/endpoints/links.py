"""Absolute links a person receives: invites and one-time sign-in links."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from yarl import URL

from sidecar.api.auth import public_origin
from sidecar.db.repositories import Repositories
from sidecar.keys import SETTINGS


def invite_url(request: web.Request, code: str) -> str:
    return f"{public_origin(request)}/invite/{code}"


async def signin_url(
    request: web.Request, repos: Repositories, person_id: str, next_path: str = "/"
) -> str:
    lifetime = timedelta(minutes=request.app[SETTINGS].signin_link_ttl_minutes)
    code = await repos.tokens.create_signin_link(person_id, lifetime)
    url = URL(f"{public_origin(request)}/signin/{code}")
    return str(url.with_query(next=next_path) if next_path != "/" else url)
