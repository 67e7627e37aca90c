from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mymedic.domain import commands as c
from mymedic.domain import events as e
from mymedic.domain.aggregates import AppointmentState, InvoiceState, decide, fold
from mymedic.domain.errors import DomainError, StreamAlreadyExists, StreamNotFound
from mymedic.domain.types import AppointmentStatus

START = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)
BASE = {"tenant_id": "t1", "branch_id": "b1"}


def _booked() -> e.AppointmentBooked:
    return e.AppointmentBooked(
        appointment_id="a1",
        patient_id="p1",
        clinician_id="c1",
        room_id="r1",
        modality="CT",
        procedure_code="CT-CHEST",
        start_at=START,
        duration_minutes=30,
        channel="phone",
        price_minor=450000,
        currency="INR",
    )


def _invoice(paid: int = 0) -> list[e.EventPayload]:
    history: list[e.EventPayload] = [
        e.InvoiceIssued(
            invoice_id="i1",
            appointment_id="a1",
            patient_id="p1",
            payer_type="self_pay",
            amount_minor=1000,
            currency="INR",
            due_on=date(2026, 4, 1),
        )
    ]
    if paid:
        history.append(
            e.PaymentCaptured(
                invoice_id="i1",
                payment_id="pay1",
                amount_minor=paid,
                currency="INR",
                mode="upi",
                provider="razorpay",
            )
        )
    return history


def test_booking_creates_the_appointment() -> None:
    command = c.BookAppointment(**BASE, **_booked().model_dump())
    [new] = decide(command, None)
    assert new.payload == _booked()


def test_booking_twice_is_refused() -> None:
    command = c.BookAppointment(**BASE, **_booked().model_dump())
    with pytest.raises(StreamAlreadyExists):
        decide(command, fold([_booked()]))


def test_changing_a_missing_appointment_is_not_found() -> None:
    with pytest.raises(StreamNotFound):
        decide(c.CompleteAppointment(**BASE, appointment_id="a1"), None)


def test_reschedule_records_the_previous_start_and_keeps_unchanged_fields() -> None:
    new_start = datetime(2026, 3, 11, 4, 30, tzinfo=UTC)
    [new] = decide(
        c.RescheduleAppointment(**BASE, appointment_id="a1", start_at=new_start),
        fold([_booked()]),
    )
    assert isinstance(new.payload, e.AppointmentRescheduled)
    assert new.payload.previous_start_at == START
    assert (new.payload.clinician_id, new.payload.room_id) == ("c1", "r1")
    assert new.payload.duration_minutes == 30


def test_reschedule_to_the_same_start_is_refused() -> None:
    with pytest.raises(DomainError, match="equals"):
        decide(
            c.RescheduleAppointment(**BASE, appointment_id="a1", start_at=START),
            fold([_booked()]),
        )


@pytest.mark.parametrize(
    "finished",
    [
        e.AppointmentCancelled(appointment_id="a1", reason="travel"),
        e.AppointmentCompleted(appointment_id="a1"),
        e.AppointmentNoShow(appointment_id="a1"),
    ],
)
def test_a_finished_appointment_accepts_no_further_change(finished: e.EventPayload) -> None:
    state = fold([_booked(), finished])
    assert isinstance(state, AppointmentState)
    assert state.status is not AppointmentStatus.BOOKED
    with pytest.raises(DomainError):
        decide(c.MarkNoShow(**BASE, appointment_id="a1"), state)


def test_payment_cannot_exceed_what_is_outstanding() -> None:
    state = fold(_invoice(paid=600))
    assert isinstance(state, InvoiceState)
    assert state.paid_minor == 600
    pay = {"invoice_id": "i1", "currency": "INR", "mode": "cash", "provider": "cash"}
    with pytest.raises(DomainError, match="exceeds the outstanding 400"):
        decide(c.CapturePayment(**BASE, **pay, payment_id="pay2", amount_minor=401), state)
    [ok] = decide(c.CapturePayment(**BASE, **pay, payment_id="pay2", amount_minor=400), state)
    assert isinstance(ok.payload, e.PaymentCaptured)


def test_payment_in_another_currency_is_refused() -> None:
    with pytest.raises(DomainError, match="INR"):
        decide(
            c.CapturePayment(
                **BASE,
                invoice_id="i1",
                payment_id="p",
                amount_minor=1,
                currency="GBP",
                mode="card",
                provider="stripe",
            ),
            fold(_invoice()),
        )


def test_refunds_never_exceed_what_was_paid() -> None:
    refund = {"invoice_id": "i1", "payment_id": "pay1", "currency": "INR", "reason": "x"}
    state = fold(_invoice(paid=600))
    [first] = decide(c.RefundPayment(**BASE, **refund, refund_id="r1", amount_minor=500), state)
    state = fold([*_invoice(paid=600), first.payload])
    with pytest.raises(DomainError, match="refundable 100"):
        decide(c.RefundPayment(**BASE, **refund, refund_id="r2", amount_minor=101), state)
    with pytest.raises(DomainError, match="not on this invoice"):
        decide(
            c.RefundPayment(
                **BASE, **{**refund, "payment_id": "nope"}, refund_id="r3", amount_minor=1
            ),
            state,
        )


def test_registration_puts_personal_data_beside_the_event() -> None:
    personal = e.PatientPersonalData(full_name="Synthetic Person")
    [new] = decide(
        c.RegisterPatient(**BASE, patient_id="p1", channel="portal", personal=personal), None
    )
    assert new.personal == personal
    assert new.subject_id == "p1"
    assert "full_name" not in new.payload.model_dump()


def test_nps_comment_is_personal_data() -> None:
    [new] = decide(
        c.RecordNpsResponse(**BASE, response_id="n1", patient_id="p1", score=9, comment="ok"), None
    )
    assert new.personal == e.FreeTextPersonalData(comment="ok")
    assert "comment" not in new.payload.model_dump()


def test_a_booking_or_move_must_start_after_it_is_made() -> None:
    from mymedic.domain.aggregates import require_future_start

    book = c.BookAppointment(**BASE, **_booked().model_dump())
    require_future_start(book, START - timedelta(minutes=1))
    with pytest.raises(DomainError, match="not after"):
        require_future_start(book, START)
    move = c.RescheduleAppointment(**BASE, appointment_id="a1", start_at=START)
    with pytest.raises(DomainError) as raised:
        require_future_start(move, START + timedelta(days=1))
    assert raised.value.field == "start_at"
    require_future_start(
        c.CompleteAppointment(**BASE, appointment_id="a1"), START + timedelta(days=9)
    )
