"""Where the snapshot schedules are: one document per schedule (its id, whether it is
enabled, its frequency) and, under a reserved key no tenant id can take, one document
per tenant that ever had one. The snapshots job finds the schedules here instead of
scanning the whole log, then folds each one's own stream for its settings."""

from __future__ import annotations

from mymedic.app.read_models.names import SNAPSHOT_SCHEDULE_TENANTS, SNAPSHOT_SCHEDULES
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import DocumentStore, DocumentUnitOfWork

# Not a valid tenant id (one starts with a letter or digit): it cannot collide.
ALL_TENANTS = "_all"


def apply_snapshot_schedules(uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    tenant = event.tenant_id
    match data:
        case e.SnapshotScheduleSet():
            uow.put(
                SNAPSHOT_SCHEDULES,
                tenant,
                data.snapshot_id,
                {
                    "tenant_id": tenant,
                    "snapshot_id": data.snapshot_id,
                    "frequency": data.frequency,
                    "enabled": data.enabled,
                },
            )
            uow.put(SNAPSHOT_SCHEDULE_TENANTS, ALL_TENANTS, tenant, {"tenant_id": tenant})
        case e.SnapshotScheduleRemoved():
            uow.delete(SNAPSHOT_SCHEDULES, tenant, data.snapshot_id)


def schedule_tenants(documents: DocumentStore) -> list[str]:
    return sorted(
        doc["tenant_id"] for doc in documents.query(SNAPSHOT_SCHEDULE_TENANTS, ALL_TENANTS)
    )


def enabled_schedule_ids(documents: DocumentStore, tenant: str) -> list[str]:
    found = documents.query(SNAPSHOT_SCHEDULES, tenant, {"enabled": True})
    return sorted(doc["snapshot_id"] for doc in found)
