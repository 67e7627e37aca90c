"""Reports 3-5 (waiting time, procedure trends, revenue breakdown) checked against
figures worked out by hand, through the HTTP command handler. One tenant, one branch in
Pune (INR, +05:30) whose clinicians work around the clock, so that a scan can start at
00:30 local time: the day, week and month before in UTC. All synthetic."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mymedic.bootstrap import Platform
from mymedic.server import create_server
from tests.conftest import bearer, booking, directory_commands

TENANT = "t1"
BRANCH = "b1"
ROOM = {"clin-1": "room-1", "clin-2": "room-2"}
MODALITY = {"MRI-BRAIN": "MRI", "MRI-KNEE": "MRI", "CT-CHEST": "CT", "XR-CHEST": "XRAY"}
REPORTS = ("rpt_waiting_time", "rpt_procedure_trends", "rpt_revenue_breakdown")


def _ist(local: str) -> str:
    return f"{local}+05:30"


class Clinic:
    def __init__(self) -> None:
        self.client = create_server().test_client()

    def send(self, name: str, **body: Any) -> None:
        body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
        if "occurred_at" in body:
            body["occurred_at"] = _ist(body["occurred_at"])
        response = self.client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))
        assert response.status_code == 201, (name, response.get_json())

    def directory(self) -> None:
        """The test directory, with clinicians on duty all day and prices since 2024."""
        all_day = [{"weekday": day, "start": "00:00", "end": "23:59"} for day in range(7)]
        for name, body in directory_commands(TENANT, BRANCH):
            if name == "register_clinician":
                body["working_hours"] = all_day
            if name == "update_price_list":
                body["effective_from"] = "2024-01-01"
            self.send(name, **body)

    def book(self, apt: str, procedure: str, clinician: str, start: str, booked: str) -> None:
        body = booking(
            apt,
            tenant_id=TENANT,
            branch_id=BRANCH,
            patient_id=f"pat-{apt}",
            clinician_id=clinician,
            room_id=ROOM[clinician],
            modality=MODALITY[procedure],
            procedure_code=procedure,
            start_at=_ist(start),
            occurred_at=booked,
        )
        del body["duration_minutes"]  # the price list's
        self.send("book_appointment", **body)

    def act(self, apt: str, command: str, at: str, **extra: Any) -> None:
        self.send(command, appointment_id=apt, occurred_at=at, **extra)

    def pay(self, apt: str, payment: str, kind: str, amount: int, at: str) -> None:
        money = {"amount_minor": amount, "currency": "INR", "mode": "cash", "provider": "cash"}
        self.act(apt, "take_payment", at, payment_id=payment, kind=kind, **money)

    def invoice(self, invoice: str, apt: str, payer: str, amount: int, at: str) -> None:
        self.send(
            "issue_invoice",
            invoice_id=invoice,
            appointment_id=apt,
            patient_id=f"pat-{apt}",
            payer_type=payer,
            amount_minor=amount,
            currency="INR",
            due_on=at[:10],
            occurred_at=at,
        )

    def capture(self, invoice: str, payment: str, amount: int, at: str) -> None:
        self.send(
            "capture_payment",
            invoice_id=invoice,
            payment_id=payment,
            amount_minor=amount,
            currency="INR",
            mode="upi",
            provider="razorpay",
            occurred_at=at,
        )


def _scenario(platform: Platform) -> None:
    """Prices: MRI-BRAIN 850_000, MRI-KNEE 700_000, CT-CHEST 450_000, XR-CHEST 60_000."""
    clinic = Clinic()
    clinic.directory()
    # September 2024, all booked Monday 2024-09-02 10:00, all paid in full at the desk
    # but y2 (500_000 of 850_000) and y3 (a self-pay invoice).
    booked = "2024-09-02T10:00:00"
    clinic.book("y1", "MRI-BRAIN", "clin-1", "2024-09-03T10:00:00", booked)  # 24 h
    clinic.book("y2", "MRI-BRAIN", "clin-1", "2024-09-04T10:00:00", booked)  # 48 h
    clinic.book("y3", "CT-CHEST", "clin-1", "2024-09-04T11:00:00", booked)  # 49 h
    clinic.book("y4", "XR-CHEST", "clin-1", "2024-10-07T10:00:00", booked)  # 840 h
    for apt, start in (("y1", "03"), ("y2", "04"), ("y3", "04")):
        clinic.act(apt, "complete_appointment", f"2024-09-{start}T12:00:00")
    clinic.act("y4", "complete_appointment", "2024-10-07T12:00:00")
    clinic.pay("y1", "py1", "payment", 850_000, "2024-09-03T12:05:00")
    clinic.pay("y2", "py2", "payment", 500_000, "2024-09-04T12:05:00")
    clinic.invoice("inv-y3", "y3", "self_pay", 450_000, "2024-09-04T12:10:00")
    clinic.capture("inv-y3", "py3", 450_000, "2024-09-04T12:15:00")
    clinic.pay("y4", "py4", "payment", 60_000, "2024-10-07T12:05:00")

    # The ISO week of Monday 2025-09-01.
    # w1 starts 00:30 IST on Monday 1 September: 19:00 UTC on Sunday 31 August. Booked
    # 2025-08-25 09:10: lead 168 h - 8 h 40 min = 159 h 20 min. Paid in full.
    clinic.book("w1", "MRI-BRAIN", "clin-1", "2025-09-01T00:30:00", "2025-08-25T09:10:00")
    clinic.act("w1", "complete_appointment", "2025-09-01T01:20:00")
    clinic.pay("w1", "pw1", "payment", 850_000, "2025-09-01T01:25:00")
    # w2: booked 3 h ahead, deposit 200_000, no-show: the deposit is kept (no refund).
    clinic.book("w2", "MRI-BRAIN", "clin-1", "2025-09-01T10:00:00", "2025-09-01T07:00:00")
    clinic.pay("w2", "dw2", "deposit", 200_000, "2025-09-01T07:05:00")
    clinic.act("w2", "mark_no_show", "2025-09-01T11:00:00")
    # w5: booked 2025-08-20 10:00 for Tuesday 12:00, moved on 08-28 to Thursday 10:00:
    # its lead runs from the first booking, 15 days = 360 h. The insurer pays the invoice
    # in September; 200_000 is refunded in October, which lowers September.
    clinic.book("w5", "MRI-BRAIN", "clin-2", "2025-09-02T12:00:00", "2025-08-20T10:00:00")
    clinic.act(
        "w5", "reschedule_appointment", "2025-08-28T10:00:00", start_at=_ist("2025-09-04T10:00:00")
    )
    clinic.act("w5", "complete_appointment", "2025-09-04T11:00:00")
    clinic.invoice("inv-w5", "w5", "insurer", 850_000, "2025-09-04T12:00:00")
    clinic.capture("inv-w5", "pw5", 850_000, "2025-09-20T10:00:00")
    clinic.send(
        "refund_payment",
        invoice_id="inv-w5",
        refund_id="rw5",
        payment_id="pw5",
        amount_minor=200_000,
        currency="INR",
        reason="billing correction",
        occurred_at="2025-10-15T10:00:00",
    )
    # x1 (booked 08-22 for Wednesday 12:00, 290 h) is cancelled and its deposit returned
    # in full; the patient rebooks as x2 on 09-01 09:00 for Wednesday 15:00: 54 h, once.
    clinic.book("x1", "MRI-BRAIN", "clin-1", "2025-09-03T12:00:00", "2025-08-22T10:00:00")
    clinic.pay("x1", "dx1", "deposit", 100_000, "2025-08-22T10:05:00")
    clinic.act("x1", "cancel_appointment", "2025-08-30T10:00:00", reason="travel")
    refund = {"refund_id": "rx1", "payment_id": "dx1", "currency": "INR", "reason": "cancelled"}
    clinic.act(
        "x1", "refund_appointment_payment", "2025-08-30T10:05:00", amount_minor=100_000, **refund
    )
    clinic.book("x2", "MRI-BRAIN", "clin-1", "2025-09-03T15:00:00", "2025-09-01T09:00:00")
    clinic.act("x2", "complete_appointment", "2025-09-03T16:00:00")  # never billed
    # c1: CT booked 5 h ahead; the employer is invoiced 450_000 and pays 300_000.
    clinic.book("c1", "CT-CHEST", "clin-1", "2025-09-02T10:00:00", "2025-09-02T05:00:00")
    clinic.act("c1", "complete_appointment", "2025-09-02T11:00:00")
    clinic.invoice("inv-c1", "c1", "corporate", 450_000, "2025-09-02T12:00:00")
    clinic.capture("inv-c1", "pc1", 300_000, "2025-09-10T10:00:00")
    # o1: October 2025, Monday 10-06, booked 10-01 (120 h), never billed. No X-ray in
    # October 2025: last year's shows as a drop.
    clinic.book("o1", "MRI-KNEE", "clin-2", "2025-10-06T10:00:00", "2025-10-01T10:00:00")
    clinic.act("o1", "complete_appointment", "2025-10-06T11:00:00")
    platform.catch_up()


@pytest.fixture
def scenario(platform: Platform) -> Platform:
    _scenario(platform)
    return platform


def _pick(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in columns) for row in rows]


def test_waiting_time_by_iso_week(scenario: Platform) -> None:
    """Over the visits that took place. The figures of the week of 2025-09-01 changed
    with that definition (issue 17): they used to count w2, a no-show, as a wait (4
    appointments, median 106.67, p90 299.8, mean 144.08, same-day share 0.25); its lead
    time is now in the no-show columns."""
    rows = scenario.warehouse.query("rpt_waiting_time", {"tenant_id": TENANT})
    columns = ("branch_id", "modality", "week", "appointments", "median_lead_hours")
    more = ("p90_lead_hours", "mean_lead_hours", "same_day_share")
    no_shows = ("no_shows", "median_no_show_lead_hours")
    assert _pick(rows, *columns, *more, *no_shows) == [
        ("b1", "CT", date(2024, 9, 2), 1, 49.0, 49.0, 49.0, 0.0, 0, None),  # y3
        ("b1", "CT", date(2025, 9, 1), 1, 5.0, 5.0, 5.0, 1.0, 0, None),  # c1
        # y1 24 h (not under 24 h: not same day), y2 48 h: p90 = 24 + 0.9 * 24.
        ("b1", "MRI", date(2024, 9, 2), 2, 36.0, 45.6, 36.0, 0.0, 0, None),
        # Visits x2 54, w1 159.33, w5 360 (x1 cancelled: out; w2 a no-show: apart, its
        # lead 3 h). p90 at rank 0.9 * 2 = 1.8: 159.33 + 0.8 * (360 - 159.33) = 319.87;
        # mean 573.33 / 3. w1 (Sunday in UTC) is in the week of Monday 1 September.
        ("b1", "MRI", date(2025, 9, 1), 3, 159.33, 319.87, 191.11, 0.0, 1, 3.0),
        ("b1", "MRI", date(2025, 10, 6), 1, 120.0, 120.0, 120.0, 0.0, 0, None),  # o1
        # y4: booked five weeks ahead.
        ("b1", "XRAY", date(2024, 10, 7), 1, 840.0, 840.0, 840.0, 0.0, 0, None),
    ]


TRENDS = (
    "modality",
    "procedure_code",
    "currency",
    "month",
    "scans",
    "revenue_minor",
    "scans_last_year",
    "revenue_last_year_minor",
    "scans_yoy_change",
    "revenue_yoy_change",
)


def test_procedure_trends_against_the_same_month_last_year(scenario: Platform) -> None:
    rows = scenario.warehouse.query("rpt_procedure_trends", {"tenant_id": TENANT})
    assert {r["branch_id"] for r in rows} == {"b1"}
    assert _pick(rows, *TRENDS) == [
        ("CT", "CT-CHEST", "INR", date(2024, 9, 1), 1, 450_000, 0, 0, None, None),
        # c1: 300_000 of 450_000 paid. -150_000 / 450_000.
        ("CT", "CT-CHEST", "INR", date(2025, 9, 1), 1, 300_000, 1, 450_000, 0.0, -0.3333),
        # y1 850_000 + y2 500_000.
        ("MRI", "MRI-BRAIN", "INR", date(2024, 9, 1), 2, 1_350_000, 0, 0, None, None),
        # w1, w5, x2 scanned; w1 850_000 + w5 650_000 (after the October refund) + w2's
        # kept deposit 200_000 + x2 nothing; x1's deposit went back. 350_000 / 1_350_000.
        ("MRI", "MRI-BRAIN", "INR", date(2025, 9, 1), 3, 1_700_000, 2, 1_350_000, 0.5, 0.2593),
        ("MRI", "MRI-KNEE", "INR", date(2025, 10, 1), 1, 0, 0, 0, None, None),
        ("XRAY", "XR-CHEST", "INR", date(2024, 10, 1), 1, 60_000, 0, 0, None, None),
        # No X-ray this October: the drop has a row. September 2025's rows are not moved
        # on to September 2026, past the tenant's latest scan (October 2025).
        ("XRAY", "XR-CHEST", "INR", date(2025, 10, 1), 0, 0, 1, 60_000, -1.0, -1.0),
    ]


BREAKDOWN = (
    "appointments",
    "billed_minor",
    "invoiced_minor",
    "prepaid_minor",
    "paid_minor",
    "outstanding_minor",
    "collection_rate",
)


def test_revenue_breakdown(scenario: Platform) -> None:
    rows = scenario.warehouse.query("rpt_revenue_breakdown", {"tenant_id": TENANT})
    assert {(r["branch_id"], r["currency"]) for r in rows} == {("b1", "INR")}
    assert {(r["clinician_id"], r["clinician_name"]) for r in rows} == {
        ("clin-1", "Radiographer 1"),
        ("clin-2", "Radiographer 2"),
    }
    grain = ("month", "modality", "clinician_id", "payer_type")
    breakdown = {tuple(r[c] for c in grain): tuple(r[c] for c in BREAKDOWN) for r in rows}
    assert len(breakdown) == len(rows)
    sep24, oct24 = date(2024, 9, 1), date(2024, 10, 1)
    sep25, oct25 = date(2025, 9, 1), date(2025, 10, 1)
    assert breakdown == {
        (sep24, "CT", "clin-1", "self_pay"): (1, 450_000, 450_000, 0, 450_000, 0, 1.0),
        # y1 and y2 paid at the desk, with no invoice: billed what was paid.
        (sep24, "MRI", "clin-1", "unbilled"): (2, 1_350_000, 0, 1_350_000, 1_350_000, 0, 1.0),
        (oct24, "XRAY", "clin-1", "unbilled"): (1, 60_000, 0, 60_000, 60_000, 0, 1.0),
        # c1: 300_000 of the 450_000 invoiced paid.
        (sep25, "CT", "clin-1", "corporate"): (1, 450_000, 450_000, 0, 300_000, 150_000, 0.6667),
        # w1 and x2 scanned (x2 with no money); w2's kept deposit adds money, not an
        # appointment; x1 (deposit refunded in full) has nothing and adds nothing.
        (sep25, "MRI", "clin-1", "unbilled"): (2, 1_050_000, 0, 1_050_000, 1_050_000, 0, 1.0),
        # w5: 850_000 paid in September less 200_000 refunded in October.
        (sep25, "MRI", "clin-2", "insurer"): (1, 850_000, 850_000, 0, 650_000, 200_000, 0.7647),
        (oct25, "MRI", "clin-2", "unbilled"): (1, 0, 0, 0, 0, 0, None),  # o1
    }


def test_the_reports_agree_on_revenue(scenario: Platform) -> None:
    """Reports 4 and 5 count the same appointments' money and the same scans."""
    warehouse = scenario.warehouse
    trends = warehouse.query("rpt_procedure_trends", {"tenant_id": TENANT})
    breakdown = warehouse.query("rpt_revenue_breakdown", {"tenant_id": TENANT})
    assert sum(r["revenue_minor"] for r in trends) == sum(r["paid_minor"] for r in breakdown)
    assert sum(r["scans"] for r in trends) == sum(r["appointments"] for r in breakdown) == 9


def test_an_unknown_tenant_has_no_rows(scenario: Platform) -> None:
    for report in REPORTS:
        assert scenario.warehouse.query(report, {"tenant_id": "t-unknown"}) == []
        assert scenario.warehouse.query(report, {"tenant_id": TENANT})
