from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mymedic.domain import commands as c
from mymedic.domain import events as e
from mymedic.domain.aggregates import (
    AppointmentState,
    Context,
    InvoiceState,
    decide,
    evolve,
    fold,
    held_slots,
)
from mymedic.domain.directory import (
    BranchState,
    CancellationPolicy,
    ClinicianState,
    PriceListState,
    RoomState,
)
from mymedic.domain.errors import (
    DomainError,
    StreamAlreadyExists,
    StreamNotFound,
    UnknownReference,
)
from mymedic.domain.schedule import ScheduleState, SlotTaken, slot_changes
from mymedic.domain.types import AppointmentStatus

# Tuesday 2026-03-10, 10:00 in Pune (04:30 UTC).
START = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BASE = {"tenant_id": "t1", "branch_id": "b1"}
BRANCH = BranchState("b1", "Pune Central", "Pune", "Asia/Kolkata", "INR")
MON_SAT = tuple(e.WorkingHours(weekday=d, start=time(8), end=time(19)) for d in range(6))
CLINICIAN = ClinicianState("c1", "b1", "Radiographer", frozenset({"CT"}), MON_SAT)
ROOM = RoomState("r1", "b1", "CT room", frozenset({"CT"}))


def _price(amount: int) -> e.PriceEntry:
    return e.PriceEntry(
        procedure_code="CT-CHEST",
        modality="CT",
        price_minor=amount,
        currency="INR",
        duration_minutes=30,
    )


PRICES = PriceListState(
    (
        (date(2026, 1, 1), {"CT-CHEST": _price(450_000)}),
        (date(2026, 3, 5), {"CT-CHEST": _price(480_000)}),
    )
)
POLICY = CancellationPolicy(forfeit_within_hours=24, forfeit_percent=50, forfeit_on_no_show=True)
CONTEXT = Context(
    now=NOW, branch=BRANCH, clinician=CLINICIAN, room=ROOM, prices=PRICES, policy=POLICY
)


def _book(**overrides: Any) -> c.BookAppointment:
    fields: dict[str, Any] = {
        **BASE,
        "appointment_id": "a1",
        "patient_id": "p1",
        "clinician_id": "c1",
        "room_id": "r1",
        "modality": "CT",
        "procedure_code": "CT-CHEST",
        "start_at": START,
        "channel": "phone",
    }
    return c.BookAppointment(**{**fields, **overrides})


def _booked(**overrides: Any) -> e.AppointmentBooked:
    [new] = decide(_book(**overrides), None, CONTEXT)
    assert isinstance(new.payload, e.AppointmentBooked)
    return new.payload


def _pay(payment_id: str, amount: int, kind: str = "deposit") -> c.TakePayment:
    return c.TakePayment(
        **BASE,
        appointment_id="a1",
        payment_id=payment_id,
        kind=kind,
        amount_minor=amount,
        currency="INR",
        mode="upi",
        provider="razorpay",
    )


def _refund(refund_id: str, payment_id: str, amount: int) -> c.RefundAppointmentPayment:
    return c.RefundAppointmentPayment(
        **BASE,
        appointment_id="a1",
        refund_id=refund_id,
        payment_id=payment_id,
        amount_minor=amount,
        currency="INR",
        reason="goodwill",
    )


def _apply(state: Any, command: c.Command, context: Context = CONTEXT) -> Any:
    for new in decide(command, state, context):
        state = evolve(state, new.payload)
    return state


# --- booking against the directory --------------------------------------------------------


def test_booking_takes_the_price_in_force_on_the_day_it_is_made() -> None:
    booked = _booked()
    assert (booked.price_minor, booked.currency) == (450_000, "INR")
    assert booked.price_effective_from == date(2026, 1, 1)
    assert booked.duration_minutes == 30  # from the price list
    later = Context(**{**CONTEXT.__dict__, "now": datetime(2026, 3, 6, 8, 0, tzinfo=UTC)})
    [new] = decide(_book(), None, later)
    assert isinstance(new.payload, e.AppointmentBooked)
    assert new.payload.price_minor == 480_000
    assert new.payload.price_effective_from == date(2026, 3, 5)


