"""Declares API endpoints once: the route, its auth, its body and response models.

The registry feeds the aiohttp router, the OpenAPI document and the authorisation-matrix tests,
so an endpoint cannot exist without being documented and tested for access.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from sidecar.api.auth import Identity, identify, require_identity
from sidecar.api.errors import ApiError, InputRejected, validation_fields
from sidecar.api.schemas import PATH_PARAMETERS
from sidecar.db.repositories import Repositories
from sidecar.domain.models import Meeting
from sidecar.keys import LIVE_EVENTS, RATE_LIMITER, REPOS, SETTINGS
from sidecar.limits import QUOTAS, enforce
from sidecar.platforms.names import checked_platform_name
from sidecar.settings import Settings

API_PREFIX = "/api/v1"
PATH_PARAMETER = re.compile(r"{(\w+)}")
_PATH_ADAPTERS = {name: TypeAdapter(kind) for name, kind in PATH_PARAMETERS.items()}
Auth = Literal["required", "optional", "none"]
BodyT = TypeVar("BodyT")
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class Call(Generic[BodyT]):
    """What an endpoint function receives: the parsed, validated request."""

    request: web.Request
    identity: Identity | None
    body: BodyT
    query: Any

    @property
    def repos(self) -> Repositories:
        return self.request.app[REPOS]

    @property
    def settings(self) -> Settings:
        return self.request.app[SETTINGS]

    @property
    def viewer(self) -> str:
        # Only endpoints declared with auth='required' read the viewer; one that forgot still
        # answers like every signed-out request rather than act for nobody.
        if self.identity is None:
            raise ApiError(401, "authentication: sign in first")
        return self.identity.person_id

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    async def publish(
        self, kind: str, *, meeting_id: str | None = None, mentorship_id: str | None = None
    ) -> None:
        """Tell the pair's open panels that `kind` changed (after the change is committed)."""
        await self.request.app[LIVE_EVENTS].publish(
            kind, self.viewer, meeting_id=meeting_id, mentorship_id=mentorship_id
        )


EndpointFn = Callable[[Call[Any]], Awaitable[BaseModel | web.StreamResponse | None]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # below API_PREFIX, with {name} parameters
    fn: EndpointFn
    summary: str
    auth: Auth
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    example: dict[str, Any] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    publishes: str | None = None  # the live event a successful call sends to the pair's panels
    raw_body: tuple[str, ...] = ()  # content types of a non-JSON body the function reads itself
    limit: str | None = None  # the quota of sidecar.limits.QUOTAS each call counts against
    platform: str | None = None  # the call platform (plugin) it belongs to; None: the core's

    @property
    def full_path(self) -> str:
        return API_PREFIX + self.path

    @property
    def path_parameters(self) -> list[str]:
        return PATH_PARAMETER.findall(self.path)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.auth == "required":
            identity: Identity | None = await require_identity(request)
        elif self.auth == "optional":
            identity = await identify(request)
        else:
            identity = None
        for name in self.path_parameters:
            try:
                _PATH_ADAPTERS[name].validate_python(request.match_info[name])
            except ValidationError as exc:  # malformed: as unknown as an id that does not exist
                raise ApiError(404, f"{name}: no such {name.removesuffix('_id')}") from exc
        if self.limit is not None:
            await enforce(
                request.app[RATE_LIMITER],
                QUOTAS[self.limit],
                request,
                request.app[SETTINGS],
                identity.person_id if identity else None,
            )
        query = _parse_query(self.query, request) if self.query else None
        body = await parse_json_body(self.body, request) if self.body else None
        call = Call(request=request, identity=identity, body=body, query=query)
        result = await self.fn(call)
        if self.publishes is not None:
            await _publish(call, self.publishes, result)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204)
        if self.response is not None and not isinstance(result, self.response):
            # A repository record (or anything else) is served as the declared response model:
            # its fields only, so the document and the answer cannot drift apart.
            result = self.response.model_validate(result, from_attributes=True)
        return web.Response(
            status=self.status, text=result.model_dump_json(), content_type="application/json"
        )


