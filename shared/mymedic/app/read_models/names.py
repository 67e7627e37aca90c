"""The collections of the ``read_models`` projection (one document per entity)."""

from __future__ import annotations

BRANCHES = "branches"
CLINICIANS = "clinicians"
ROOMS = "rooms"
PRICE_LISTS = "price_lists"
SCHEDULE_ENTRIES = "schedule_entries"
PAYMENTS = "payments"
INVOICES = "invoices"
FOLLOW_UPS = "follow_ups"
# Internal: which follow-up a booked appointment answers (so that its cancellation can
# reopen the follow-up without a query inside the unit of work).
FOLLOW_UP_BOOKINGS = "follow_up_bookings"
# Snapshot e-mail schedules, and the tenants that have any (see snapshot_schedules).
SNAPSHOT_SCHEDULES = "snapshot_schedules"
SNAPSHOT_SCHEDULE_TENANTS = "snapshot_schedule_tenants"

COLLECTIONS = (
    BRANCHES,
    CLINICIANS,
    ROOMS,
    PRICE_LISTS,
    SCHEDULE_ENTRIES,
    PAYMENTS,
    INVOICES,
    FOLLOW_UPS,
    FOLLOW_UP_BOOKINGS,
    SNAPSHOT_SCHEDULES,
    SNAPSHOT_SCHEDULE_TENANTS,
)
