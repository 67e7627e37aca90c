"""The event ids of gateway ingestion: UUID v5 of (tenant, provider, provider's id,
part), so that a redelivery, a re-run or a retried split writes the same ids."""

from __future__ import annotations

from uuid import UUID, uuid5

# Fixed: ids must never change.
PAYMENTS_NAMESPACE = UUID("0b6f5e0e-3c2d-4d8e-9a57-6a1f2c9d4e71")


def payment_event_id(tenant_id: str, provider: str, provider_event_id: str, part: str) -> str:
    return str(
        uuid5(PAYMENTS_NAMESPACE, "\x1f".join((tenant_id, provider, provider_event_id, part)))
    )
