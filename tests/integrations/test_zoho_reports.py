"""A small clinic that lives in Zoho CRM, its reports computed by hand.

The clinic (London: GMT, then BST from 29 March 2026) bills in the CRM: each visit's
amount is its bill, and a formula field, Amount_Paid (a roll-up of its receipts), says
what was paid. It keeps no directory in Zoho (codes as text) and registers no branch
through MyMedic: its one branch comes from the mapping's [branches] table. Everything
arrives through the fake Zoho over HTTP (Bulk Read backfill, delta sync, formula
refresh) and one Razorpay webhook. All data is synthetic.

  A1  P1  booked 5 Jan 09:30Z for 12 Jan 10:00Z (MRI)      completed, 200.00 paid by card
  A2  P1  booked 27 Mar 10:00Z (GMT) for 30 Mar 10:00 BST   completed, 150.00, unpaid
  A3  P2  booked 27 Mar 12:00Z for 31 Mar 09:00 BST (CT), moved to 1 Apr 09:00 BST (a
          record edited twice), completed, 300.00, 100.00 paid in cash
  A4  P2  booked 28 Mar for 2 Apr 11:00 BST (CT), cancelled
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from mymedic import entrypoints
from mymedic.bootstrap import Platform, bootstrap
from mymedic.integrations.zoho.client import ZohoClient
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.connection import (
    CLIENT_SECRET,
    REFRESH_TOKEN,
    ZohoConnection,
    save_connection,
)
from mymedic.integrations.zoho.service import ZohoService
from mymedic.reports import catalog
from mymedic.server import create_server
from mymedic.settings import Settings
from mymedic.testing.zoho_fake import FakeZoho
from tests.conftest import TEST_JWT_SECRET
from tests.integrations.test_payment_webhooks import post_razorpay, razorpay_event

TENANT = "zoho-clinic"
BRANCH = "london-bridge"
RAZORPAY_SECRET = "test-only-razorpay-webhook-secret"  # noqa: S105 - synthetic
NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
MAPPING = """
tenant_id = "zoho-clinic"
version = 1
timezone = "Europe/London"
billing = "crm_amount"
payment_terms_days = 14

[branches."London Bridge"]
branch_id = "london-bridge"
city = "London"
timezone = "Europe/London"
currency = "GBP"

[modules.Contacts]
entity = "patient"

[modules.Contacts.fields]
id = "patient_id"
Branch = "branch_id"
Full_Name = "full_name"

[modules.Appointments]
entity = "appointment"
formula_fields = ["Amount_Paid"]

[modules.Appointments.fields]
Branch = "branch_id"
Patient = "patient_id"
Clinician = "clinician_id"
Room = "room_id"
Modality = "modality"
Procedure_Code = "procedure_code"
Start = "start_at"
Duration = "duration_minutes"
Status = "status"
Amount = "price_minor"
Currency = "currency"
Payer = "payer_type"
Amount_Paid = "paid_minor"
Payment_Mode = "payment_mode"
Gateway_Payment_Id = "payment_reference"

[modules.Appointments.value_maps.status]
Scheduled = "booked"
Completed = "completed"
Cancelled = "cancelled"

[modules.Appointments.value_maps.payer_type]
"Self Pay" = "self_pay"
Insurance = "insurer"

