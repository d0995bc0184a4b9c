"""The OpenAPI 3.1 document, generated from the endpoint registry and its pydantic models.

Every parameter's schema and `required` come from a model: the query model's fields, the path
parameter types of schemas.PATH_PARAMETERS, and the body model (required when it has a required
field). tests/test_openapi.py checks the document against the models, not against this code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from sidecar import __version__
from sidecar.api.routing import Endpoint, api
from sidecar.api.schemas import PATH_PARAMETERS

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "code": {
                    "type": "string",
                    "description": "On some 409s: what is in the way, for a client to act on "
                    "(e.g. too_early, nobody_joined, cancelled)",
                },
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {"type": "string"},
                            "msg": {"type": "string", "description": "machine detail"},
                            "type": {"type": "string", "description": "e.g. string_too_long"},
                            "message": {
                                "type": "string",
                                "description": 'a sentence for a person, e.g. "At most 8,000 '
                                'characters (you have 9,214)."',
                            },
                        },
                    },
                },
            },
        }
    },
}


def build_openapi(endpoints: list[Endpoint] | None = None) -> dict[str, Any]:
    endpoints = api.endpoints if endpoints is None else endpoints
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for e in endpoints:
        for model, mode in (
            (e.body, "validation"),
            (e.query, "validation"),
            (e.response, "serialization"),
        ):
            if model is not None and (model, mode) not in wanted:
                wanted.append((model, mode))  # type: ignore[arg-type]
    refs, schemas = models_json_schema(wanted, ref_template="#/components/schemas/{model}")
    components = dict(schemas.get("$defs", {}))
    components["Error"] = _ERROR_SCHEMA

    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        paths.setdefault(e.full_path, {})[e.method.lower()] = _operation(e, refs, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mentor Sidecar API",
            "version": __version__,
            "description": "The pair's mentorship: agreement, goals, meetings, agenda, next steps.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sidecar_session"},
            },
        },
    }


def _operation(e: Endpoint, refs: dict[Any, Any], components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": e.fn.__name__,
        "summary": e.summary,
        "tags": list(e.tags),
        "parameters": [path_parameter(name) for name in e.path_parameters],
        "responses": _responses(e, refs),
    }
    if e.query is not None:
        operation["parameters"] += query_parameters(
            _resolve(refs[(e.query, "validation")], components)
        )
    if e.raw_body:
        binary = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
        operation["requestBody"] = {"required": True, "content": dict.fromkeys(e.raw_body, binary)}
    if e.body is not None:
        content: dict[str, Any] = {"schema": refs[(e.body, "validation")]}
        if e.example is not None:
            content["example"] = e.example
        # An empty body is read as {}: it is required only when a field is (see parse_json_body).
        required = any(field.is_required() for field in e.body.model_fields.values())
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": content},
        }
    security: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
    if e.auth == "optional":
        security.append({})
    operation["security"] = [] if e.auth == "none" else security
    return operation


def path_parameter(name: str) -> dict[str, Any]:
    schema = TypeAdapter(PATH_PARAMETERS[name]).json_schema()
    return {"name": name, "in": "path", "required": True, "schema": schema}


def query_parameters(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One parameter per field of a query model's JSON Schema, required as the model says."""
    required = set(model_schema.get("required", []))
    parameters = []
    for name, schema in model_schema.get("properties", {}).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in schema:
            parameter["description"] = schema["description"]
        parameter["schema"] = schema if name in required else _without_null(schema)
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query string cannot say null: an optional parameter is left out instead."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) != len(schema.get("anyOf", [])) and branches:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**rest, **branches[0]} if len(branches) == 1 else {**rest, "anyOf": branches}
    return schema


def _responses(e: Endpoint, refs: dict[Any, Any]) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses: dict[str, Any] = {}
    if e.response is not None:
        responses[str(e.status)] = {
            "description": e.summary,
            "content": {"application/json": {"schema": refs[(e.response, "serialization")]}},
        }
    else:
        responses[str(e.status)] = {"description": e.summary}
    statuses: list[tuple[str, str]] = [("404", "Not found, or not yours")]
    if e.body is not None or e.query is not None:
        statuses += [("400", "Body is not a JSON object"), ("422", "A field is invalid")]
    if e.auth == "required":
        statuses.append(("401", "Not signed in, or the token is revoked"))
    if e.limit is not None:
        statuses.append(("429", f"Quota '{e.limit}' used up; Retry-After says when to try again"))
    for status, description in statuses:
        responses[status] = {"description": description, "content": error}
    return responses


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = components[ref.rsplit("/", 1)[-1]]
    return resolved
