"""The ``snapshots`` job: e-mail each enabled snapshot schedule that is due on the run's
day (see ``reports.snapshot.window``), once per schedule and window.

Schedules are found through the ``read_models`` projection's documents (one per
schedule, plus the tenants that have any) rather than a scan of the whole log, which
grows with every booking and payment while schedules are a handful per tenant; each
found schedule's own stream is then folded, so the settings sent are the latest
committed ones even if the projection lags.

Once the relay accepts a message, ``snapshot.sent`` is appended at version 0 of
``snapshot:{id}:{window}`` with an event id derived from the tenant, schedule and
window: a later run finds the stream written and sends nothing; two racing runs store
one event. When the relay still refuses after the mailer's retries,
``snapshot.delivery_failed`` (the reason only) goes to ``snapshot_failure:{id}:{window}``,
the job answers 502 naming the failures, and the next run tries again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from mymedic.app.http import HttpResponse, error_response
from mymedic.app.read_models.snapshot_schedules import enabled_schedule_ids, schedule_tenants
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.domain.snapshot_schedule import SnapshotScheduleState, evolve_snapshot_schedule
from mymedic.notify.mailer import MailDeliveryFailed, Mailer, MailNotConfigured, SmtpMailer
from mymedic.reports.snapshot import Window, collect, due_window, snapshot_pdf
from mymedic.reports.snapshot.message import attachments, snapshot_message

JOB = "snapshots"
ACTOR = "job:snapshots"
# Namespace of the job's event ids (fixed: ids must never change).
SNAPSHOT_NAMESPACE = UUID("0f6e2b7a-93c4-4d1e-8a55-6c2d9b1e4f73")

Args = Callable[[str], str | None]


@dataclass(frozen=True)
class Due:
    tenant: str
    schedule: e.SnapshotScheduleSet
    window: Window

    @property
    def ref(self) -> dict[str, str]:
        return {
            "tenant_id": self.tenant,
            "snapshot_id": self.schedule.snapshot_id,
            "window": self.window.key,
        }


def handle_snapshots_job(
    platform: Platform, args: Args, *, mailer: Mailer | None = None
) -> HttpResponse:
    """``args``: ``tenant`` (default: every tenant with a schedule) and ``date`` (the
    day the run is for, ISO; default today in UTC)."""
    try:
        day = date.fromisoformat(args("date") or platform.clock().date().isoformat())
    except ValueError:
        return error_response(400, "invalid_date", "date must be YYYY-MM-DD")
    try:
        sender = mailer or SmtpMailer.from_settings(platform.settings)
    except MailNotConfigured as exc:
        return error_response(503, "not_configured", str(exc))
    platform.catch_up()  # the reports read the warehouse: bring it up to the present
    tenant = args("tenant")
    tenants = [tenant] if tenant else schedule_tenants(platform.documents)
    sent: list[dict[str, str]] = []
    already: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for due in _due(platform, tenants, day):
        if platform.store.stream_version(due.tenant, _sent_stream(due)) > 0:
            already.append(due.ref)
            continue
        try:
            _send(platform, sender, due)
        except MailDeliveryFailed as exc:
            _record_failure(platform, due, str(exc))
            failed.append({**due.ref, "reason": str(exc)})
            continue
        sent.append(due.ref)
    body: dict[str, Any] = {
        "job": JOB,
        "date": day.isoformat(),
        "sent": sent,
        "already_sent": already,
        "failed": failed,
    }
    if failed:
        return error_response(
            502, "delivery_failed", f"{len(failed)} snapshot e-mails were not delivered", **body
        )
    return HttpResponse(200, body)


def _due(platform: Platform, tenants: list[str], day: date) -> list[Due]:
    found = []
    for tenant in tenants:
        for snapshot_id in enabled_schedule_ids(platform.documents, tenant):
            schedule = _schedule(platform, tenant, snapshot_id)
            if schedule is None or not schedule.enabled:
                continue
            window = due_window(schedule.frequency, day)
            if window is not None:
                found.append(Due(tenant, schedule, window))
    return found


def _schedule(platform: Platform, tenant: str, snapshot_id: str) -> e.SnapshotScheduleSet | None:
    history = platform.store.read_stream(tenant, e.stream_id("snapshot_schedule", snapshot_id))
    state: SnapshotScheduleState | None = None
    for event in history:
        state = evolve_snapshot_schedule(event.data()) or state
    return state.schedule if state is not None else None


def _send(platform: Platform, mailer: Mailer, due: Due) -> None:
    schedule = due.schedule
    snapshot = collect(
        platform.warehouse, due.tenant, schedule.reports, due.window, schedule.branches
    )
    files = attachments(
        snapshot, snapshot_pdf(snapshot), f"snapshot-{schedule.snapshot_id}", schedule.formats
    )
    mailer.send(snapshot_message(snapshot, [str(r) for r in schedule.recipients], files))
    payload = e.SnapshotSent(
        snapshot_id=schedule.snapshot_id,
        window=due.window.key,
        reports=list(schedule.reports),
        attachments=[file.filename for file in files],
        recipients=len(schedule.recipients),
    )
    _append(platform, due, payload, 0, _event_id(due, "sent"))


def _record_failure(platform: Platform, due: Due, reason: str) -> None:
    stream = e.stream_id("snapshot_failure", f"{due.schedule.snapshot_id}:{due.window.key}")
    version = platform.store.stream_version(due.tenant, stream)
    payload = e.SnapshotDeliveryFailed(
        snapshot_id=due.schedule.snapshot_id, window=due.window.key, reason=reason[:500]
    )
    _append(platform, due, payload, version, _event_id(due, f"failed:{version + 1}"))


def _append(
    platform: Platform, due: Due, payload: e.EventPayload, version: int, event_id: str
) -> None:
    now = platform.clock()
    envelope = build_envelope(
        payload,
        metadata=Metadata(tenant_id=due.tenant, actor=ACTOR, source=f"job:{JOB}"),
        branch_id="*",
        stream_version=version + 1,
        occurred_at=now,
        recorded_at=now,
        event_id=event_id,
    )
    platform.store.append(due.tenant, payload.stream_id(), version, [envelope])
    platform.relay.drain()


def _sent_stream(due: Due) -> str:
    return e.stream_id("snapshot", f"{due.schedule.snapshot_id}:{due.window.key}")


def _event_id(due: Due, what: str) -> str:
    name = f"{due.tenant}\x1f{due.schedule.snapshot_id}\x1f{due.window.key}\x1f{what}"
    return str(uuid5(SNAPSHOT_NAMESPACE, name))
