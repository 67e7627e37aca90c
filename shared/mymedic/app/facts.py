"""Warehouse facts and dimensions from events: fct_appointment and dim_patient (and
integration_quarantine, see ``quarantine_facts``; dim_branch, see ``branch_facts``;
fct_invoice, fct_payment, fct_refund, fct_forfeiture and fct_appointment_revenue, see
``payment_facts``; the
gateways' captures and settlements, see ``settlement_facts``; referrals and marketing
touches, ``acquisition_facts``; clinician and room versions, ``directory_history``;
clinicians' blocked time and leave, ``block_facts``; Google Ads cost and clicks,
``ads_facts``; alert rules, working hours, NPS responses and integrations' last
delivery, ``alert_facts``; patient complaints, ``complaint_facts``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mymedic.app import (
    acquisition_facts,
    ads_facts,
    alert_facts,
    block_facts,
    complaint_facts,
    directory_history,
)
from mymedic.app.branch_facts import BRANCHES, apply_branch, prefetch_branches
from mymedic.app.branch_facts import CATEGORY as BRANCH_CATEGORY
from mymedic.app.payment_facts import EVENT_TYPES as MONEY_EVENTS
from mymedic.app.payment_facts import MONEY_TABLES, apply_money, prefetch_money
from mymedic.app.quarantine_facts import QUARANTINE, apply_quarantine, prefetch_quarantine
from mymedic.app.settlement_facts import CATEGORIES as SETTLEMENT_CATEGORIES
from mymedic.app.settlement_facts import EVENT_TYPES as SETTLEMENT_EVENTS
from mymedic.app.settlement_facts import (
    SETTLEMENT_TABLES,
    apply_settlement,
    prefetch_settlement,
)
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.domain.events import stream_id
from mymedic.ports import Row, WarehouseUnitOfWork

APPOINTMENTS = "fct_appointment"


def branch_of_money(event: EventEnvelope) -> str | None:
    """The branch whose calendar dates this event's money row, if it writes one."""
    if event.event_type in MONEY_EVENTS:
        return str(event.branch_id) if event.branch_id else None
    if event.event_type == e.GatewayPaymentCaptured.event_type:
        branch = event.payload.get("branch_id")
        return str(branch) if branch else None
    return None


PATIENTS = "dim_patient"


