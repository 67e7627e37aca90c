"""What one mapped Zoho record version adds to the platform: pure, no I/O.

The ingestion resolves the record's lookups, then calls :func:`translate` with a
:class:`TranslationContext` (the streams as they stand, this batch's pending events
included) and appends what comes back, with ``zoho.record_synced`` on the record's own
stream. Translating a version against the state its own events produced yields
nothing, so a record seen twice (a webhook and the delta sync, a backfill over synced
data) adds nothing the second time.

Each event carries when it happened: a record's creation (``created_at``, Zoho's
Created_Time unless mapped) for what its creation means (a booking, a registration, a
payment), and the version's Modified_Time (or a mapped status time) for what a change
means (a cancellation, a completion). That is what makes imported history read like the
same history entered through MyMedic: lead times, days and months come out the same.

Imported records are history, not requests: they are not checked against the booking
rules (working hours, double booking, the price list), and imported appointments reserve
no clinician or room slots; Zoho is the system of record for its own calendar. What the
platform's ledger cannot hold (a payment above what is owed, an invoice whose amount
changed after issue) raises :class:`~mymedic.domain.errors.DomainError`, and the version
is quarantined with the reason.

The families live apart: ``translate_directory`` (branches, clinicians, rooms,
procedures, referrers, leave), ``translate_visits`` (patients, referrals, appointments,
NPS, complaints) and ``translate_money`` (invoices, payments, refunds, and the bill of
a clinic that bills in the CRM).
"""

from __future__ import annotations

from collections.abc import Callable

from mymedic.integrations.zoho import translate_directory as directory
from mymedic.integrations.zoho import translate_money as money
from mymedic.integrations.zoho import translate_visits as visits
from mymedic.integrations.zoho.records import Entity, MappedRecord
from mymedic.integrations.zoho.translate_common import (
    CANCELLED_IN_ZOHO,
    RESCHEDULED_IN_ZOHO,
    Translation,
    TranslationContext,
    entity_id,
    own_stream,
)

__all__ = [
    "CANCELLED_IN_ZOHO",
    "RESCHEDULED_IN_ZOHO",
    "Translation",
    "TranslationContext",
    "entity_id",
    "own_stream",
    "translate",
]

Translator = Callable[[MappedRecord, TranslationContext], Translation]
_TRANSLATORS: dict[Entity, Translator] = {
    "branch": directory.branch,
    "clinician": directory.clinician,
    "room": directory.room,
    "procedure": directory.procedure,
    "referrer": directory.referrer,
    "block": directory.block,
    "patient": visits.patient,
    "referral": visits.referral,
    "appointment": visits.appointment,
    "nps": visits.nps,
    "complaint": visits.complaint,
    "invoice": money.invoice,
    "payment": money.payment,
    "refund": money.refund,
}


def translate(record: MappedRecord, ctx: TranslationContext) -> Translation:
    """The events this record version adds, given the streams' current state."""
    return _TRANSLATORS[record.entity](record, ctx)