def test_the_start_is_recorded_in_the_branch_wall_clock() -> None:
    booked = _booked(start_at=datetime(2026, 3, 10, 4, 30, tzinfo=UTC))
    assert booked.start_at.isoformat() == "2026-03-10T10:00:00+05:30"


def test_one_instant_in_any_offset_lands_on_the_same_resource_day() -> None:
    # 00:30 in Pune on the 11th is 19:00 UTC on the 10th: the clinic day is the 11th.
    late = datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
    hours = tuple(e.WorkingHours(weekday=d, start=time(0), end=time(23)) for d in range(7))
    night_shift = Context(
        **{
            **CONTEXT.__dict__,
            "clinician": ClinicianState("c1", "b1", "Night", frozenset({"CT"}), hours),
        }
    )
    [new] = decide(_book(start_at=late), None, night_shift)
    state = evolve(None, new.payload)
    assert {slot.day for slot in held_slots("a1", state)} == {date(2026, 3, 11)}


@pytest.mark.parametrize(
    ("context_change", "field"),
    [
        ({"branch": None}, "branch_id"),
        ({"clinician": None}, "clinician_id"),
        ({"room": None}, "room_id"),
        ({"prices": None}, "procedure_code"),
    ],
)
def test_unknown_references_are_refused_naming_the_field(
    context_change: dict[str, Any], field: str
) -> None:
    context = Context(**{**CONTEXT.__dict__, **context_change})
    with pytest.raises(UnknownReference) as raised:
        decide(_book(), None, context)
    assert raised.value.field == field


def test_a_price_not_yet_in_force_is_unknown() -> None:
    early = Context(**{**CONTEXT.__dict__, "now": datetime(2025, 12, 1, tzinfo=UTC)})
    with pytest.raises(UnknownReference, match="in force on 2025-12-01"):
        decide(_book(start_at=datetime(2025, 12, 9, 5, tzinfo=UTC)), None, early)


@pytest.mark.parametrize(
    ("context_change", "field", "message"),
    [
        (
            {"clinician": ClinicianState("c1", "b2", "X", frozenset({"CT"}), MON_SAT)},
            "clinician_id",
            "works at branch b2",
        ),
        (
            {"clinician": ClinicianState("c1", "b1", "X", frozenset({"MRI"}), MON_SAT)},
            "clinician_id",
            "does not perform CT",
        ),
        ({"room": RoomState("r1", "b1", "MRI room", frozenset({"MRI"}))}, "room_id", "no CT"),
        ({"room": RoomState("r1", "b9", "CT room", frozenset({"CT"}))}, "room_id", "branch b9"),
    ],
)
def test_resources_must_belong_to_the_branch_and_fit_the_modality(
    context_change: dict[str, Any], field: str, message: str
) -> None:
    context = Context(**{**CONTEXT.__dict__, **context_change})
    with pytest.raises(DomainError, match=message) as raised:
        decide(_book(), None, context)
    assert raised.value.field == field


def test_the_procedure_must_be_of_the_booked_modality() -> None:
    with pytest.raises(DomainError, match="is a CT procedure") as raised:
        decide(
            _book(modality="MRI"),
            None,
            Context(
                **{
                    **CONTEXT.__dict__,
                    "clinician": ClinicianState("c1", "b1", "X", frozenset({"MRI", "CT"}), MON_SAT),
                    "room": RoomState("r1", "b1", "X", frozenset({"MRI", "CT"})),
                }
            ),
        )
    assert raised.value.field == "modality"