[modules.Appointments.value_maps.payment_mode]
Card = "card"
Cash = "cash"
"""


def contact(zoho_id: str, created: str) -> dict[str, Any]:
    return {
        "id": zoho_id,
        "Created_Time": created,
        "Modified_Time": created,
        "Branch": "London Bridge",
        "Full_Name": f"Synthetic Patient {zoho_id}",
    }


def appointment(
    zoho_id: str, patient: str, created: str, modified: str, start: str, **fields: Any
) -> dict[str, Any]:
    return {
        "id": zoho_id,
        "Created_Time": created,
        "Modified_Time": modified,
        "Branch": "London Bridge",
        "Patient": {"id": patient, "name": f"Synthetic Patient {patient}"},
        "Clinician": "lb-mri-1",
        "Room": "lb-room-1",
        "Modality": "MRI",
        "Procedure_Code": "MRI-KNEE",
        "Start": start,
        "Duration": 30,
        "Status": "Scheduled",
        "Amount": 200.0,
        "Currency": "GBP",
        "Payer": "Self Pay",
        "Amount_Paid": 0.0,
        "Payment_Mode": None,
        "Gateway_Payment_Id": None,
        **fields,
    }


A1 = appointment(
    "8001",
    "9001",
    "2026-01-05T09:30:00+00:00",
    "2026-01-12T10:40:00+00:00",
    "2026-01-12T10:00:00+00:00",
    Status="Completed",
    Amount_Paid=200.0,
    Payment_Mode="Card",
    Gateway_Payment_Id="pay_ZohoClinic001",
)
A2 = appointment(
    "8002",
    "9001",
    "2026-03-27T10:00:00+00:00",
    "2026-03-30T10:40:00+01:00",
    "2026-03-30T10:00:00+01:00",
    Status="Completed",
    Amount=150.0,
    Payer="Insurance",
    Payment_Mode="Card",
)
A3_FIRST = appointment(
    "8003",
    "9002",
    "2026-03-27T12:00:00+00:00",
    "2026-03-27T12:00:00+00:00",
    "2026-03-31T09:00:00+01:00",
    Modality="CT",
    Procedure_Code="CT-CHEST",
    Amount=300.0,
)
A3_MOVED = {**A3_FIRST, "Modified_Time": "2026-03-28T08:00:00+00:00"}
A3_MOVED["Start"] = "2026-04-01T09:00:00+01:00"
A3_DONE = {
    **A3_MOVED,
    "Modified_Time": "2026-04-01T09:45:00+01:00",
    "Status": "Completed",
    "Amount_Paid": 100.0,
    "Payment_Mode": "Cash",
}
A4 = appointment(
    "8004",
    "9002",
    "2026-03-28T09:00:00+00:00",
    "2026-03-29T09:00:00+00:00",
    "2026-04-02T11:00:00+01:00",
    Status="Cancelled",
    Modality="CT",
    Procedure_Code="CT-CHEST",
    Amount=300.0,
)


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[tuple[Platform, FakeZoho, ZohoService]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        jwt_secret=TEST_JWT_SECRET,
        razorpay_webhook_secret=SecretStr(RAZORPAY_SECRET),
        payments_tenant_id="gateway-account",
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = bootstrap(settings, clock=lambda: NOW)
    folder = settings.zoho_dir
    folder.mkdir(parents=True)
    (folder / f"{TENANT}.toml").write_text(MAPPING, encoding="utf-8")
    with FakeZoho(polls_until_complete=1) as fake:
        save_connection(
            folder,
            ZohoConnection(
                tenant_id=TENANT,
                data_centre="eu",
                client_id=fake.client_id,
                accounts_url=fake.base_url,
                api_domain=fake.base_url,
            ),
        )
        platform.secrets.put(TENANT, CLIENT_SECRET, fake.client_secret)
        platform.secrets.put(TENANT, REFRESH_TOKEN, fake.refresh_token)

        def client(config: ZohoConfig) -> ZohoClient:
            return ZohoClient(config, sleep=fake.advance, clock=fake.clock)

        service = ZohoService(
            settings,
            platform.store,
            tenant_id=TENANT,
            secrets=platform.secrets,
            clock=lambda: NOW,
            client_factory=client,
        )
        yield platform, fake, service
        service.close()
    platform.close()


def backfill(service: ZohoService) -> None:
    for module in service.sync_order():
        assert service.backfill(module, poll_seconds=0).finished


def report(platform: Platform, name: str, **where: Any) -> list[dict[str, Any]]:
    platform.catch_up()
    _, rows = catalog.run(platform.warehouse, catalog.report(name), TENANT, now=NOW)
    return [row for row in rows if all(row[key] == value for key, value in where.items())]


def test_the_clinic_s_reports_from_its_crm_alone(
    clinic: tuple[Platform, FakeZoho, ZohoService],
) -> None:
    platform, fake, service = clinic
    fake.add_records(
        "Contacts",
        [
            contact("9001", "2026-01-05T09:00:00+00:00"),
            contact("9002", "2026-03-20T09:00:00+00:00"),
        ],
    )
    # A3 as it stood before it was moved and completed: edited twice after the backfill.
    fake.add_records("Appointments", [A1, A2, A3_FIRST, A4])
    backfill(service)
    fake.add_records("Appointments", [A3_MOVED])
    service.delta_sync("Appointments")
    fake.add_records("Appointments", [A3_DONE])
    service.delta_sync("Appointments")

    # Report 1: new in the month of the first scan, returning after.
    volume = {
        (row["month"], row["modality"]): (
            row["scans"],
            row["patients"],
            row["new_patients"],
            row["returning_patients"],
            row["cancelled"],
        )
        for row in report(platform, "patient-volume")
    }
    assert volume == {
        (date(2026, 1, 1), "MRI"): (1, 1, 1, 0, 0),
        (date(2026, 3, 1), "MRI"): (1, 1, 0, 1, 0),  # P1 again
        (date(2026, 4, 1), "CT"): (1, 1, 1, 0, 1),  # P2's first scan; A4 cancelled
    }

    # Report 3: lead times from the CRM's Created_Time, positive, across the change to
    # summer time (A2: 27 Mar 10:00 GMT to 30 Mar 10:00 BST is 71 h, not 72).
    waiting = {
        (row["week"], row["modality"]): (
            row["appointments"],
            row["median_lead_hours"],
            row["mean_lead_hours"],
        )
        for row in report(platform, "waiting-time")
    }
    assert waiting == {
        (date(2026, 1, 12), "MRI"): (1, 168.5, 168.5),
        (date(2026, 3, 30), "MRI"): (1, 71.0, 71.0),
        # A3 keeps its first booking's moment: 27 Mar 12:00Z to 1 Apr 08:00Z.
        (date(2026, 3, 30), "CT"): (1, 116.0, 116.0),
    }

    # Report 5: the CRM amount is the bill; Amount_Paid what was paid.
    revenue = {
        (row["month"], row["modality"]): (
            row["payer_type"],
            row["billed_minor"],
            row["paid_minor"],
            row["outstanding_minor"],
        )
        for row in report(platform, "revenue-breakdown")
    }
    assert revenue == {
        (date(2026, 1, 1), "MRI"): ("self_pay", 20_000, 20_000, 0),
        (date(2026, 3, 1), "MRI"): ("insurer", 15_000, 0, 15_000),
        (date(2026, 4, 1), "CT"): ("self_pay", 30_000, 10_000, 20_000),
    }
    # Bills are due 14 days after the visit: as of 31 March nothing is overdue yet (A2's
    # is due 13 April); as of 30 April, A2's and what A3 still owes are 17 and 15 days
    # past due.
    [march_end] = report(platform, "receivables-aging", as_of_date=date(2026, 3, 31))
    assert (march_end["outstanding_minor"], march_end["not_due_minor"]) == (15_000, 15_000)
    [april_end] = report(platform, "receivables-aging", as_of_date=date(2026, 4, 30))
    assert (april_end["invoices"], april_end["days_0_30_minor"]) == (2, 35_000)

    # A formula field changes without Modified_Time: the delta sync cannot see it...
    fake.set_raw_field("Appointments", "8002", "Amount_Paid", 150.0)
    assert service.delta_sync("Appointments").stats.applied == 0
    assert report(platform, "revenue-breakdown", month=date(2026, 3, 1))[0]["paid_minor"] == 0
    # ...the formula refresh does, once.
    assert service.formula_modules() == ["Appointments"]
    refreshed = service.formula_refresh("Appointments", poll_seconds=0)
    assert (refreshed.stats.applied, refreshed.stats.duplicates) == (1, 3)
    [march] = report(platform, "revenue-breakdown", month=date(2026, 3, 1))
    assert (march["paid_minor"], march["outstanding_minor"]) == (15_000, 0)
    again = service.formula_refresh("Appointments", poll_seconds=0)
    assert (again.stats.applied, again.stats.duplicates) == (0, 4)


def test_a_visit_paid_through_the_gateway_and_in_the_crm_counts_once(
    clinic: tuple[Platform, FakeZoho, ZohoService],
) -> None:
    """The CRM says A1 was paid (with the gateway's payment id); Razorpay says the same
    money was captured: one payment, whichever arrives first."""
    platform, fake, service = clinic
    fake.add_records("Contacts", [contact("9001", "2026-01-05T09:00:00+00:00")])
    fake.add_records("Appointments", [A1])
    backfill(service)
    entrypoints.use_platform(platform)
    try:
        client: FlaskClient = create_server().test_client()
        capture = {
            "payment": {
                "entity": {
                    "id": "pay_ZohoClinic001",
                    "entity": "payment",
                    "amount": 20_000,
                    "currency": "GBP",
                    "status": "captured",
                    "method": "card",
                    "captured": True,
                    "notes": {
                        "mymedic_tenant": TENANT,
                        "mymedic_branch": BRANCH,
                        "mymedic_appointment": "zoho-8001",
                    },
                    "fee": 400,
                    "tax": 60,
                    "created_at": int(datetime(2026, 1, 12, 10, 35, tzinfo=UTC).timestamp()),
                }
            }
        }
        answer = post_razorpay(client, razorpay_event("payment.captured", capture), "e-1")
    finally:
        entrypoints.use_platform(None)
    assert answer.status_code == 200, answer.get_json()
    [january] = report(platform, "revenue-breakdown")
    assert (january["billed_minor"], january["paid_minor"]) == (20_000, 20_000)
    [by_mode] = report(platform, "payments-by-mode")
    assert (by_mode["payments"], by_mode["amount_minor"]) == (1, 20_000)
    facts = [
        stored.envelope
        for stored in platform.store.read_all(limit=10_000)
        if stored.envelope.event_type == "gateway.payment_captured"
    ]
    [fact] = facts
    assert fact.payload["applied_to"] == []  # matched: the CRM recorded it first
    assert not [
        stored
        for stored in platform.store.read_all(limit=10_000)
        if stored.envelope.event_type == "payment.unmatched"
    ]


def test_a_zoho_only_tenant_s_reports_are_refreshed(
    clinic: tuple[Platform, FakeZoho, ZohoService],
) -> None:
    """No branch registered by hand, no admin command: the refresh job finds the tenant
    by its facts."""
    platform, fake, service = clinic
    fake.add_records("Contacts", [contact("9001", "2026-01-05T09:00:00+00:00")])
    fake.add_records("Appointments", [A1])
    backfill(service)
    entrypoints.use_platform(platform)
    try:
        response = entrypoints.run_job("refresh-reports", {"tenant": TENANT}.get)
    finally:
        entrypoints.use_platform(None)
    assert response.status == 200, response.body
    assert response.body["refreshed"] > 0
    rows = platform.warehouse.query("mat_rpt_patient_volume", {"tenant_id": TENANT})
    assert [(row["branch_id"], row["scans"]) for row in rows] == [(BRANCH, 1)]
