"""The pure reconciliation of a branch-day, on small hand-computed inputs (synthetic)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from mymedic.domain import reconciliation as r

T, B = "t1", "b1"
D1, D2 = date(2025, 3, 3), date(2025, 3, 4)
AS_OF = date(2025, 3, 10)


def paid(
    pid: str,
    amount: int,
    mode: str,
    provider: str,
    ref: str | None = None,
    kind: str = "payment",
    day: date = D1,
) -> r.RecordedPayment:
    return r.RecordedPayment(
        T, B, day, pid, amount, "INR", mode, provider, kind=kind, provider_reference=ref
    )


def captured(ref: str, amount: int, fee: int, tax: int, day: date = D1) -> r.GatewayCapture:
    """``fee`` here is before the tax on it; the gateway reports the fee with the tax
    included (as Razorpay does), which is what is passed on."""
    return r.GatewayCapture(T, B, day, "razorpay", ref, amount, "INR", fee + tax, tax)


def inputs() -> r.DayInputs:
    return r.DayInputs(
        payments=[
            paid("p-card", 100_000, "card", "razorpay", "pay_A", kind="deposit"),
            paid("p-upi", 50_000, "upi", "razorpay", "pay_B"),
            paid("p-cash", 20_000, "cash", "cash"),
            paid("p-console", 30_000, "card", "console", "pay_NONE"),
            paid("p-next", 70_000, "upi", "razorpay", "pay_C", day=D2),
        ],
        refunds=[
            r.RecordedRefund(T, B, D1, "rfnd_1", "p-upi", 10_000, "INR"),
            r.RecordedRefund(T, B, D1, "disp_1", "p-card", 40_000, "INR"),
        ],
        forfeitures=[r.Forfeiture(T, B, D1, "apt-9", 25_000, "INR")],
        invoices=[r.InvoiceBalance(T, B, D1, "inv-1", 90_000, 50_000, "INR")],
        captures=[
            captured("pay_A", 100_000, 2_000, 360),
            captured("pay_B", 50_000, 1_000, 180),
            captured("pay_X", 15_000, 300, 54),
            captured("pay_C", 70_000, 1_400, 252, day=D2),
        ],
        disputes=[r.GatewayDispute("razorpay", "pay_A", "disp_1", "lost", 40_000, "INR")],
        unmatched=[
            r.GatewayUnmatched(
                T,
                B,
                D1,
                "razorpay",
                "pay_X",
                "gateway.payment_captured",
                "no appointment in the metadata",
                15_000,
                "INR",
            ),
        ],
        settlements=[
            # pays out pay_A (day 1) and pay_C (day 2): nets 97_640 + 68_348
            r.Settlement(
                T, D2, "razorpay", "setl_1", 165_988, "INR", 3_400, 612, ("pay_A", "pay_C")
            ),
        ],
    )


def test_a_day_is_reconciled_to_the_minor_unit() -> None:
    [day] = r.reconcile(inputs(), D1, as_of=AS_OF)
    assert (day.tenant_id, day.branch_id, day.currency) == (T, B, "INR")
    # 100_000 + 50_000 + 20_000 + 30_000 - 10_000 refund - 40_000 chargeback
    assert day.expected_minor == 150_000
    assert day.captured_minor == 165_000  # pay_A + pay_B + pay_X
    assert (day.fees_minor, day.tax_minor) == (3_300 + 594, 594)  # fees include the tax
    assert day.settled_minor == 97_640  # only pay_A is listed by a settlement
    assert day.cash_minor == 20_000
    assert (day.refunds_minor, day.reversals_minor) == (10_000, 40_000)
    assert day.forfeitures_minor == 25_000
    assert day.deposits_held_minor == 100_000 - 40_000 - 25_000
    assert day.outstanding_minor == 40_000
    assert day.awaiting_settlement_minor == 0
    assert [(i.side, i.reason, i.reference, i.amount_minor) for i in day.unmatched] == [
        ("gateway", "not_linked", "pay_X", 15_000),
        ("gateway", "not_settled", "pay_B", 48_820),
        ("gateway", "not_settled", "pay_X", 14_646),
        ("ours", "no_gateway_capture", "p-console", 30_000),
    ]
    assert "no appointment in the metadata" in day.unmatched[0].detail


def test_the_second_day_is_settled_by_the_same_settlement() -> None:
    [day] = r.reconcile(inputs(), D2, as_of=AS_OF)
    assert (day.expected_minor, day.captured_minor, day.settled_minor) == (70_000, 70_000, 68_348)
    assert day.unmatched == ()


def test_the_same_inputs_in_any_order_give_the_same_result_twice() -> None:
    first = r.reconcile(inputs(), D1, as_of=AS_OF)
    shuffled = inputs()
    lists = {name: list(getattr(shuffled, name)) for name in r.DayInputs.__dataclass_fields__}
    for items in lists.values():
        random.Random(4).shuffle(items)
    again = r.reconcile(r.DayInputs(**lists), D1, as_of=AS_OF)
    assert first == again == r.reconcile(inputs(), D1, as_of=AS_OF)
    assert [d.to_document() for d in first] == [d.to_document() for d in again]


def test_a_late_settlement_reopens_the_day() -> None:
    before = inputs()
    [day] = r.reconcile(before, D1, as_of=AS_OF)
    late = r.Settlement(T, D2, "razorpay", "setl_2", 48_820, "INR", 1_000, 180, ("pay_B",))
    after = replace(before, settlements=[*before.settlements, late])
    [reopened] = r.reconcile(after, D1, as_of=AS_OF)
    assert reopened.settled_minor == day.settled_minor + 48_820
    assert "pay_B" not in {i.reference for i in reopened.unmatched if i.reason == "not_settled"}


def test_a_recent_capture_awaits_its_settlement_and_mismatches_are_flagged() -> None:
    data = r.DayInputs(
        payments=[paid("p1", 10_000, "upi", "razorpay", "pay_1")],
        captures=[captured("pay_1", 9_000, 100, 18)],
        settlements=[r.Settlement(T, D1, "razorpay", "setl_9", 1, "INR", 0, 0, ("pay_2",))],
    )
    results = r.reconcile(data, D1, as_of=D1)
    by_branch = {d.branch_id: d for d in results}
    assert by_branch[B].awaiting_settlement_minor == 8_882
    assert [(i.reason, i.amount_minor) for i in by_branch[B].unmatched] == [
        ("amount_mismatch", 1_000)
    ]
    assert [(i.reason, i.reference) for i in by_branch[r.UNASSIGNED].unmatched] == [
        ("settled_not_captured", "pay_2")
    ]