@pytest.mark.parametrize(
    ("local_start", "minutes", "allowed"),
    [
        ("2026-03-10T08:00:00+05:30", 30, True),  # opens at 08:00
        ("2026-03-10T18:30:00+05:30", 30, True),  # ends at closing time
        ("2026-03-10T07:45:00+05:30", 30, False),  # starts before
        ("2026-03-10T18:45:00+05:30", 30, False),  # runs past 19:00
        ("2026-03-15T10:00:00+05:30", 30, False),  # a Sunday
        ("2026-03-10T02:30:00Z", 30, True),  # 08:00 in Pune, sent in UTC
    ],
)
def test_bookings_fall_inside_the_clinicians_working_hours(
    local_start: str, minutes: int, allowed: bool
) -> None:
    command = _book(start_at=datetime.fromisoformat(local_start), duration_minutes=minutes)
    if allowed:
        decide(command, None, CONTEXT)
        return
    with pytest.raises(DomainError, match="working hours") as raised:
        decide(command, None, CONTEXT)
    assert raised.value.field == "start_at"


def test_a_booking_or_move_must_start_after_it_is_made() -> None:
    at_start = Context(**{**CONTEXT.__dict__, "now": START})
    with pytest.raises(DomainError, match="not after") as raised:
        decide(_book(), None, at_start)
    assert raised.value.field == "start_at"
    state = fold([_booked()])
    move = c.RescheduleAppointment(**BASE, appointment_id="a1", start_at=START + timedelta(hours=1))
    with pytest.raises(DomainError, match="not after"):
        decide(move, state, Context(**{**CONTEXT.__dict__, "now": START + timedelta(days=1)}))


def test_booking_twice_is_refused() -> None:
    with pytest.raises(StreamAlreadyExists):
        decide(_book(), fold([_booked()]), CONTEXT)


def test_changing_a_missing_appointment_is_not_found() -> None:
    with pytest.raises(StreamNotFound):
        decide(c.CompleteAppointment(**BASE, appointment_id="a1"), None, CONTEXT)


# --- the appointment's life ------------------------------------------------------------------


def test_reschedule_records_the_previous_start_and_keeps_the_payment_history() -> None:
    state = _apply(fold([_booked()]), _pay("dep1", 90_000))
    new_start = datetime(2026, 3, 11, 4, 30, tzinfo=UTC)
    [new] = decide(
        c.RescheduleAppointment(**BASE, appointment_id="a1", start_at=new_start), state, CONTEXT
    )
    assert isinstance(new.payload, e.AppointmentRescheduled)
    assert new.payload.previous_start_at == START
    assert (new.payload.clinician_id, new.payload.room_id) == ("c1", "r1")
    assert new.payload.duration_minutes == 30
    moved = evolve(state, new.payload)
    assert isinstance(moved, AppointmentState)
    assert moved.payments == state.payments
    assert moved.deposits_held_minor == 90_000


def test_reschedule_outside_working_hours_is_refused() -> None:
    sunday = datetime(2026, 3, 15, 4, 30, tzinfo=UTC)
    with pytest.raises(DomainError, match="working hours"):
        decide(
            c.RescheduleAppointment(**BASE, appointment_id="a1", start_at=sunday),
            fold([_booked()]),
            CONTEXT,
        )


def test_reschedule_to_the_same_start_is_refused() -> None:
    with pytest.raises(DomainError, match="equal"):
        decide(
            c.RescheduleAppointment(**BASE, appointment_id="a1", start_at=START),
            fold([_booked()]),
            CONTEXT,
        )


def test_arrival_then_completion_then_follow_up() -> None:
    state = _apply(fold([_booked()]), c.MarkArrived(**BASE, appointment_id="a1"))
    assert state.status is AppointmentStatus.ARRIVED
    with pytest.raises(DomainError, match="needs it booked"):
        decide(c.MarkNoShow(**BASE, appointment_id="a1"), state, CONTEXT)
    state = _apply(state, c.CompleteAppointment(**BASE, appointment_id="a1"))
    follow_up = c.ScheduleFollowUp(
        **BASE,
        appointment_id="a1",
        follow_up_id="f1",
        due_on=date(2026, 4, 10),
        procedure_code="CT-CHEST",
        modality="CT",
    )
    [new] = decide(follow_up, state, CONTEXT)
    assert isinstance(new.payload, e.FollowUpScheduled)
    assert new.payload.patient_id == "p1"
    with pytest.raises(StreamAlreadyExists):
        decide(follow_up, evolve(state, new.payload), CONTEXT)


