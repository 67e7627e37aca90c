"""Appointment events in words, for the audit trail."""

from __future__ import annotations

from mymedic.domain import events as e
from mymedic.domain.money import minor_unit_exponent


def format_money(amount_minor: int, currency: str) -> str:
    exponent = minor_unit_exponent(currency)
    major, minor = divmod(amount_minor, 10**exponent)
    fraction = f".{minor:0{exponent}d}" if exponent else ""
    return f"{currency} {major:,}{fraction}"


def describe(data: e.EventPayload) -> str:
    """One line, in words, of what an appointment event says."""
    match data:
        case e.AppointmentBooked():
            return (
                f"Booked {data.procedure_code} ({data.modality}) at "
                f"{data.start_at.isoformat()} for {data.duration_minutes} min with clinician "
                f"{data.clinician_id} in room {data.room_id}, via {data.channel.value}; "
                f"price {format_money(data.price_minor, data.currency)}"
            )
        case e.AppointmentRescheduled():
            reason = f": {data.reason}" if data.reason else ""
            return (
                f"Rescheduled from {data.previous_start_at.isoformat()} to "
                f"{data.start_at.isoformat()} for {data.duration_minutes} min with clinician "
                f"{data.clinician_id} in room {data.room_id}{reason}"
            )
        case e.AppointmentCancelled():
            return f"Cancelled: {data.reason}"
        case e.AppointmentArrived():
            return "Patient arrived"
        case e.AppointmentCompleted():
            return "Completed"
        case e.AppointmentNoShow():
            return "Marked as a no-show"
        case e.AppointmentPaymentTaken():
            amount = format_money(data.amount_minor, data.currency)
            return (
                f"{data.kind.value.capitalize()} of {amount} taken by {data.mode.value} "
                f"({data.provider}), payment {data.payment_id}"
            )
        case e.AppointmentPaymentRefunded():
            return (
                f"Refunded {format_money(data.amount_minor, data.currency)} of payment "
                f"{data.payment_id} (refund {data.refund_id}): {data.reason}"
            )
        case e.DepositForfeited():
            trigger = data.trigger.replace("_", " ")
            return (
                f"Deposit of {format_money(data.amount_minor, data.currency)} forfeited: "
                f"{trigger} {data.hours_before_start:g} h before the start; policy: "
                f"{data.policy_percent}% of deposits within {data.policy_within_hours} h"
            )
        case e.FollowUpScheduled():
            return (
                f"Follow-up {data.follow_up_id} scheduled: {data.procedure_code} "
                f"({data.modality}) due on {data.due_on.isoformat()}"
            )
    return data.event_type
