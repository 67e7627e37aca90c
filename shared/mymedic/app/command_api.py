"""The booking-command HTTP contract, independent of the web framework serving it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import orjson
from pydantic import ValidationError

from mymedic.app.auth import AuthError, AuthUnavailable, Principal, authorize
from mymedic.app.commands import CommandService, IdempotencyKeyReused
from mymedic.app.http import HttpResponse, error_response, field_errors, single_segment
from mymedic.domain.commands import COMMANDS
from mymedic.domain.envelope import Metadata
from mymedic.domain.errors import (
    DomainError,
    StreamAlreadyExists,
    StreamNotFound,
    UnknownReference,
)
from mymedic.domain.schedule import SlotTaken
from mymedic.ports import ConcurrencyConflict, EventIdReused, TransientBackendError

MAX_BODY_BYTES = 256 * 1024
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


_error = error_response


def command_name_from_path(path: str) -> str:
    return single_segment(path, "commands")


def handle_command_request(
    service: CommandService,
    authenticate: Callable[[str | None], Principal],
    *,
    method: str,
    path: str,
    body: bytes,
    header: Callable[[str], str | None],
) -> HttpResponse:
    """``header(name)`` looks a request header up, case-insensitively;
    ``authenticate(authorization_header)`` verifies the bearer token."""
    if method != "POST":
        return _error(405, "method_not_allowed", "commands are sent with POST")
    name = command_name_from_path(path)
    model = COMMANDS.get(name)
    if model is None:
        return _error(404, "unknown_command", f"no command named {name!r}", known=sorted(COMMANDS))
    try:
        principal = authenticate(header("Authorization"))
    except AuthError as exc:
        challenge = {"WWW-Authenticate": exc.www_authenticate} if exc.www_authenticate else {}
        return HttpResponse(exc.status, exc.body(), challenge)
    except AuthUnavailable as exc:
        return _error(503, "auth_unavailable", str(exc))
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _error(400, "invalid_json", f"the body is not JSON: {exc}")
    if not isinstance(raw, dict):
        return _error(400, "invalid_json", "the body must be a JSON object")
    try:
        command = model.model_validate(raw)
    except ValidationError as exc:
        return _error(
            422, "validation_failed", f"{name} is invalid", fields=field_errors(exc, "(body)")
        )

    def check_access(patient_id: str | None) -> None:
        authorize(
            principal,
            command=name,
            tenant_id=command.tenant_id,
            branch_id=command.branch_id,
            patient_id=patient_id,
        )

    correlation_id = header("X-Correlation-Id") or str(uuid4())
    if not _CORRELATION_ID.match(correlation_id):
        return _error(400, "invalid_header", "X-Correlation-Id must be 8-100 plain characters")
    idempotency_key = header("Idempotency-Key")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        return _error(400, "invalid_header", "Idempotency-Key must be 1-255 printable characters")
    metadata = Metadata(
        tenant_id=command.tenant_id,
        actor=f"{principal.role.value}:{principal.subject}",
        source=f"command:{name}",
        correlation_id=correlation_id,
    )
    try:
        result = service.handle(command, metadata, idempotency_key, check_access)
    except AuthError as exc:
        return HttpResponse(exc.status, exc.body())
    except ConcurrencyConflict as exc:
        return _error(
            409,
            "version_conflict",
            str(exc),
            expected_version=exc.expected,
            actual_version=exc.actual,
        )
    except SlotTaken as exc:
        return _error(409, "slot_taken", exc.message, field=exc.field)
    except StreamAlreadyExists as exc:
        return _error(409, "already_exists", exc.message, field=exc.field)
    except StreamNotFound as exc:
        return _error(404, "not_found", exc.message, field=exc.field)
    except IdempotencyKeyReused as exc:
        return _error(422, "idempotency_key_reused", exc.message, field=exc.field)
    except UnknownReference as exc:
        return _error(422, "unknown_reference", exc.message, field=exc.field)
    except DomainError as exc:
        return _error(422, "rule_violated", exc.message, field=exc.field)
    except EventIdReused as exc:
        return _error(409, "event_id_reused", str(exc))
    except TransientBackendError as exc:
        return _error(503, "unavailable", f"try again: {exc}")
    return HttpResponse(
        201,
        {
            "stream_id": result.stream_id,
            "stream_version": result.stream_version,
            "event_ids": list(result.event_ids),
            "correlation_id": result.correlation_id,
        },
        {"Idempotent-Replayed": "true"} if result.replayed else {},
    )


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1, generated from the same pydantic models that validate requests."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    error_ref = {"$ref": "#/components/schemas/Error"}
    for name, model in sorted(COMMANDS.items()):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        paths[f"/commands/{name}"] = {
            "post": {
                "operationId": name,
                "security": [{"bearerAuth": []}],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "A retry with the same key gets the first answer "
                        "and writes nothing.",
                        "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                    },
                    {
                        "name": "X-Correlation-Id",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,100}$"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Accepted: the events were appended",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CommandAccepted"}
                            }
                        },
                    },
                    **{
                        code: {
                            "description": text,
                            "content": {"application/json": {"schema": error_ref}},
                        }
                        for code, text in (
                            ("400", "Malformed JSON or header"),
                            ("401", "Missing, malformed, expired or forged token"),
                            ("403", "Another tenant, branch, role or patient"),
                            ("404", "Unknown command or aggregate"),
                            ("409", "Version conflict, already exists or slot taken"),
                            ("422", "Invalid field or broken business rule"),
                            ("503", "A backend is unreachable: retry"),
                        )
                    },
                },
            }
        }
    schemas["CommandAccepted"] = {
        "type": "object",
        "required": ["stream_id", "stream_version", "event_ids", "correlation_id"],
        "properties": {
            "stream_id": {"type": "string"},
            "stream_version": {"type": "integer"},
            "event_ids": {"type": "array", "items": {"type": "string"}},
            "correlation_id": {"type": "string"},
        },
    }
    schemas["Error"] = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": ["string", "null"]},
            "fields": {"type": "array", "items": {"type": "object"}},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "MyMedic", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