def test_a_follow_up_needs_a_visit() -> None:
    with pytest.raises(DomainError, match="needs it arrived or completed"):
        decide(
            c.ScheduleFollowUp(
                **BASE,
                appointment_id="a1",
                follow_up_id="f1",
                due_on=date(2026, 4, 10),
                procedure_code="CT-CHEST",
                modality="CT",
            ),
            fold([_booked()]),
            CONTEXT,
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
        decide(c.MarkNoShow(**BASE, appointment_id="a1"), state, CONTEXT)
    with pytest.raises(DomainError):
        decide(c.CancelAppointment(**BASE, appointment_id="a1", reason="x"), state, CONTEXT)


# --- deposits, payments, the cancellation policy and refunds ----------------------------------


def _cancel_at(state: AppointmentState, hours_before: float) -> list[e.EventPayload]:
    at = Context(**{**CONTEXT.__dict__, "now": START - timedelta(hours=hours_before)})
    command = c.CancelAppointment(**BASE, appointment_id="a1", reason="travel")
    return [new.payload for new in decide(command, state, at)]


def test_a_late_cancellation_forfeits_the_policys_share_of_the_deposit() -> None:
    state = _apply(fold([_booked()]), _pay("dep1", 90_000))
    cancelled, forfeited = _cancel_at(state, hours_before=5)
    assert isinstance(cancelled, e.AppointmentCancelled)
    assert isinstance(forfeited, e.DepositForfeited)
    assert (forfeited.amount_minor, forfeited.currency) == (45_000, "INR")
    assert forfeited.trigger == "late_cancellation"
    assert (forfeited.policy_within_hours, forfeited.policy_percent) == (24, 50)
    assert forfeited.hours_before_start == 5.0
    after = fold([_booked(), *_events(state), cancelled, forfeited])
    assert isinstance(after, AppointmentState)
    assert after.refundable_minor == 45_000


def _events(state: AppointmentState) -> list[e.EventPayload]:
    return [
        e.AppointmentPaymentTaken(
            appointment_id="a1",
            payment_id=payment_id,
            kind=payment.kind,
            amount_minor=payment.amount_minor,
            currency="INR",
            mode="upi",
            provider="razorpay",
        )
        for payment_id, payment in state.payments.items()
    ]


@pytest.mark.parametrize("hours_before", [24, 48])
def test_an_early_cancellation_forfeits_nothing(hours_before: float) -> None:
    state = _apply(fold([_booked()]), _pay("dep1", 90_000))
    assert [type(p) for p in _cancel_at(state, hours_before)] == [e.AppointmentCancelled]


def test_no_deposit_nothing_to_forfeit() -> None:
    assert [type(p) for p in _cancel_at(fold([_booked()]), 1)] == [e.AppointmentCancelled]


def test_a_no_show_forfeits_when_the_policy_says_so() -> None:
    state = _apply(fold([_booked()]), _pay("dep1", 90_000))
    after_start = Context(**{**CONTEXT.__dict__, "now": START + timedelta(hours=1)})
    payloads = [
        p.payload for p in decide(c.MarkNoShow(**BASE, appointment_id="a1"), state, after_start)
    ]
    assert [type(p) for p in payloads] == [e.AppointmentNoShow, e.DepositForfeited]
    lenient = Context(**{**after_start.__dict__, "policy": CancellationPolicy(24, 50, False)})
    payloads = [
        p.payload for p in decide(c.MarkNoShow(**BASE, appointment_id="a1"), state, lenient)
    ]
    assert [type(p) for p in payloads] == [e.AppointmentNoShow]


def test_payments_never_exceed_the_price() -> None:
    state = _apply(fold([_booked()]), _pay("dep1", 100_000))
    with pytest.raises(DomainError, match="exceeds the outstanding 350000"):
        decide(_pay("pay1", 350_001, "payment"), state, CONTEXT)
    state = _apply(state, _pay("pay1", 350_000, "payment"))
    assert state.net_paid_minor == state.price_minor
    with pytest.raises(StreamAlreadyExists):
        decide(_pay("x", 1, "payment"), _apply(fold([_booked()]), _pay("x", 1)), CONTEXT)


def test_a_deposit_is_taken_before_the_visit_only() -> None:
    done = fold([_booked(), e.AppointmentCompleted(appointment_id="a1")])
    with pytest.raises(DomainError, match="needs it booked"):
        decide(_pay("dep1", 1), done, CONTEXT)
    decide(_pay("pay1", 1, "payment"), done, CONTEXT)


def test_payment_in_another_currency_is_refused() -> None:
    command = _pay("dep1", 1).model_copy(update={"currency": "GBP"})
    with pytest.raises(DomainError, match="INR") as raised:
        decide(command, fold([_booked()]), CONTEXT)
    assert raised.value.field == "currency"


def test_refunds_never_exceed_what_was_paid_less_what_was_forfeited() -> None:
    state = _apply(fold([_booked()]), _pay("dep1", 90_000))
    state = _apply(state, _refund("r1", "dep1", 30_000))
    with pytest.raises(DomainError, match="refundable 60000"):
        decide(_refund("r2", "dep1", 60_001), state, CONTEXT)
    with pytest.raises(DomainError, match="not on this appointment"):
        decide(_refund("r2", "nope", 1), state, CONTEXT)
    late = Context(**{**CONTEXT.__dict__, "now": START - timedelta(hours=2)})
    state = _apply(state, c.CancelAppointment(**BASE, appointment_id="a1", reason="x"), late)
    assert state.forfeited_minor == 30_000  # half of the 60,000 still held
    with pytest.raises(DomainError, match="refundable 30000"):
        decide(_refund("r2", "dep1", 30_001), state, CONTEXT)
    state = _apply(state, _refund("r2", "dep1", 30_000))
    assert state.refundable_minor == 0


_amounts = st.sampled_from([1, 25_000, 50_000, 100_000, 200_000, 450_000])
_money_steps = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), _amounts),
        st.tuples(st.just("payment"), _amounts),
        st.tuples(st.just("refund"), st.integers(0, 30), _amounts),
        st.tuples(st.just("refund"), st.integers(0, 30), _amounts),
        st.tuples(st.just("cancel"), st.sampled_from([0.5, 5.0, 23.9, 24.0, 48.0])),
        st.tuples(st.just("no_show")),
        st.tuples(st.just("complete")),
    ),
    max_size=12,
)