class WarehouseFactsProjection:
    name = "warehouse_facts"
    categories = (
        frozenset({"appointment", "patient", "zoho", "invoice", "branch"})
        | SETTLEMENT_CATEGORIES
        | acquisition_facts.CATEGORIES
        | directory_history.CATEGORIES
        | block_facts.CATEGORIES
        | ads_facts.CATEGORIES
        | alert_facts.CATEGORIES
        | complaint_facts.CATEGORIES
    )
    tables = (
        *(APPOINTMENTS, PATIENTS, QUARANTINE, BRANCHES, *MONEY_TABLES, *SETTLEMENT_TABLES),
        *acquisition_facts.ACQUISITION_TABLES,
        *directory_history.HISTORY_TABLES,
        *block_facts.BLOCK_TABLES,
        *ads_facts.ADS_TABLES,
        *alert_facts.ALERT_TABLES,
        *complaint_facts.COMPLAINT_TABLES,
    )

    def prefetch(self, uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
        appointments = [
            (ev.tenant_id, ev.payload["appointment_id"])
            for ev in events
            if ev.category == "appointment"
        ]
        uow.prefetch(APPOINTMENTS, appointments)
        prefetch_quarantine(uow, events)
        prefetch_branches(uow, events)
        prefetch_money(uow, events)
        prefetch_settlement(uow, events)
        alert_facts.prefetch_alert_facts(uow, events)
        complaint_facts.prefetch_complaints(uow, events)
        block_facts.prefetch_blocks(uow, events)

    def requires(self, event: EventEnvelope) -> Sequence[tuple[str, str]]:
        """The branch's registration (its time zone dates money) before its money."""
        branch = branch_of_money(event)
        return [(event.tenant_id, stream_id(BRANCH_CATEGORY, branch))] if branch else []

    def apply(self, uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
        # Besides the tables below: alert rules, working hours, NPS, source activity.
        alert_facts.apply_alert_facts(uow, event)
        if event.category == "zoho":
            apply_quarantine(uow, event)
            return
        if event.category == "branch":
            apply_branch(uow, event)
            return
        if event.event_type in MONEY_EVENTS:
            apply_money(uow, event)
            return
        if event.event_type in SETTLEMENT_EVENTS:
            apply_settlement(uow, event)
            return
        if event.event_type in complaint_facts.EVENT_TYPES:
            complaint_facts.apply_complaint(uow, event)
            return
        if event.event_type in block_facts.EVENT_TYPES:
            block_facts.apply_block(uow, event)
            return
        # Put-only tables (nothing to prefetch): referrals and touches, directory
        # versions, Google Ads revisions.
        if event.event_type in acquisition_facts.EVENT_TYPES:
            acquisition_facts.apply_acquisition(uow, event)
            return
        if event.event_type in directory_history.EVENT_TYPES:
            directory_history.apply_directory_history(uow, event)
            return
        if event.event_type in ads_facts.EVENT_TYPES:
            ads_facts.apply_ads(uow, event)
            return
        data = event.data()
        audit = {"updated_at": event.occurred_at, "last_event_id": event.event_id}
        match data:
            case e.PatientRegistered():
                uow.put_row(
                    PATIENTS,
                    {
                        "tenant_id": event.tenant_id,
                        "patient_id": data.patient_id,
                        "home_branch_id": data.home_branch_id,
                        "sex": data.sex,
                        "registration_channel": data.channel.value,
                        "registered_at": event.occurred_at,
                        **audit,
                    },
                )
            case e.AppointmentBooked():
                uow.put_row(
                    APPOINTMENTS,
                    {
                        "tenant_id": event.tenant_id,
                        "branch_id": event.branch_id,
                        "appointment_id": data.appointment_id,
                        "patient_id": data.patient_id,
                        "clinician_id": data.clinician_id,
                        "room_id": data.room_id,
                        "modality": data.modality,
                        "procedure_code": data.procedure_code,
                        "channel": data.channel.value,
                        "referral_id": data.referral_id,
                        "gclid": data.gclid,
                        "status": "booked",
                        "booked_at": event.occurred_at,
                        "start_at": data.start_at,
                        "start_date": data.start_at.date(),
                        "duration_minutes": data.duration_minutes,
                        "price_minor": data.price_minor,
                        "currency": data.currency,
                        "reschedule_count": 0,
                        "cancel_reason": None,
                        "cancelled_at": None,
                        "completed_at": None,
                        "no_show_at": None,
                        **audit,
                    },
                )
            case e.AppointmentRescheduled():
                row = self._appointment(uow, event.tenant_id, data.appointment_id)
                self._update(
                    uow,
                    row,
                    start_at=data.start_at,
                    start_date=data.start_at.date(),
                    duration_minutes=data.duration_minutes,
                    clinician_id=data.clinician_id,
                    room_id=data.room_id,
                    reschedule_count=row["reschedule_count"] + 1,
                    **audit,
                )
            case e.AppointmentCancelled():
                row = self._appointment(uow, event.tenant_id, data.appointment_id)
                self._update(
                    uow,
                    row,
                    status="cancelled",
                    cancel_reason=data.reason,
                    cancelled_at=event.occurred_at,
                    **audit,
                )
            case e.AppointmentArrived():
                row = self._appointment(uow, event.tenant_id, data.appointment_id)
                self._update(uow, row, status="arrived", **audit)
            case e.AppointmentCompleted():
                row = self._appointment(uow, event.tenant_id, data.appointment_id)
                self._update(uow, row, status="completed", completed_at=event.occurred_at, **audit)
            case e.AppointmentNoShow():
                row = self._appointment(uow, event.tenant_id, data.appointment_id)
                self._update(uow, row, status="no_show", no_show_at=event.occurred_at, **audit)

    @staticmethod
    def _appointment(uow: WarehouseUnitOfWork, tenant_id: str, appointment_id: str) -> Row:
        row = uow.get_row(APPOINTMENTS, (tenant_id, appointment_id))
        if row is None:
            raise LookupError(f"fct_appointment has no {appointment_id} of {tenant_id}")
        return row

    @staticmethod
    def _update(uow: WarehouseUnitOfWork, row: Row, **changes: Any) -> None:
        uow.put_row(APPOINTMENTS, {**row, **changes})