class ApiRegistry:
    def __init__(
        self, platform: str | None = None, endpoints: list[Endpoint] | None = None
    ) -> None:
        self.platform = platform
        self.endpoints: list[Endpoint] = [] if endpoints is None else endpoints

    def for_platform(self, name: str) -> ApiRegistry:
        """The registry a platform plugin declares its endpoints with: the same list (one
        OpenAPI document, one access matrix), each endpoint marked as the platform's, and
        served only where that platform is enabled."""
        return ApiRegistry(checked_platform_name(name), self.endpoints)

    def endpoints_for(self, platforms: Collection[str]) -> list[Endpoint]:
        """The core's endpoints and those of the given platforms."""
        return [e for e in self.endpoints if e.platform is None or e.platform in platforms]

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        auth: Auth = "required",
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        example: dict[str, Any] | None = None,
        tags: tuple[str, ...] = (),
        publishes: str | None = None,
        raw_body: tuple[str, ...] = (),
        limit: str | None = None,
    ) -> Callable[[EndpointFn], EndpointFn]:
        if limit is not None and limit not in QUOTAS:  # a typo would mean no quota at all
            raise ValueError(f"{method} {path}: unknown quota {limit!r} (see sidecar/limits.py)")
        untyped = set(PATH_PARAMETER.findall(path)) - set(PATH_PARAMETERS)
        if untyped:  # it would be served and documented as any string
            raise ValueError(f"{method} {path}: add {sorted(untyped)} to schemas.PATH_PARAMETERS")

        def register(fn: EndpointFn) -> EndpointFn:
            self.endpoints.append(
                Endpoint(
                    method,
                    path,
                    fn,
                    summary,
                    auth,
                    body,
                    query,
                    response,
                    status,
                    example,
                    tags,
                    publishes,
                    raw_body,
                    limit,
                    self.platform,
                )
            )
            return fn

        return register

    def install(self, app: web.Application, platforms: Collection[str] = ()) -> None:
        for endpoint in self.endpoints_for(platforms):
            app.router.add_route(endpoint.method, endpoint.full_path, endpoint.handle)


api = ApiRegistry()


async def _publish(call: Call[Any], kind: str, result: object) -> None:
    """Find which meeting or mentorship changed, from the result or else the path."""
    if isinstance(result, Meeting):  # the mentorship too, for its agreement page's schedule
        await call.publish(kind, meeting_id=result.id, mentorship_id=result.mentorship_id)
    elif isinstance(getattr(result, "meeting_id", None), str):
        await call.publish(kind, meeting_id=result.meeting_id)  # type: ignore[attr-defined]
    elif isinstance(getattr(result, "mentorship_id", None), str):
        await call.publish(kind, mentorship_id=result.mentorship_id)  # type: ignore[attr-defined]
    elif "meeting_id" in call.request.match_info:
        await call.publish(kind, meeting_id=call.path("meeting_id"))
    elif "mentorship_id" in call.request.match_info:
        await call.publish(kind, mentorship_id=call.path("mentorship_id"))


async def parse_json_body(model: type[ModelT], request: web.Request) -> ModelT:
    """A JSON object body validated by `model`; 4xx naming the problem otherwise."""
    raw = await request.read()
    if len(raw) > request.app[SETTINGS].max_body_bytes:
        raise ApiError(413, "body: larger than MENTOR_SIDECAR_MAX_BODY_BYTES")
    content_type = request.headers.get("Content-Type", "application/json")
    if not raw.strip():
        raw = b"{}"  # no body: the defaults (an optional body, e.g. of POST .../end)
    elif content_type.split(";")[0].strip().lower() not in ("application/json", ""):
        raise ApiError(415, "Content-Type: the API takes application/json")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"body: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "body: expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputRejected(validation_fields(exc)) from exc


def _parse_query(model: type[BaseModel], request: web.Request) -> BaseModel:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise InputRejected(validation_fields(exc, prefix="query")) from exc