@settings(max_examples=1000, deadline=None)
@given(_money_steps, st.sampled_from([50, 100, 37, 0]), st.sampled_from([24, 48, 0]))
def test_random_money_sequences_never_refund_more_than_was_paid(
    steps: list[tuple[Any, ...]], percent: int, window: int
) -> None:
    """Whatever is tried, the folded events never show a refund above what was paid
    (less what was forfeited), nor more paid than the price."""
    policy = CancellationPolicy(window, percent, True)
    context = Context(**{**CONTEXT.__dict__, "policy": policy})
    history: list[e.EventPayload] = [_booked()]
    for index, step in enumerate(steps):
        state = fold(history)
        assert isinstance(state, AppointmentState)
        kind = step[0]
        command: c.Command
        now = context
        if kind in ("deposit", "payment"):
            command = _pay(f"pay{index}", step[1], kind)
        elif kind == "refund":
            # Mostly a payment on record (the rule at stake), sometimes an unknown one.
            known = [*state.payments, "unknown"]
            command = _refund(f"ref{index}", known[step[1] % len(known)], step[2])
        elif kind == "cancel":
            command = c.CancelAppointment(**BASE, appointment_id="a1", reason="x")
            now = Context(**{**context.__dict__, "now": START - timedelta(hours=step[1])})
        elif kind == "no_show":
            command = c.MarkNoShow(**BASE, appointment_id="a1")
            now = Context(**{**context.__dict__, "now": START + timedelta(hours=1)})
        else:
            command = c.CompleteAppointment(**BASE, appointment_id="a1")
        try:
            history += [new.payload for new in decide(command, state, now)]
        except DomainError:
            continue
    final = fold(history)
    assert isinstance(final, AppointmentState)
    paid = sum(p.amount_minor for p in history if isinstance(p, e.AppointmentPaymentTaken))
    refunded = sum(p.amount_minor for p in history if isinstance(p, e.AppointmentPaymentRefunded))
    forfeited = sum(p.amount_minor for p in history if isinstance(p, e.DepositForfeited))
    assert 0 <= refunded <= paid - forfeited
    assert paid - refunded <= final.price_minor
    amounts = {
        p.payment_id: p.amount_minor for p in history if isinstance(p, e.AppointmentPaymentTaken)
    }
    for payment_id, amount in amounts.items():
        back = sum(
            p.amount_minor
            for p in history
            if isinstance(p, e.AppointmentPaymentRefunded) and p.payment_id == payment_id
        )
        assert back <= amount
    for payment in final.payments.values():
        assert 0 <= payment.refunded_minor + payment.forfeited_minor <= payment.amount_minor


