"""The appointment-audit HTTP contract, independent of the web framework serving it:
``GET /audit/appointments/<appointment_id>?tenant_id=<tenant>``."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import TypeAdapter, ValidationError

from mymedic.app.audit import AppointmentNotFound, appointment_audit
from mymedic.app.auth import AuthError, AuthUnavailable, Principal, authorize_read
from mymedic.app.http import HttpResponse
from mymedic.domain.types import Identifier
from mymedic.ports import EventStore, TransientBackendError

_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
# An audit names patients' appointments and money: no shared cache may keep it.
_NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, error: str, message: str, field: str | None = None) -> HttpResponse:
    return HttpResponse(status, {"error": error, "message": message, "field": field}, _NO_STORE)


def appointment_id_from_path(path: str) -> str | None:
    """``/audit/appointments/<id>`` (local server) or ``/appointments/<id>`` (the
    function's own URL)."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["audit"]:
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "appointments":
        return parts[1]
    return None


def _valid(value: str) -> bool:
    try:
        _IDENTIFIER.validate_python(value)
    except ValidationError:
        return False
    return True


def handle_audit_request(
    store: EventStore,
    authenticate: Callable[[str | None], Principal],
    *,
    method: str,
    path: str,
    query: Callable[[str], str | None],
    header: Callable[[str], str | None],
) -> HttpResponse:
    """``query(name)`` and ``header(name)`` look a query parameter and a request header
    up; ``authenticate(authorization_header)`` verifies the bearer token."""
    if method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", "an audit is read with GET")
    appointment_id = appointment_id_from_path(path)
    if appointment_id is None:
        return _error(404, "not_found", "audits are at /audit/appointments/<appointment_id>")
    try:
        principal = authenticate(header("Authorization"))
    except AuthError as exc:
        challenge = {"WWW-Authenticate": exc.www_authenticate} if exc.www_authenticate else {}
        return HttpResponse(exc.status, exc.body(), {**_NO_STORE, **challenge})
    except AuthUnavailable as exc:
        return _error(503, "auth_unavailable", str(exc))
    tenant_id = query("tenant_id")
    if not tenant_id:
        return _error(400, "missing_parameter", "the tenant_id query parameter is required")
    if not _valid(tenant_id):
        return _error(422, "validation_failed", "tenant_id is not an identifier", "tenant_id")
    if not _valid(appointment_id):
        return _error(
            422, "validation_failed", "the appointment id is not an identifier", "appointment_id"
        )
    try:
        if tenant_id != principal.tenant_id:
            # Refused before the store is read: another tenant learns nothing, not even
            # whether the appointment exists.
            authorize_read(principal, tenant_id=tenant_id)
        audit = appointment_audit(store, tenant_id, appointment_id)
        authorize_read(
            principal,
            tenant_id=tenant_id,
            branch_id=audit.branch_id,
            patient_id=audit.patient_id,
        )
    except AuthError as exc:
        return HttpResponse(exc.status, exc.body(), _NO_STORE)
    except AppointmentNotFound as exc:
        return _error(404, "not_found", str(exc), "appointment_id")
    except TransientBackendError as exc:
        return _error(503, "unavailable", f"try again: {exc}")
    return HttpResponse(200, audit.to_json(), _NO_STORE)
