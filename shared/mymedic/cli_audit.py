"""``mymedic audit``: an appointment's audit trail as rich tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table

from mymedic.app.audit import AppointmentAudit, AuditEntry
from mymedic.app.audit_text import format_money
from mymedic.ports import EventStore
from mymedic.settings import Settings


@contextmanager
def event_store(settings: Settings) -> Iterator[EventStore]:
    """Only the event store: locally, the SQLite file is opened alone, so that an audit
    can run beside ``mymedic serve`` (which holds the warehouse file)."""
    if settings.backend == "local":
        from mymedic.adapters.local.event_store import SqliteEventStore

        path = settings.event_store_path
        if not path.exists():
            raise FileNotFoundError(f"no event store at {path}")
        store = SqliteEventStore(path, settings.sqlite_synchronous)
        try:
            yield store
        finally:
            store.close()
        return
    from mymedic.bootstrap import bootstrap

    platform = bootstrap(settings, dispatch_after_commit=False)
    try:
        yield platform.store
    finally:
        platform.close()


def _changes(entry: AuditEntry) -> str:
    return "\n".join(
        f"{name}: {_shown(change.before)} → {_shown(change.after)}"
        for name, change in entry.changes.items()
    )


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


def print_audit(audit: AppointmentAudit, console: Console) -> None:
    table = Table(
        title=f"Audit of appointment {audit.appointment_id} "
        f"(tenant {audit.tenant_id}, branch {audit.branch_id}, version {audit.version})"
    )
    table.add_column("#", justify="right")
    table.add_column("recorded (occurred)")
    table.add_column("event", overflow="fold")
    table.add_column("actor", overflow="fold")
    table.add_column("command", overflow="fold")
    table.add_column("correlation", overflow="fold")
    table.add_column("what happened")
    table.add_column("changes")
    for entry in audit.entries:
        when = entry.recorded_at
        if entry.occurred_at != entry.recorded_at:
            when += f"\n({entry.occurred_at})"
        table.add_row(
            str(entry.seq),
            when,
            entry.event_type,
            entry.actor,
            entry.command or entry.source,
            entry.correlation_id,
            entry.summary,
            _changes(entry),
        )
    console.print(table)

    s = audit.summary
    summary = Table(title="Summary", show_header=False)
    summary.add_column("", style="bold")
    summary.add_column("")
    for label, value in (
        ("status", s.status),
        ("patient", s.patient_id),
        ("procedure", f"{s.procedure_code} ({s.modality}), {s.duration_minutes} min"),
        ("start", s.start_at),
        ("clinician / room", f"{s.clinician_id} / {s.room_id}"),
        ("price", format_money(s.price_minor, s.currency)),
        ("paid", format_money(s.paid_minor, s.currency)),
        ("refunded", format_money(s.refunded_minor, s.currency)),
        ("forfeited", format_money(s.forfeited_minor, s.currency)),
        ("net held", format_money(s.net_held_minor, s.currency)),
        ("refundable", format_money(s.refundable_minor, s.currency)),
        ("balance outstanding", format_money(s.balance_outstanding_minor, s.currency)),
        ("booked by", f"{s.booked_by} at {s.booked_at} ({s.booked_via}, {s.channel})"),
    ):
        summary.add_row(label, value)
    console.print(summary)
