"""The access log, without secrets.

Tokens may travel in a query string (`/ws/notes/ID?token=…`, as y-websocket sends them) and codes
in paths (`/signin/{code}`, `/invite/{code}`, `/calendar/{code}.ics`). aiohttp's default format
logs the whole request line; this logger writes the path without its query string, and a route
that carries a secret in its path as its pattern (`/calendar/{code}.ics`).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

SECRET_PARAMETERS = frozenset({"code", "token"})


def loggable_path(request: web.BaseRequest) -> str:
    try:
        match_info = request.match_info if isinstance(request, web.Request) else None
    except AssertionError:  # a request refused before routing (a malformed HTTP message)
        match_info = None
    resource = match_info.route.resource if match_info is not None else None
    if resource is not None and match_info is not None and SECRET_PARAMETERS & set(match_info):
        return str(resource.canonical)
    return request.path


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.1fms "%s"',
            request.remote,
            request.method,
            loggable_path(request),
            response.status,
            response.body_length,
            time * 1000,
            request.headers.get("User-Agent", "-"),
        )