def test_the_forfeited_part_of_a_deposit_stays_forfeited_beside_other_payments() -> None:
    state = _apply(fold([_booked()]), _pay("dep1", 200_000))
    state = _apply(state, _pay("pay2", 200_000, "payment"))
    late = Context(**{**CONTEXT.__dict__, "now": START - timedelta(hours=2)})
    state = _apply(state, c.CancelAppointment(**BASE, appointment_id="a1", reason="x"), late)
    assert state.payments["dep1"].forfeited_minor == 100_000
    with pytest.raises(DomainError, match="refundable 100000"):
        decide(_refund("r1", "dep1", 200_000), state, CONTEXT)
    state = _apply(state, _refund("r1", "dep1", 100_000))
    state = _apply(state, _refund("r2", "pay2", 200_000))
    assert (state.refunded_minor, state.forfeited_minor, state.refundable_minor) == (
        300_000,
        100_000,
        0,
    )


# --- clinicians' blocked time ---------------------------------------------------------------


def test_a_block_cannot_cover_a_booking_and_a_booking_cannot_cover_a_block() -> None:
    booked = fold([_booked()])
    appointment_slots = held_slots("a1", booked)
    clinician_day = appointment_slots[0].stream
    schedule = ScheduleState({"a1": (START, START + timedelta(minutes=30))})
    blocked = c.BlockClinicianTime(
        **BASE,
        clinician_id="c1",
        block_id="leave",
        start_at=START - timedelta(hours=1),
        end_at=START + timedelta(hours=1),
        reason="training",
    )
    after = _apply(CLINICIAN, blocked)
    block_slots = held_slots("c1", after, BRANCH)
    assert [slot.stream for slot in block_slots] == [clinician_day]
    with pytest.raises(SlotTaken, match="booked"):
        slot_changes([], block_slots, {clinician_day: schedule})
    blocked_day = ScheduleState({"block:leave": (block_slots[0].start_at, block_slots[0].end_at)})
    with pytest.raises(SlotTaken, match="blocked"):
        slot_changes([], appointment_slots, {clinician_day: blocked_day})


def test_a_block_over_several_days_holds_each_day() -> None:
    blocked = c.BlockClinicianTime(
        **BASE,
        clinician_id="c1",
        block_id="leave",
        start_at=datetime(2026, 3, 10, 12, 0, tzinfo=UTC),
        end_at=datetime(2026, 3, 12, 12, 0, tzinfo=UTC),
        reason="leave",
    )
    slots = held_slots("c1", _apply(CLINICIAN, blocked), BRANCH)
    assert [slot.day for slot in slots] == [date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)]
    changes = slot_changes([], slots, {})
    assert all(isinstance(p[0], e.TimeBlocked) for p in changes.values())
    unblocked = c.UnblockClinicianTime(**BASE, clinician_id="c1", block_id="leave")
    assert held_slots("c1", _apply(_apply(CLINICIAN, blocked), unblocked), BRANCH) == []
    with pytest.raises(StreamNotFound):
        decide(unblocked, CLINICIAN, CONTEXT)


