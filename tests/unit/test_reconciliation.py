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
        # rfnd_1 was initiated at the gateway: recorded under its own id (no refund_id).
        gateway_refunds=[
            r.GatewayRefund("razorpay", "rfnd_1", None, "pay_B", "processed", 10_000, "INR")
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


D3 = date(2025, 3, 5)


def line(
    kind: str, ref: str, payment: str | None, amount: int, fee: int, tax: int, net: int
) -> r.SettledItem:
    return r.SettledItem(kind, ref, payment, amount, fee, tax, net)


def itemized_day() -> r.DayInputs:
    """Day 3: settlements itemized by the settlement-detail job, and refunds matched to
    the gateways' refunds."""
    return r.DayInputs(
        payments=[
            paid("q1", 100_000, "upi", "razorpay", "pay_P", day=D3),
            paid("q2", 50_000, "card", "razorpay", "pay_Q", day=D3),
            paid("q3", 80_000, "card", "stripe", "pi_R", day=D3),
            paid("q4", 30_000, "cash", "cash", day=D3),
        ],
        refunds=[
            r.RecordedRefund(T, B, D3, "rf_1", "q1", 20_000, "INR"),
            r.RecordedRefund(T, B, D3, "rf_2", "q2", 5_000, "INR"),
            r.RecordedRefund(T, B, D3, "rf_3", "q3", 10_000, "INR"),
            r.RecordedRefund(T, B, D3, "rf_4", "q4", 5_000, "INR"),  # cash: no gateway
        ],
        captures=[
            captured("pay_P", 100_000, 2_000, 360, day=D3),
            captured("pay_Q", 50_000, 1_000, 180, day=D3),  # the line says 1_416
            # Stripe's webhook does not carry the fee: the payout's line does.
            r.GatewayCapture(T, B, D3, "stripe", "pi_R", 80_000, "INR", fee_known=False),
        ],
        gateway_refunds=[
            r.GatewayRefund("razorpay", "rfnd_G1", "rf_1", "pay_P", "processed", 20_000, "INR"),
            r.GatewayRefund("razorpay", "rfnd_G2", "rf_2", "pay_Q", "failed", 5_000, "INR"),
            r.GatewayRefund("stripe", "re_3", "rf_3", "pi_R", "processed", 9_000, "INR"),
        ],
        settlements=[
            # 97_640 + 48_584 - 20_000 = 126_224: what it paid out
            r.Settlement(
                T,
                D3,
                "razorpay",
                "setl_A",
                126_224,
                "INR",
                items=(
                    line("payment", "pay_P", "pay_P", 100_000, 2_360, 360, 97_640),
                    line("payment", "pay_Q", "pay_Q", 50_000, 1_416, 216, 48_584),
                    line("refund", "rfnd_G1", "pay_P", 20_000, 0, 0, -20_000),
                ),
            ),
            # 76_460 - 1_500 = 74_960, but 75_000 reached the bank
            r.Settlement(
                T,
                D3,
                "stripe",
                "po_B",
                75_000,
                "INR",
                items=(
                    line("payment", "txn_R", "pi_R", 80_000, 3_540, 540, 76_460),
                    line("adjustment", "txn_adj", None, 1_500, 0, 0, -1_500),
                ),
            ),
            r.Settlement(T, D3, "razorpay", "setl_C", 12_345, "INR"),  # not itemized yet
        ],
    )


def test_itemized_settlements_and_gateway_refunds_are_reconciled() -> None:
    day, settlements = r.reconcile(itemized_day(), D3, as_of=AS_OF)
    assert (day.branch_id, settlements.branch_id) == (B, r.UNASSIGNED)
    # 100_000 + 50_000 + 80_000 + 30_000 - 20_000 - 5_000 - 10_000 - 5_000
    assert day.expected_minor == 220_000
    assert day.captured_minor == 230_000
    # pay_P 2_360 and pay_Q 1_180 as captured; pi_R 3_540 from its payout line
    assert (day.fees_minor, day.tax_minor) == (7_080, 1_080)
    # 97_640 + 48_820 + 76_460: every capture is listed by a line, none by payment_refs
    assert day.settled_minor == 222_920
    assert (day.cash_minor, day.refunds_minor, day.awaiting_settlement_minor) == (30_000, 40_000, 0)
    assert [(i.side, i.reason, i.reference, i.amount_minor) for i in day.unmatched] == [
        ("gateway", "fee_mismatch", "pay_Q", 236),  # 1_416 - 1_180
        ("ours", "no_gateway_refund", "rf_2", 5_000),  # its gateway refund failed
        ("ours", "refund_amount_mismatch", "rf_3", 1_000),  # 10_000 - 9_000
    ]
    assert "rfnd_G2 failed" in day.unmatched[1].detail
    assert [(i.reason, i.reference, i.amount_minor) for i in settlements.unmatched] == [
        ("not_itemized", "setl_C", 12_345),
        ("settlement_mismatch", "po_B", 40),  # 75_000 - 74_960
    ]
    assert "settlement-detail" in settlements.unmatched[0].detail


def test_a_refund_id_two_tenants_both_use_matches_only_its_own_payment_s_refund() -> None:
    """Our ids are per tenant: t1's rf_1 (10_000 of pay_A) and t2's rf_1 (4_000 of
    pay_B) are each matched to the gateway refund of their own payment."""
    inputs = r.DayInputs(
        payments=[
            paid("p1", 50_000, "upi", "razorpay", "pay_A"),
            replace(paid("p1", 30_000, "upi", "razorpay", "pay_B"), tenant_id="t2"),
        ],
        refunds=[
            r.RecordedRefund(T, B, D1, "rf_1", "p1", 10_000, "INR"),
            r.RecordedRefund("t2", B, D1, "rf_1", "p1", 4_000, "INR"),
        ],
        captures=[
            captured("pay_A", 50_000, 1_180, 180),
            replace(captured("pay_B", 30_000, 708, 108), tenant_id="t2"),
        ],
        gateway_refunds=[
            r.GatewayRefund("razorpay", "rfnd_1", "rf_1", "pay_A", "processed", 10_000, "INR"),
            r.GatewayRefund("razorpay", "rfnd_2", "rf_1", "pay_B", "processed", 4_000, "INR"),
        ],
    )
    results = r.reconcile(inputs, D1, as_of=D1)
    assert [(x.tenant_id, x.refunds_minor) for x in results] == [("t1", 10_000), ("t2", 4_000)]
    assert [item.reason for x in results for item in x.unmatched] == []
