"""The money facts and reports (payments by mode, receivables aging, leakage) checked
against figures worked out by hand, through the HTTP command handler. Two branches of
one tenant: b1 in Pune (INR, +05:30) and b2 in Dubai (AED, +04:00). All synthetic."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mymedic.bootstrap import Platform
from mymedic.server import create_server
from tests.conftest import bearer, booking, directory_commands, post_directory

TENANT = "t1"
BOOKED_AT = "2025-01-02T09:00:00"  # every booking is made then, in the branch's zone
ZONE = {"b1": "+05:30", "b2": "+04:00"}
CURRENCY = {"b1": "INR", "b2": "AED"}


def _send(client: Any, name: str, body: dict[str, Any]) -> None:
    body = {"tenant_id": TENANT, **body}
    response = client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))
    assert response.status_code == 201, (name, response.get_json())


def _at(branch: str, local: str) -> str:
    return f"{local}{ZONE[branch]}"


def _dubai_directory(client: Any) -> None:
    """The test directory as a branch in Dubai that prices in AED."""
    for name, body in directory_commands(TENANT, "b2", "-b2"):
        if name == "register_branch":
            body.update(city="Dubai", timezone="Asia/Dubai", currency="AED")
        if name == "update_price_list":
            body["prices"] = [{**p, "currency": "AED"} for p in body["prices"]]
        _send(client, name, body)


class Clinic:
    def __init__(self, client: Any) -> None:
        self.client = client

    def book(self, apt: str, branch: str, procedure: str, modality: str, start: str) -> None:
        suffix = "-b2" if branch == "b2" else ""
        body = booking(
            apt,
            tenant_id=TENANT,
            branch_id=branch,
            patient_id=f"pat-{apt}",
            clinician_id=f"clin-1{suffix}",
            room_id=f"room-1{suffix}",
            modality=modality,
            procedure_code=procedure,
            start_at=_at(branch, start),
            occurred_at=_at(branch, BOOKED_AT),
        )
        del body["duration_minutes"]
        _send(self.client, "book_appointment", body)

    def ref(self, apt: str, branch: str) -> dict[str, Any]:
        return {"branch_id": branch, "appointment_id": apt}

    def pay(
        self, apt: str, branch: str, payment: str, kind: str, amount: int, mode: str, at: str
    ) -> None:
        provider = {"cash": "cash", "card": "stripe", "upi": "razorpay"}[mode]
        body = {
            **self.ref(apt, branch),
            "payment_id": payment,
            "kind": kind,
            "amount_minor": amount,
            "currency": CURRENCY[branch],
            "mode": mode,
            "provider": provider,
            "occurred_at": _at(branch, at),
        }
        _send(self.client, "take_payment", body)

    def outcome(self, apt: str, branch: str, command: str, at: str, **extra: Any) -> None:
        body = {**self.ref(apt, branch), "occurred_at": _at(branch, at), **extra}
        _send(self.client, command, body)

    def invoice(
        self, invoice: str, apt: str, branch: str, payer: str, amount: int, at: str, due: str
    ) -> None:
        body = {
            "branch_id": branch,
            "invoice_id": invoice,
            "appointment_id": apt,
            "patient_id": f"pat-{apt}",
            "payer_type": payer,
            "amount_minor": amount,
            "currency": CURRENCY[branch],
            "due_on": due,
            "occurred_at": _at(branch, at),
        }
        _send(self.client, "issue_invoice", body)

    def capture(
        self, invoice: str, branch: str, payment: str, amount: int, mode: str, at: str
    ) -> None:
        provider = {"cash": "cash", "card": "stripe", "upi": "razorpay"}[mode]
        body = {
            "branch_id": branch,
            "invoice_id": invoice,
            "payment_id": payment,
            "amount_minor": amount,
            "currency": CURRENCY[branch],
            "mode": mode,
            "provider": provider,
            "occurred_at": _at(branch, at),
        }
        _send(self.client, "capture_payment", body)


def _scenario(platform: Platform) -> None:
    client = create_server().test_client()
    post_directory(client, TENANT, "b1", prefix="/commands")
    _dubai_directory(client)
    _send(
        client,
        "set_cancellation_policy",
        {"branch_id": "*", "forfeit_within_hours": 24, "forfeit_percent": 50},
    )
    clinic = Clinic(client)
    # b1 (INR). a1: deposit and balance, paid in full.
    clinic.book("a1", "b1", "MRI-BRAIN", "MRI", "2025-01-10T10:00:00")  # 850_000
    clinic.pay("a1", "b1", "d1", "deposit", 200_000, "upi", "2025-01-02T09:05:00")
    clinic.outcome("a1", "b1", "complete_appointment", "2025-01-10T10:45:00")
    clinic.pay("a1", "b1", "p1", "payment", 650_000, "cash", "2025-01-10T11:00:00")
    # a2: scanned, never invoiced nor paid: unbilled.
    clinic.book("a2", "b1", "CT-CHEST", "CT", "2025-01-10T12:00:00")  # 450_000
    clinic.outcome("a2", "b1", "complete_appointment", "2025-01-10T12:30:00")
    # a3: deposit, then the insurer is invoiced 600_000, pays 200_000, 50_000 refunded.
    clinic.book("a3", "b1", "MRI-KNEE", "MRI", "2025-01-11T10:00:00")  # 700_000
    clinic.pay("a3", "b1", "d3", "deposit", 100_000, "card", "2025-01-02T09:10:00")
    clinic.outcome("a3", "b1", "complete_appointment", "2025-01-11T10:45:00")
    clinic.invoice("inv1", "a3", "b1", "insurer", 600_000, "2025-01-11T12:00:00", "2025-01-31")
    clinic.capture("inv1", "b1", "ip1", 200_000, "upi", "2025-02-15T10:00:00")
    refund = {
        "branch_id": "b1",
        "invoice_id": "inv1",
        "refund_id": "ir1",
        "payment_id": "ip1",
        "amount_minor": 50_000,
        "currency": "INR",
        "reason": "billing correction",
        "occurred_at": _at("b1", "2025-03-05T10:00:00"),
    }
    _send(client, "refund_payment", refund)
    # a4: an employer is invoiced 60_000 due end of February, paid in March.
    clinic.book("a4", "b1", "XR-CHEST", "XRAY", "2025-01-12T10:00:00")  # 60_000
    clinic.outcome("a4", "b1", "complete_appointment", "2025-01-12T10:15:00")
    clinic.invoice("inv2", "a4", "b1", "corporate", 60_000, "2025-01-12T11:00:00", "2025-02-28")
    clinic.capture("inv2", "b1", "ip2", 60_000, "card", "2025-03-10T10:00:00")
    # a5: deposit 300_000, cancelled 12 h ahead: half kept, the other half refunded.
    clinic.book("a5", "b1", "MRI-BRAIN", "MRI", "2025-01-20T10:00:00")
    clinic.pay("a5", "b1", "d5", "deposit", 300_000, "upi", "2025-01-02T09:15:00")
    clinic.outcome("a5", "b1", "cancel_appointment", "2025-01-19T22:00:00", reason="travel")
    refund = {
        "refund_id": "r5",
        "payment_id": "d5",
        "amount_minor": 150_000,
        "currency": "INR",
        "reason": "deposit returned",
    }
    clinic.outcome("a5", "b1", "refund_appointment_payment", "2025-01-20T09:00:00", **refund)
    # a6: 100_000 of 450_000 paid at 00:30 local (the day before in UTC): underpaid.
    clinic.book("a6", "b1", "CT-CHEST", "CT", "2025-02-03T10:00:00")
    clinic.pay("a6", "b1", "p6", "payment", 100_000, "upi", "2025-02-03T00:30:00")
    clinic.outcome("a6", "b1", "complete_appointment", "2025-02-03T10:30:00")
    # b2 (AED). c1: deposit 100_000, no-show: half kept.
    clinic.book("c1", "b2", "MRI-BRAIN", "MRI", "2025-01-15T10:00:00")
    clinic.pay("c1", "b2", "cd1", "deposit", 100_000, "card", "2025-01-02T09:05:00")
    clinic.outcome("c1", "b2", "mark_no_show", "2025-01-15T11:00:00")
    # c2: self-pay invoice of 450_000 due on the day, 150_000 paid in cash.
    clinic.book("c2", "b2", "CT-CHEST", "CT", "2025-01-16T10:00:00")
    clinic.outcome("c2", "b2", "complete_appointment", "2025-01-16T10:30:00")
    clinic.invoice("inv3", "c2", "b2", "self_pay", 450_000, "2025-01-16T12:00:00", "2025-01-16")
    clinic.capture("inv3", "b2", "ip3", 150_000, "cash", "2025-01-16T12:05:00")
    platform.catch_up()


@pytest.fixture
def scenario(platform: Platform) -> Platform:
    _scenario(platform)
    return platform


def _pick(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in columns) for row in rows]


def test_payment_facts_one_row_per_payment_refund_forfeiture_and_invoice(
    scenario: Platform,
) -> None:
    """Read through the marts: the facts' rows with the branch's calendar dates."""
    warehouse = scenario.warehouse
    payments = warehouse.query("int_payment", {"tenant_id": TENANT})
    columns = ("payment_id", "branch_id", "source", "appointment_id", "invoice_id", "kind")
    assert sorted(_pick(payments, *columns)) == [
        ("cd1", "b2", "appointment", "c1", None, "deposit"),
        ("d1", "b1", "appointment", "a1", None, "deposit"),
        ("d3", "b1", "appointment", "a3", None, "deposit"),
        ("d5", "b1", "appointment", "a5", None, "deposit"),
        ("ip1", "b1", "invoice", "a3", "inv1", "payment"),
        ("ip2", "b1", "invoice", "a4", "inv2", "payment"),
        ("ip3", "b2", "invoice", "c2", "inv3", "payment"),
        ("p1", "b1", "appointment", "a1", None, "payment"),
        ("p6", "b1", "appointment", "a6", None, "payment"),
    ]
    money = ("mode", "provider", "amount_minor", "currency", "paid_date")
    assert {r["payment_id"]: tuple(r[c] for c in money) for r in payments} == {
        "cd1": ("card", "stripe", 100_000, "AED", date(2025, 1, 2)),
        "d1": ("upi", "razorpay", 200_000, "INR", date(2025, 1, 2)),
        "d3": ("card", "stripe", 100_000, "INR", date(2025, 1, 2)),
        "d5": ("upi", "razorpay", 300_000, "INR", date(2025, 1, 2)),
        "ip1": ("upi", "razorpay", 200_000, "INR", date(2025, 2, 15)),
        "ip2": ("card", "stripe", 60_000, "INR", date(2025, 3, 10)),
        "ip3": ("cash", "cash", 150_000, "AED", date(2025, 1, 16)),
        "p1": ("cash", "cash", 650_000, "INR", date(2025, 1, 10)),
        # Paid 2025-02-02 19:00 UTC: the branch's calendar says the 3rd.
        "p6": ("upi", "razorpay", 100_000, "INR", date(2025, 2, 3)),
    }
    assert {r["patient_id"] for r in payments if r["payment_id"] == "ip1"} == {"pat-a3"}
    assert all(r["paid_at"].tzinfo is not None for r in payments)

    refunds = warehouse.query("int_refund", {"tenant_id": TENANT})
    columns = ("refund_id", "payment_id", "source", "appointment_id", "invoice_id")
    assert _pick(refunds, *columns) == [
        ("r5", "d5", "appointment", "a5", None),
        ("ir1", "ip1", "invoice", "a3", "inv1"),
    ]
    assert _pick(refunds, "amount_minor", "currency", "refunded_date", "reason") == [
        (150_000, "INR", date(2025, 1, 20), "deposit returned"),
        (50_000, "INR", date(2025, 3, 5), "billing correction"),
    ]

    forfeitures = warehouse.query("int_forfeiture", {"tenant_id": TENANT})
    columns = ("appointment_id", "branch_id", "trigger", "amount_minor", "currency")
    policy = ("hours_before_start", "policy_within_hours", "policy_percent", "forfeited_date")
    assert sorted(_pick(forfeitures, *columns, *policy)) == [
        ("a5", "b1", "late_cancellation", 150_000, "INR", 12.0, 24, 50, date(2025, 1, 19)),
        ("c1", "b2", "no_show", 50_000, "AED", -1.0, 24, 50, date(2025, 1, 15)),
    ]

    invoices = warehouse.query("int_invoice", {"tenant_id": TENANT})
    columns = ("invoice_id", "branch_id", "appointment_id", "payer_type", "amount_minor")
    assert _pick(invoices, *columns, "currency", "issued_date", "due_on") == [
        ("inv1", "b1", "a3", "insurer", 600_000, "INR", date(2025, 1, 11), date(2025, 1, 31)),
        ("inv2", "b1", "a4", "corporate", 60_000, "INR", date(2025, 1, 12), date(2025, 2, 28)),
        ("inv3", "b2", "c2", "self_pay", 450_000, "AED", date(2025, 1, 16), date(2025, 1, 16)),
    ]
    branches = warehouse.query("dim_branch", {"tenant_id": TENANT})
    assert _pick(branches, "branch_id", "timezone", "currency") == [
        ("b1", "Asia/Kolkata", "INR"),
        ("b2", "Asia/Dubai", "AED"),
    ]


def test_payments_by_mode(scenario: Platform) -> None:
    rows = scenario.warehouse.query("rpt_payments_by_mode", {"tenant_id": TENANT})
    columns = ("branch_id", "paid_date", "currency", "mode", "payments", "amount_minor")
    assert _pick(rows, *columns, "deposits", "deposit_minor") == [
        ("b1", date(2025, 1, 2), "INR", "card", 1, 100_000, 1, 100_000),
        ("b1", date(2025, 1, 2), "INR", "upi", 2, 500_000, 2, 500_000),
        ("b1", date(2025, 1, 10), "INR", "cash", 1, 650_000, 0, 0),
        ("b1", date(2025, 2, 3), "INR", "upi", 1, 100_000, 0, 0),
        ("b1", date(2025, 2, 15), "INR", "upi", 1, 200_000, 0, 0),
        ("b1", date(2025, 3, 10), "INR", "card", 1, 60_000, 0, 0),
        ("b2", date(2025, 1, 2), "AED", "card", 1, 100_000, 1, 100_000),
        ("b2", date(2025, 1, 16), "AED", "cash", 1, 150_000, 0, 0),
    ]


AGING = (
    "invoices",
    "outstanding_minor",
    "not_due_minor",
    "days_0_30_minor",
    "days_31_60_minor",
    "days_61_90_minor",
    "days_over_90_minor",
)


def test_receivables_aging_at_month_ends(scenario: Platform) -> None:
    """inv1 (INR 600_000, due 01-31): 200_000 paid 02-15, 50_000 refunded 03-05.
    inv2 (INR 60_000, due 02-28): paid 03-10. inv3 (AED 450_000, due 01-16): 150_000
    paid on the day."""
    rows = scenario.warehouse.query("rpt_receivables_aging", {"tenant_id": TENANT})
    month_ends = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
    month_ends += [date(2025, 4, 30), date(2025, 5, 31)]
    aging = {
        (r["branch_id"], r["currency"], r["as_of_date"]): tuple(r[c] for c in AGING)
        for r in rows
        if r["as_of_date"] in month_ends
    }
    assert aging == {
        # inv1 due today (0 days: 0-30), inv2 not due for 28 days.
        ("b1", "INR", date(2025, 1, 31)): (2, 660_000, 60_000, 600_000, 0, 0, 0),
        # inv1 400_000 at 28 days, inv2 due today.
        ("b1", "INR", date(2025, 2, 28)): (2, 460_000, 0, 460_000, 0, 0, 0),
        # inv2 settled; the refund puts inv1 back to 450_000, 59 days past due.
        ("b1", "INR", date(2025, 3, 31)): (1, 450_000, 0, 0, 450_000, 0, 0),
        ("b1", "INR", date(2025, 4, 30)): (1, 450_000, 0, 0, 0, 450_000, 0),  # 89 days
        ("b1", "INR", date(2025, 5, 31)): (1, 450_000, 0, 0, 0, 0, 450_000),  # 120 days
        ("b2", "AED", date(2025, 1, 31)): (1, 300_000, 0, 300_000, 0, 0, 0),  # 15 days
        ("b2", "AED", date(2025, 2, 28)): (1, 300_000, 0, 0, 300_000, 0, 0),  # 43 days
        ("b2", "AED", date(2025, 3, 31)): (1, 300_000, 0, 0, 0, 300_000, 0),  # 74 days
        ("b2", "AED", date(2025, 4, 30)): (1, 300_000, 0, 0, 0, 0, 300_000),  # 104 days
        ("b2", "AED", date(2025, 5, 31)): (1, 300_000, 0, 0, 0, 0, 300_000),
    }
    # Nothing before the first invoice's month; and today's row holds the same balances.
    assert min(r["as_of_date"] for r in rows) == date(2025, 1, 31)
    latest = max(r["as_of_date"] for r in rows)
    today = {(r["branch_id"], r["outstanding_minor"]) for r in rows if r["as_of_date"] == latest}
    assert today == {("b1", 450_000), ("b2", 300_000)}


def test_leakage_by_branch_and_month(scenario: Platform) -> None:
    rows = scenario.warehouse.query("rpt_leakage", {"tenant_id": TENANT})
    columns = (
        "branch_id",
        "currency",
        "month",
        "unbilled_appointments",
        "unbilled_minor",
        "underpaid_appointments",
        "underpaid_minor",
        "unpaid_invoices",
        "unpaid_invoice_minor",
        "refunds",
        "refund_minor",
        "forfeitures",
        "forfeiture_minor",
    )
    assert _pick(rows, *columns) == [
        # a2 unbilled; inv1 450_000 unpaid; a5's deposit: 150_000 refunded, 150_000 kept.
        ("b1", "INR", date(2025, 1, 1), 1, 450_000, 0, 0, 1, 450_000, 1, 150_000, 1, 150_000),
        ("b1", "INR", date(2025, 2, 1), 0, 0, 1, 350_000, 0, 0, 0, 0, 0, 0),  # a6
        ("b1", "INR", date(2025, 3, 1), 0, 0, 0, 0, 0, 0, 1, 50_000, 0, 0),  # ir1
        ("b2", "AED", date(2025, 1, 1), 0, 0, 0, 0, 1, 300_000, 0, 0, 1, 50_000),
    ]


def test_the_money_facts_are_rebuilt_identically(scenario: Platform) -> None:
    tables = ("dim_branch", "fct_invoice", "fct_payment", "fct_refund", "fct_forfeiture")
    before = {t: scenario.warehouse.query(t) for t in tables}
    assert all(before.values())
    scenario.rebuild_projections()
    assert {t: scenario.warehouse.query(t) for t in tables} == before
