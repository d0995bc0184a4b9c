"""One JSON shape for every error, and the middleware that guarantees it.

`{"error": {"status": 422, "message": "me.email: ...",
            "fields": [{"loc": "me.email", "msg": "...", "type": "value_error",
                        "message": "Enter an email address like ana@example.org."}]}}`
(`msg` and `type` are machine detail; `message` is a sentence for a person, see field_words.py.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from sidecar.api.field_words import readable
from sidecar.domain.errors import Conflict, Invalid, NotFound

log = logging.getLogger(__name__)


def error_response(
    status: int,
    message: str,
    fields: Iterable[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> web.Response:
    error: dict[str, object] = {"status": status, "message": message, "fields": list(fields)}
    if code is not None:
        error["code"] = code
    return web.json_response({"error": error}, status=status, headers=headers)


def validation_fields(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Each field's machine detail (`msg`, `type`) and a sentence for a person (`message`)."""
    fields = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "") or "body"
        words = readable(loc, error["type"], error["msg"], error.get("ctx") or {}, error["input"])
        fields.append({"loc": loc, "msg": error["msg"], "type": error["type"], "message": words})
    return fields


def invalid_field(exc: Invalid) -> dict[str, str]:
    words = exc.words or readable(exc.field, "invalid", exc.message, {}, None)
    return {"loc": exc.field, "msg": exc.message, "type": "invalid", "message": words}


def invalid_input(fields: list[dict[str, str]], status: int = 422) -> web.Response:
    message = "; ".join(f"{f['loc']}: {f['msg']}" for f in fields) or "invalid input"
    return error_response(status, message, fields)


class ApiError(Exception):
    """Raised inside handlers to answer with a specific status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class InputRejected(Exception):
    """Raised by the request parser: the listed fields failed validation."""

    def __init__(self, fields: list[dict[str, str]]) -> None:
        super().__init__(fields)
        self.fields = fields


def unauthorized(message: str = "sign in with your personal link or a bearer token") -> ApiError:
    return ApiError(401, message, {"WWW-Authenticate": 'Bearer realm="mentor-sidecar"'})


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /api every failure is JSON; nowhere does bad input become a 500."""
    is_api = request.path.startswith("/api/")
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, headers=exc.headers)
    except InputRejected as exc:
        return invalid_input(exc.fields)
    except NotFound as exc:
        return error_response(404, str(exc))
    except Invalid as exc:
        return invalid_input([invalid_field(exc)])
    except Conflict as exc:
        return error_response(409, str(exc), code=exc.code)
    except ValidationError as exc:
        return invalid_input(validation_fields(exc))
    except web.HTTPException as exc:
        if not is_api or exc.status < 400:
            raise
        return error_response(exc.status, exc.reason, headers=_passthrough_headers(exc))
    except json.JSONDecodeError as exc:
        return error_response(400, f"body: not valid JSON ({exc.msg})")


def _passthrough_headers(exc: web.HTTPException) -> dict[str, Any]:
    return {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate")}
