"""The read-model HTTP contract, independent of the web framework serving it.

``GET /read/<model>?tenant_id=...&...`` (local server) or ``GET /<model>?...`` (the
``read`` function's own URL), with ``Authorization: Bearer <JWT>``. Models:

- ``calendar``: ``date``, and ``branch_id``, ``city``, ``clinician_id`` (optional);
- ``doctor_schedule``: ``clinician_id``, ``date``;
- ``portal_slots``: ``branch_id`` or ``city``, ``procedure_code``, ``date``,
  ``clinician_id`` (optional), ``step_minutes`` (15);
- ``payments``: ``branch_id``, ``city``, ``patient_id``, ``appointment_id``,
  ``clinician_id`` (all optional);
- ``follow_ups``: ``branch_id``, ``city``, ``clinician_id``, ``patient_id``, ``status``
  (``open``, ``booked`` or ``all``; default ``open``), ``due_before`` (a date).

``tenant_id`` is always required and must be the token's. Access
(:func:`mymedic.app.auth.authorize_read`): a read naming ``branch_id`` needs a token
for that branch; one without (city or tenant-wide) a token for every branch. A patient
reads only their own payments and follow-ups (``patient_id`` = the token's subject),
and the free slots of their branches (nobody's record); a doctor's day and the
calendar name other patients, so a patient may not read them.

Errors share the command API's shape, ``{"error", "message", "field"}``: 401/403/503
as for commands, 404 ``unknown_read_model`` or ``not_found`` (an unknown branch,
clinician or procedure, in ``field``), 405 for a method other than GET, 400
``invalid_query`` for a repeated parameter and 422 ``validation_failed`` for a missing,
unknown or malformed one (every problem in ``fields``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mymedic.app.auth import AuthError, AuthUnavailable, Principal, Role, authorize_read
from mymedic.app.http import HttpResponse, error_response, field_errors, single_segment
from mymedic.app.read_models import (
    NotFound,
    branches_in_scope,
    calendar_view,
    doctor_schedule,
    follow_up_queue,
    payments_summary,
    portal_slots,
)
from mymedic.app.read_models.directory import require_clinician
from mymedic.domain.events import ShortText
from mymedic.domain.types import Identifier
from mymedic.ports import DocumentStore, TransientBackendError

# --- query parameters -------------------------------------------------------------------


class ReadQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)

    tenant_id: Identifier


class CalendarQuery(ReadQuery):
    day: date = Field(alias="date")
    branch_id: Identifier | None = None
    city: ShortText | None = None
    clinician_id: Identifier | None = None


class DoctorScheduleQuery(ReadQuery):
    clinician_id: Identifier
    day: date = Field(alias="date")


class PortalSlotsQuery(ReadQuery):
    """One branch's slots, or (with ``city`` instead) those of each branch of a city
    the caller may read."""

    branch_id: Identifier | None = None
    city: ShortText | None = None
    clinician_id: Identifier | None = None
    procedure_code: Identifier
    day: date = Field(alias="date")
    step_minutes: int = Field(default=15, ge=5, le=240)

    @model_validator(mode="after")
    def _one_place(self) -> PortalSlotsQuery:
        if (self.branch_id is None) == (self.city is None):
            raise ValueError("name exactly one of branch_id or city")
        return self


class PaymentsQuery(ReadQuery):
    branch_id: Identifier | None = None
    city: ShortText | None = None
    patient_id: Identifier | None = None
    appointment_id: Identifier | None = None
    clinician_id: Identifier | None = None


class FollowUpsQuery(ReadQuery):
    branch_id: Identifier | None = None
    city: ShortText | None = None
    clinician_id: Identifier | None = None
    patient_id: Identifier | None = None
    status: Literal["open", "booked", "all"] = "open"
    due_before: date | None = None


# --- the models: access check and query, per model ---------------------------------------


@dataclass(frozen=True)
class Read:
    """What one request reads: its store, caller, parameters and moment."""

    documents: DocumentStore
    principal: Principal
    now: datetime


def _calendar(read: Read, q: CalendarQuery) -> dict[str, Any]:
    authorize_read(read.principal, tenant_id=q.tenant_id, branch_id=q.branch_id)
    return calendar_view(
        read.documents,
        q.tenant_id,
        q.day,
        branch_id=q.branch_id,
        clinician_id=q.clinician_id,
        city=q.city,
    )


def _doctor_schedule(read: Read, q: DoctorScheduleQuery) -> dict[str, Any]:
    # The tenant first (no lookup in another tenant's data), then the clinician's branch.
    if read.principal.tenant_id != q.tenant_id:
        authorize_read(read.principal, tenant_id=q.tenant_id)
    clinician = require_clinician(read.documents, q.tenant_id, q.clinician_id)
    authorize_read(read.principal, tenant_id=q.tenant_id, branch_id=clinician["branch_id"])
    return doctor_schedule(read.documents, q.tenant_id, q.clinician_id, q.day)


def _portal_slots(read: Read, q: PortalSlotsQuery) -> dict[str, Any]:
    # Free slots are nobody's record: a patient may read those of their branches.
    own = read.principal.subject if read.principal.role is Role.PATIENT else None
    if q.branch_id is not None:
        authorize_read(read.principal, tenant_id=q.tenant_id, branch_id=q.branch_id, patient_id=own)
        return _slots_of(read, q, q.branch_id)
    if read.principal.tenant_id != q.tenant_id:
        authorize_read(read.principal, tenant_id=q.tenant_id)  # refuses: another tenant
    in_city = branches_in_scope(read.documents, q.tenant_id, None, q.city) or []
    readable = [b for b in in_city if _may_read(read.principal, q.tenant_id, b, own)]
    if in_city and not readable:
        # Raises the answer the caller would get for the first branch (wrong tenant,
        # branch not allowed).
        authorize_read(read.principal, tenant_id=q.tenant_id, branch_id=in_city[0], patient_id=own)
    branches = []
    for branch_id in readable:
        try:
            branches.append(_slots_of(read, q, branch_id))
        except NotFound:
            continue  # this branch does not offer the procedure
    return {
        "tenant_id": q.tenant_id,
        "city": q.city,
        "date": q.day.isoformat(),
        "procedure_code": q.procedure_code,
        "branches": branches,
    }


def _slots_of(read: Read, q: PortalSlotsQuery, branch_id: str) -> dict[str, Any]:
    return portal_slots(
        read.documents,
        q.tenant_id,
        branch_id,
        q.procedure_code,
        q.day,
        now=read.now,
        step_minutes=q.step_minutes,
        clinician_id=q.clinician_id,
    )


def _may_read(principal: Principal, tenant_id: str, branch_id: str, own: str | None) -> bool:
    try:
        authorize_read(principal, tenant_id=tenant_id, branch_id=branch_id, patient_id=own)
    except AuthError:
        return False
    return True


def _payments(read: Read, q: PaymentsQuery) -> dict[str, Any]:
    authorize_read(
        read.principal, tenant_id=q.tenant_id, branch_id=q.branch_id, patient_id=q.patient_id
    )
    return payments_summary(
        read.documents,
        q.tenant_id,
        branch_id=q.branch_id,
        patient_id=q.patient_id,
        appointment_id=q.appointment_id,
        clinician_id=q.clinician_id,
        city=q.city,
    )


def _follow_ups(read: Read, q: FollowUpsQuery) -> dict[str, Any]:
    authorize_read(
        read.principal, tenant_id=q.tenant_id, branch_id=q.branch_id, patient_id=q.patient_id
    )
    return follow_up_queue(
        read.documents,
        q.tenant_id,
        branch_id=q.branch_id,
        clinician_id=q.clinician_id,
        city=q.city,
        patient_id=q.patient_id,
        status=q.status,
        due_before=q.due_before,
    )


@dataclass(frozen=True)
class ReadModel:
    parameters: type[ReadQuery]
    run: Callable[[Read, Any], dict[str, Any]]


READ_MODELS: dict[str, ReadModel] = {
    "calendar": ReadModel(CalendarQuery, _calendar),
    "doctor_schedule": ReadModel(DoctorScheduleQuery, _doctor_schedule),
    "portal_slots": ReadModel(PortalSlotsQuery, _portal_slots),
    "payments": ReadModel(PaymentsQuery, _payments),
    "follow_ups": ReadModel(FollowUpsQuery, _follow_ups),
}


# --- HTTP ----------------------------------------------------------------------------------


_error = error_response


def read_model_from_path(path: str) -> str:
    return single_segment(path, "read")


def handle_read_request(
    documents: DocumentStore,
    authenticate: Callable[[str | None], Principal],
    *,
    method: str,
    path: str,
    args: Mapping[str, Sequence[str]],
    header: Callable[[str], str | None],
    now: Callable[[], datetime],
) -> HttpResponse:
    """``args``: every query parameter with all its values; ``header(name)`` looks a
    request header up; ``now()`` is the platform's clock (slots start after it)."""
    if method != "GET":
        return _error(405, "method_not_allowed", "read models are read with GET")
    name = read_model_from_path(path)
    model = READ_MODELS.get(name)
    if model is None:
        return _error(
            404, "unknown_read_model", f"no read model named {name!r}", known=sorted(READ_MODELS)
        )
    try:
        principal = authenticate(header("Authorization"))
    except AuthError as exc:
        challenge = {"WWW-Authenticate": exc.www_authenticate} if exc.www_authenticate else {}
        return HttpResponse(exc.status, exc.body(), challenge)
    except AuthUnavailable as exc:
        return _error(503, "auth_unavailable", str(exc))
    repeated = sorted(key for key, values in args.items() if len(values) != 1)
    if repeated:
        return _error(
            400, "invalid_query", f"{repeated[0]} is given more than once", field=repeated[0]
        )
    try:
        query = model.parameters.model_validate({key: values[0] for key, values in args.items()})
    except ValidationError as exc:
        fields = field_errors(exc, "(query)")
        return _error(
            422,
            "validation_failed",
            f"{name}: {fields[0]['field']}: {fields[0]['message']}",
            field=fields[0]["field"],
            fields=fields,
        )
    try:
        body = model.run(Read(documents, principal, now()), query)
    except AuthError as exc:
        return HttpResponse(exc.status, exc.body())
    except NotFound as exc:
        return _error(404, "not_found", exc.message, field=exc.field)
    except TransientBackendError as exc:
        return _error(503, "unavailable", f"try again: {exc}")
    return HttpResponse(200, body, {"Cache-Control": "no-store"})
