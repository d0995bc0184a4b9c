"""The OpenAPI 3.1 document describes every route, and its references resolve."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.api.routing import api

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
