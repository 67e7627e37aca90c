"""What every HTTP handler of ours shares, independent of the web framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def error_response(status: int, error: str, message: str, **extra: Any) -> HttpResponse:
    """The one error shape: ``{"error": code, "message": text, ...}``."""
    return HttpResponse(status, {"error": error, "message": message, **extra})


def single_segment(path: str, prefix: str) -> str:
    """``/<prefix>/<name>`` (the local server) or ``/<name>`` (the function's own URL)
    both give ``name``; anything else gives ``""``."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == prefix:
        parts = parts[1:]
    return parts[0] if len(parts) == 1 else ""


def field_errors(exc: ValidationError, whole: str) -> list[dict[str, str]]:
    """Every problem pydantic found, by field (``whole`` names the input itself, for a
    problem of no single field), without echoing the input."""
    return [
        {
            "field": ".".join(str(part) for part in err["loc"]) or whole,
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]
