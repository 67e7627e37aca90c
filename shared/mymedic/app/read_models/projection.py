"""The ``read_models`` projection: directory, schedule entries, payments, invoices and
follow-ups.

One live projection (a Pub/Sub push subscription on GCP) writing one document per
entity. The runner applies each stream's events once and in order, with per-stream
checkpoints committed with the documents; across streams, order is arbitrary, which
only the follow-ups depend on (see ``follow_ups``). Every change rewrites documents
from the event alone or from the document's own lists, so a replay writes the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from mymedic.app.read_models.directory import apply_directory
from mymedic.app.read_models.follow_ups import apply_follow_ups
from mymedic.app.read_models.invoices import apply_invoices
from mymedic.app.read_models.names import COLLECTIONS
from mymedic.app.read_models.payments import apply_payments
from mymedic.app.read_models.schedule import apply_schedule
from mymedic.app.read_models.snapshot_schedules import apply_snapshot_schedules
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import DocumentUnitOfWork


class ReadModelsProjection:
    name = "read_models"
    categories = frozenset(
        {
            "branch",
            "clinician",
            "room",
            "price_list",
            "appointment",
            "invoice",
            "schedule",
            "snapshot_schedule",
        }
    )
    collections = COLLECTIONS

    def prefetch(self, uow: DocumentUnitOfWork, events: Sequence[EventEnvelope]) -> None:
        """Documents are read by key on demand."""

    def apply(self, uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
        match event.category:
            case "branch" | "clinician" | "room" | "price_list":
                apply_directory(uow, event)
            case "schedule":
                apply_schedule(uow, event)
            case "appointment":
                apply_payments(uow, event)
                apply_follow_ups(uow, event)
            case "invoice":
                apply_invoices(uow, event)
            case "snapshot_schedule":
                apply_snapshot_schedules(uow, event)
