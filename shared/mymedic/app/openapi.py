"""The OpenAPI 3.1 document of every HTTP entry point: commands, reads, audits and the
served dashboards, generated from the pydantic models that validate their input."""

from __future__ import annotations

from typing import Any

from mymedic.app.command_api import openapi_document as commands_document
from mymedic.app.read_api import READ_MODELS

_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_READ_ANSWERS = {
    "200": {"description": "The read model's answer", "content": {"application/json": {}}},
    **{
        code: {"description": text, **_ERROR}
        for code, text in (
            ("400", "A repeated parameter"),
            ("401", "Missing, malformed, expired or forged token"),
            ("403", "Another tenant, branch or patient"),
            ("404", "Unknown model, appointment, branch, clinician or procedure"),
            ("422", "A missing, unknown or malformed parameter"),
            ("503", "A backend is unreachable: retry"),
        )
    },
}


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def openapi_document() -> dict[str, Any]:
    document = commands_document()
    paths = document["paths"]
    for name, model in sorted(READ_MODELS.items()):
        schema = model.parameters.model_json_schema(by_alias=True)
        paths[f"/read/{name}"] = {
            "get": {
                "operationId": f"read_{name}",
                "security": [{"bearerAuth": []}],
                "parameters": _query_parameters(schema),
                "responses": _READ_ANSWERS,
            }
        }
    paths["/audit/appointments/{appointment_id}"] = {
        "get": {
            "operationId": "audit_appointment",
            "description": "What happened to an appointment, from the event log alone.",
            "security": [{"bearerAuth": []}],
            "parameters": [
                {
                    "name": "appointment_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
                {
                    "name": "tenant_id",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
            "responses": _READ_ANSWERS,
        }
    }
    paths["/dashboards/{dashboard}"] = {
        "get": {
            "operationId": "dashboard",
            "description": "A dashboard's pages for the tenant, as HTML (each page #<id>); "
            "analysts and admins of the tenant, for every branch.",
            "security": [{"bearerAuth": []}],
            "parameters": [
                {"name": "dashboard", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "tenant", "in": "query", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {
                **_READ_ANSWERS,
                "200": {"description": "The dashboard", "content": {"text/html": {}}},
                "404": {"description": "Unknown dashboard", **_ERROR},
            },
        }
    }
    return document