def test_a_block_must_end_after_it_starts_and_not_be_over() -> None:
    block = {**BASE, "clinician_id": "c1", "block_id": "b", "reason": "x"}
    with pytest.raises(DomainError, match="end after"):
        decide(c.BlockClinicianTime(**block, start_at=START, end_at=START), CLINICIAN, CONTEXT)
    with pytest.raises(DomainError, match="over already"):
        decide(
            c.BlockClinicianTime(
                **block, start_at=NOW - timedelta(hours=2), end_at=NOW - timedelta(hours=1)
            ),
            CLINICIAN,
            CONTEXT,
        )


# --- price lists -------------------------------------------------------------------------


def test_a_price_list_update_keeps_earlier_versions_and_checks_the_currency() -> None:
    update = c.UpdatePriceList(**BASE, effective_from=date(2026, 6, 1), prices=[_price(500_000)])
    state = _apply(PRICES, update)
    assert isinstance(state, PriceListState)
    assert state.price_on(date(2026, 5, 31), "CT-CHEST") == (_price(480_000), date(2026, 3, 5))
    assert state.price_on(date(2026, 6, 1), "CT-CHEST") == (_price(500_000), date(2026, 6, 1))
    dollars = _price(1).model_copy(update={"currency": "USD"})
    with pytest.raises(DomainError, match="prices in INR"):
        decide(update.model_copy(update={"prices": [dollars]}), None, CONTEXT)
    with pytest.raises(DomainError, match="twice"):
        decide(update.model_copy(update={"prices": [_price(1), _price(2)]}), None, CONTEXT)


# --- invoices (the payer's bill) ---------------------------------------------------------------


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


def test_invoice_payment_cannot_exceed_what_is_outstanding() -> None:
    state = fold(_invoice(paid=600))
    assert isinstance(state, InvoiceState)
    assert state.paid_minor == 600
    pay = {"invoice_id": "i1", "currency": "INR", "mode": "cash", "provider": "cash"}
    with pytest.raises(DomainError, match="exceeds the outstanding 400"):
        decide(c.CapturePayment(**BASE, **pay, payment_id="pay2", amount_minor=401), state, CONTEXT)
    [ok] = decide(
        c.CapturePayment(**BASE, **pay, payment_id="pay2", amount_minor=400), state, CONTEXT
    )
    assert isinstance(ok.payload, e.PaymentCaptured)


def test_invoice_refunds_never_exceed_what_was_paid() -> None:
    refund = {"invoice_id": "i1", "payment_id": "pay1", "currency": "INR", "reason": "x"}
    state = fold(_invoice(paid=600))
    [first] = decide(
        c.RefundPayment(**BASE, **refund, refund_id="r1", amount_minor=500), state, CONTEXT
    )
    state = fold([*_invoice(paid=600), first.payload])
    with pytest.raises(DomainError, match="refundable 100"):
        decide(c.RefundPayment(**BASE, **refund, refund_id="r2", amount_minor=101), state, CONTEXT)


# --- personal data -----------------------------------------------------------------------


def test_registration_puts_personal_data_beside_the_event() -> None:
    personal = e.PatientPersonalData(full_name="Synthetic Person")
    [new] = decide(
        c.RegisterPatient(**BASE, patient_id="p1", channel="portal", personal=personal),
        None,
        CONTEXT,
    )
    assert new.personal == personal
    assert new.subject_id == "p1"
    assert "full_name" not in new.payload.model_dump()


def test_nps_comment_is_personal_data() -> None:
    [new] = decide(
        c.RecordNpsResponse(**BASE, response_id="n1", patient_id="p1", score=9, comment="ok"),
        None,
        CONTEXT,
    )
    assert new.personal == e.FreeTextPersonalData(comment="ok")
    assert "comment" not in new.payload.model_dump()
