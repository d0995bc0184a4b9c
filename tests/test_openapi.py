"""The OpenAPI 3.1 document: every route, valid OpenAPI, and what the models say."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, get_args

from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate
from pydantic import BaseModel, TypeAdapter

from sidecar.api.routing import Endpoint, api
from sidecar.api.schemas import PATH_PARAMETERS, MeetingOut, PersonOut
from sidecar.domain.models import Record
from tests.conftest import Pair

Client = TestClient[web.Request, web.Application]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


async def test_openapi_lists_every_endpoint_with_schemas_that_resolve(client: Client) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    for endpoint in api.endpoints:
        operation = doc["paths"][endpoint.full_path][endpoint.method.lower()]
        assert str(endpoint.status) in operation["responses"]
        if endpoint.body is not None:
            assert "requestBody" in operation
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref


async def test_request_schemas_forbid_unknown_fields(client: Client) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    assert schemas["MentorshipCreate"]["additionalProperties"] is False
    assert set(schemas["MentorshipCreate"]["required"]) == {"role"}


async def test_route_table_and_registry_agree(client: Client) -> None:
    """Nothing under /api/v1 is served that the registry (and so the docs and tests) misses."""
    served = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.method != "HEAD"
    }
    declared = {(e.method, e.full_path) for e in api.endpoints} | {("GET", "/api/v1/openapi.json")}
    assert served == declared


# --- the document against the models it describes (not against what the builder was fed) ------


def _operations(doc: dict[str, Any]) -> Iterator[tuple[Endpoint, dict[str, Any]]]:
    for endpoint in api.endpoints:
        yield endpoint, doc["paths"][endpoint.full_path][endpoint.method.lower()]


def _nested_models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()

    def types(annotation: Any) -> Iterator[Any]:
        yield annotation
        for argument in get_args(annotation):
            yield from types(argument)

    def walk(current: type[BaseModel]) -> Iterator[type[BaseModel]]:
        if current in seen:
            return
        seen.add(current)
        yield current
        for info in current.model_fields.values():
            for kind in types(info.annotation):
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    yield from walk(kind)

    return walk(model)


async def test_the_document_is_valid_openapi(client: Client) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    validate(doc)  # openapi-spec-validator: OpenAPI 3.1 itself, JSON Schema 2020-12 within


async def test_query_parameters_are_required_and_typed_as_their_model_says(
    client: Client,
) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    queried = 0
    for endpoint, operation in _operations(doc):
        documented = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        if endpoint.query is None:
            assert documented == {}, endpoint.full_path
            continue
        queried += 1
        fields = endpoint.query.model_fields
        assert set(documented) == set(fields), endpoint.full_path
        for name, info in fields.items():
            assert documented[name]["required"] is info.is_required(), (endpoint.path, name)
            adapter = TypeAdapter(info.annotation)
            if info.is_required():
                assert documented[name]["schema"]["type"] == adapter.json_schema()["type"]
    assert queried >= 3
    search = doc["paths"]["/api/v1/mentorships/{mentorship_id}/search"]["get"]
    (q,) = (p for p in search["parameters"] if p["name"] == "q")
    assert q["required"] is True and q["schema"]["minLength"] == 1


async def test_path_parameters_are_typed_from_the_path_types(client: Client) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    for endpoint, operation in _operations(doc):
        in_path = [p for p in operation["parameters"] if p["in"] == "path"]
        assert [p["name"] for p in in_path] == re.findall(r"{(\w+)}", endpoint.path)
        for parameter in in_path:
            expected = TypeAdapter(PATH_PARAMETERS[parameter["name"]]).json_schema()
            assert parameter["required"] is True and parameter["schema"] == expected
            assert parameter["schema"]["type"] == "string" and "pattern" in parameter["schema"]


async def test_request_bodies_are_required_when_their_model_has_a_required_field(
    client: Client,
) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    seen = {True: 0, False: 0}
    for endpoint, operation in _operations(doc):
        if endpoint.body is None:
            continue
        needs = any(info.is_required() for info in endpoint.body.model_fields.values())
        assert operation["requestBody"]["required"] is needs, endpoint.full_path
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{endpoint.body.__name__}"}
        seen[needs] += 1
    assert seen[True] and seen[False], "both kinds exist (e.g. POST .../goals, POST .../end)"


async def test_responses_are_the_apis_own_models_never_domain_records(client: Client) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    for endpoint, operation in _operations(doc):
        for model in (endpoint.body, endpoint.query, endpoint.response):
            for nested in _nested_models(model) if model is not None else ():
                assert not issubclass(nested, Record), (endpoint.full_path, nested.__name__)
        if endpoint.response is not None:
            content = operation["responses"][str(endpoint.status)]["content"]
            ref = content["application/json"]["schema"]["$ref"]
            assert ref == f"#/components/schemas/{endpoint.response.__name__}"
    assert "sequence" not in doc["components"]["schemas"]["MeetingOut"]["properties"]


async def test_a_served_record_has_exactly_its_response_models_fields(
    client: Client, pair: Pair
) -> None:
    meeting = await (
        await client.get(f"/api/v1/meetings/{pair.meeting_id}", headers=pair.auth())
    ).json()
    assert set(meeting) == set(MeetingOut.model_fields), "the calendar's sequence stays inside"
    listed = await (
        await client.get(f"/api/v1/mentorships/{pair.mentorship_id}/meetings", headers=pair.auth())
    ).json()
    assert [set(m) for m in listed["meetings"]] == [set(MeetingOut.model_fields)]
    me = await (await client.get("/api/v1/me", headers=pair.auth())).json()
    assert set(me["person"]) == set(PersonOut.model_fields)


async def test_a_malformed_id_in_a_path_is_a_404_naming_it(client: Client, pair: Pair) -> None:
    response = await client.get("/api/v1/meetings/not%20an%20id!", headers=pair.auth())
    assert response.status == 404
    assert (await response.json())["error"]["message"].startswith("meeting_id:")
    unknown = await client.get("/api/v1/meetings/AAAAAAAAAAAAAAAA", headers=pair.auth())
    assert unknown.status == 404
