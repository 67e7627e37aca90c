"""Zoho Books invoices and customer payments into our invoices, against the fake Zoho
serving Books v3 and a local platform (synthetic data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from mymedic import entrypoints
from mymedic.bootstrap import Platform
from mymedic.domain.commands import COMMANDS
from mymedic.domain.envelope import EventEnvelope, Metadata
from mymedic.domain.money import to_minor_units
from mymedic.integrations.zoho.client import ZohoClient, ZohoRequestError
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.service import ZohoService, ZohoTenants
from mymedic.integrations.zoho_books.client import ZohoBooksClient
from mymedic.settings import Settings
from mymedic.testing.zoho_books_fake import FakeZohoBooks, books_time
from tests.conftest import BRANCH, TENANT, booking
from tests.integrations.conftest import T0, events, of_type

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
ORGANIZATION = "60012345678"
PRICE = 850_000  # MRI-BRAIN in the test price list, INR paise
BOOKS_TABLE = f'\n[books]\norganization_id = "{ORGANIZATION}"\n'


@pytest.fixture
def fake() -> Iterator[FakeZohoBooks]:
    with FakeZohoBooks(organization_id=ORGANIZATION) as server:
        yield server


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The integration settings, the test tenant's mapping with a ``[books]`` table."""
    assert settings.zoho_mapping_dir is not None
    path = settings.zoho_mapping_dir / f"{TENANT}.toml"
    path.write_text(path.read_text(encoding="utf-8") + BOOKS_TABLE, encoding="utf-8")
    return settings


@pytest.fixture
def booked(platform: Platform) -> Platform:
    """The platform with appointment apt-1 (pat-1, MRI-BRAIN) booked in the branch."""
    metadata = Metadata(tenant_id=TENANT, actor="staff:test", source="command:book")
    platform.commands.handle(COMMANDS["book_appointment"].model_validate(booking()), metadata)
    return platform


def invoice(
    n: int, total: float = 8500.0, modified: datetime = T0, **fields: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "invoice_id": f"{90000 + n}",
        "invoice_number": f"INV-{n:05d}",
        "status": "sent",
        "date": "2026-02-02",
        "due_date": "2026-02-17",
        "customer_id": "70001",
        "customer_name": f"Synthetic Patient {n}",
        "currency_code": "INR",
        "total": total,
        "balance": total,
        "created_time": books_time(modified),
        "last_modified_time": books_time(modified),
        "reference_number": "",
        "cf_appointment_id": "apt-1",
        "cf_branch_id": BRANCH,
    }
    item.update(fields)
    return item


def payment(
    n: int, applied: list[tuple[int, float]], mode: str = "UPI", modified: datetime = T0
) -> dict[str, Any]:
    return {
        "payment_id": f"{80000 + n}",
        "payment_number": f"{n}",
        "date": "2026-02-02",
        "payment_mode": mode,
        "amount": float(sum(Decimal(str(amount)) for _, amount in applied)),
        "currency_code": "INR",
        "invoices": [
            {"invoice_id": f"{90000 + i}", "amount_applied": amount} for i, amount in applied
        ],
        "reference_number": f"upi-ref-{n}",
        "last_modified_time": books_time(modified),
    }


def credit_note(
    n: int, credited: list[tuple[int, int, float]], status: str = "open", modified: datetime = T0
) -> dict[str, Any]:
    """A Books credit note applied as (application n, invoice n, amount) in ``credited``."""
    return {
        "creditnote_id": f"{70000 + n}",
        "creditnote_number": f"CN-{n:05d}",
        "status": status,
        "date": "2026-02-03",
        "currency_code": "INR",
        "total": float(sum(Decimal(str(amount)) for _, _, amount in credited)),
        "last_modified_time": books_time(modified),
        "invoices_credited": [
            {
                "creditnote_invoice_id": f"{60000 + a}",
                "invoice_id": f"{90000 + i}",
                "credited_amount": amount,
                "date": "2026-02-03",
            }
            for a, i, amount in credited
        ],
    }


def on_stream(platform: Platform, stream: str) -> list[EventEnvelope]:
    return [event for event in events(platform) if event.stream_id == stream]


def reviews(platform: Platform) -> dict[str, str]:
    return {
        event.stream_id: event.payload["reason"]
        for event in of_type(platform, "integration.record_quarantined")
    }


# --- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("1500.5"), "INR", 150_050),
        ("8500.00", "INR", 850_000),
        (1500, "INR", 150_000),
        ("0.1", "INR", 10),
        ("1.005", "KWD", 1005),
        ("1500", "JPY", 1500),
    ],
)
def test_major_units_become_exact_minor_units(
    amount: Decimal | int | str, currency: str, minor: int
) -> None:
    assert to_minor_units(amount, currency) == minor


def test_amounts_add_up_exactly_where_floats_would_not() -> None:
    assert 0.1 + 0.2 != 0.3
    assert to_minor_units("0.1", "INR") + to_minor_units("0.2", "INR") == to_minor_units(
        "0.3", "INR"
    )


@pytest.mark.parametrize(
    ("amount", "currency"), [("1500.505", "INR"), ("10.5", "JPY"), ("1.0005", "KWD"), ("x", "INR")]
)
def test_more_decimals_than_the_currency_has_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match=r"decimal places|not a number"):
        to_minor_units(amount, currency)


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        to_minor_units(1500.5, "INR")  # type: ignore[arg-type]


# --- the sync --------------------------------------------------------------------------------


def test_an_invoice_and_two_payments_land_on_our_invoice(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    fake.add_invoices([invoice(1)])
    fake.add_payments(
        [
            payment(1, [(1, 3000.5)], mode="UPI"),
            payment(2, [(1, 5499.5)], mode="cash", modified=T0 + timedelta(minutes=1)),
        ]
    )

    result = zoho.books_sync().to_dict()

    assert result["books_invoices"]["applied"] == 1
    assert result["books_customerpayments"]["applied"] == 2
    stream = on_stream(booked, "invoice:zb-90001")
    assert [event.event_type for event in stream] == [
        "invoice.issued",
        "payment.captured",
        "payment.captured",
    ]
    assert {(event.tenant_id, event.branch_id) for event in stream} == {(TENANT, BRANCH)}
    issued = stream[0].payload
    assert (issued["appointment_id"], issued["patient_id"]) == ("apt-1", "pat-1")
    assert (issued["amount_minor"], issued["currency"], issued["due_on"]) == (
        PRICE,
        "INR",
        "2026-02-17",
    )
    assert issued["payer_type"] == "self_pay"
    captured = [(e.payload["payment_id"], e.payload["amount_minor"]) for e in stream[1:]]
    assert captured == [("zb-80001", 300_050), ("zb-80002", 549_950)]
    assert [(e.payload["mode"], e.payload["provider"]) for e in stream[1:]] == [
        ("upi", "zoho_books"),
        ("cash", "cash"),
    ]
    assert stream[1].payload["provider_reference"] == "upi-ref-1"
    assert reviews(booked) == {}


def test_a_gateway_payment_naming_only_the_visit_goes_to_its_books_invoice(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    """The Books invoice is the visit's bill: a Razorpay capture whose notes name only
    the appointment pays it once, never also as a prepayment on the visit; its second
    delivery, and Books' own record of it (with the gateway's id as reference), are the
    same payment."""
    from pydantic import SecretStr

    from mymedic.server import create_server
    from tests.integrations.test_payment_webhooks import post_razorpay, razorpay_event

    fake.add_invoices([invoice(1)])
    zoho.books_sync()
    [assigned] = on_stream(booked, "billing:apt-1")
    assert assigned.payload == {
        "appointment_id": "apt-1",
        "invoice_id": "zb-90001",
        "source": "books",
    }
    secret = "test-only-razorpay-webhook-secret"  # noqa: S105 - synthetic
    booked.settings = booked.settings.model_copy(
        update={"razorpay_webhook_secret": SecretStr(secret), "payments_tenant_id": "gateway"}
    )
    entity = {
        "id": "pay_BooksVisit0001",
        "entity": "payment",
        "amount": 300_050,
        "currency": "INR",
        "status": "captured",
        "method": "upi",
        "captured": True,
        "notes": {
            "mymedic_tenant": TENANT,
            "mymedic_branch": BRANCH,
            "mymedic_appointment": "apt-1",
        },
        "fee": 0,
        "tax": 0,
        "created_at": 1770000000,
    }
    entrypoints.use_platform(booked)
    try:
        client = create_server().test_client()
        body = razorpay_event("payment.captured", {"payment": {"entity": entity}})
        for _ in range(2):
            answer = post_razorpay(client, body, "evt-books-1", secret=secret)
            assert answer.status_code == 200, answer.get_json()
    finally:
        entrypoints.use_platform(None)
    invoice_events = [e.event_type for e in on_stream(booked, "invoice:zb-90001")]
    assert invoice_events == ["invoice.issued", "payment.captured"]
    visit = [e.event_type for e in on_stream(booked, "appointment:apt-1")]
    assert "appointment.payment_taken" not in visit
    # Books records the same money, referenced by the gateway's payment id: matched.
    fake.add_payments([{**payment(1, [(1, 3000.5)]), "reference_number": "pay_BooksVisit0001"}])
    zoho.books_sync()
    captured = [
        e for e in on_stream(booked, "invoice:zb-90001") if e.event_type == "payment.captured"
    ]
    assert len(captured) == 1, [e.payload for e in captured]


def test_a_books_credit_note_credits_our_invoice_once(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    """8,500 billed, 8,500 paid, 2,000 refunded by the clinic and credited in Books: the
    invoice owes nothing. The note read again (the overlap, a re-run) credits nothing
    more; voided afterwards, it is recorded for review."""
    fake.add_invoices([invoice(1)])
    fake.add_payments([payment(1, [(1, 8500.0)])])
    fake.add_credit_notes([credit_note(1, [(1, 1, 2000.0)])])

    result = zoho.books_sync().to_dict()

    assert result["books_creditnotes"]["applied"] == 1
    [credited] = [
        e for e in on_stream(booked, "invoice:zb-90001") if e.event_type == "invoice.credited"
    ]
    assert credited.payload == {
        "invoice_id": "zb-90001",
        "credit_note_id": "zb-70001:60001",
        "amount_minor": 200_000,
        "currency": "INR",
        "source": "zoho_books",
        "refund_id": None,
    }
    # Its reason is in the personal part only, keyed by the invoice's patient.
    assert (credited.subject_id, credited.personal) == (
        "pat-1",
        {"comment": "Zoho Books credit note"},
    )
    before = len(events(booked))
    assert zoho.books_sync().to_dict()["books_creditnotes"]["unchanged"] == 1
    assert len(events(booked)) == before

    fake.add_credit_notes(
        [credit_note(1, [(1, 1, 2000.0)], status="void", modified=T0 + timedelta(hours=1))]
    )
    zoho.books_sync()
    assert reviews(booked) == {
        "zoho:books_creditnotes:70001": "voided in Books after it was credited here"
    }


def test_a_credit_note_above_what_is_left_to_credit_is_recorded_for_review(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    fake.add_invoices([invoice(1, total=1000.0)])
    fake.add_credit_notes([credit_note(1, [(1, 1, 600.0), (2, 1, 600.0), (3, 7, 10.0)])])

    result = zoho.books_sync().to_dict()

    assert result["books_creditnotes"]["applied"] == 1  # the first 600
    quarantined = of_type(booked, "integration.record_quarantined")
    assert sorted(event.payload["reason"] for event in quarantined) == [
        "invoice zb-90007 was not issued here",
        "issue_credit_note refused: credit of 60000 exceeds what the invoice billed less its "
        "earlier credits: 40000 INR",
    ]


def test_a_rerun_appends_nothing(booked: Platform, fake: FakeZohoBooks, zoho: ZohoService) -> None:
    fake.add_invoices([invoice(1), invoice(2, cf_appointment_id=None)])
    fake.add_payments([payment(1, [(1, 3000.5)])])
    zoho.books_sync()
    before = len(events(booked))

    again = zoho.books_sync().to_dict()

    assert len(events(booked)) == before
    assert again["books_invoices"]["seen"] == 2  # read again: the watermark's overlap
    assert again["books_invoices"]["unchanged"] == 2
    assert again["books_customerpayments"]["unchanged"] == 1
    assert again["books_invoices"]["advanced"] is False


def test_void_and_unlinked_invoices_are_recorded_for_review(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    fake.add_invoices(
        [
            invoice(1, status="void"),
            invoice(2, cf_appointment_id=None),
            invoice(3, cf_appointment_id="apt-unknown"),
            invoice(4, status="draft"),
        ]
    )

    result = zoho.books_sync().to_dict()

    assert of_type(booked, "invoice.issued") == []
    assert reviews(booked) == {
        "zoho:books_invoices:90001": "void in Books: not issued",
        "zoho:books_invoices:90002": "no appointment link in cf_appointment_id",
        "zoho:books_invoices:90003": "cf_appointment_id names no appointment of this tenant",
    }
    assert result["books_invoices"]["review"] == 3
    [flag] = on_stream(booked, "zoho:books_invoices:90002")
    assert flag.personal is not None and flag.personal["fields"]["customer_name"]
    assert "customer_name" not in str(flag.payload)


def test_an_invoice_voided_after_it_was_issued_is_recorded_for_review(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    fake.add_invoices([invoice(1)])
    zoho.books_sync()
    fake.advance(600)
    fake.update_invoice("90001", status="void")

    zoho.books_sync()
    zoho.books_sync()

    assert len(of_type(booked, "invoice.issued")) == 1
    assert reviews(booked) == {
        "zoho:books_invoices:90001": "voided in Books after it was issued here"
    }
    assert len(of_type(booked, "integration.record_quarantined")) == 1


def test_payments_that_cannot_be_captured_are_recorded_for_review(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    fake.add_invoices([invoice(1, total=1000.0), invoice(2, cf_appointment_id=None)])
    fake.add_payments([payment(1, [(1, 1000.5)]), payment(2, [(2, 10.0)])])

    zoho.books_sync()

    assert of_type(booked, "payment.captured") == []
    found = reviews(booked)
    assert "exceeds the outstanding" in found["zoho:books_customerpayments:80001"]
    assert found["zoho:books_customerpayments:80002"] == "invoice zb-90002 was not issued here"


def test_the_watermark_moves_to_the_newest_modification(
    booked: Platform, fake: FakeZohoBooks, zoho: ZohoService
) -> None:
    newest = T0 + timedelta(hours=2)
    fake.add_invoices([invoice(1), invoice(2, modified=newest, cf_appointment_id=None)])
    first = zoho.books_sync().to_dict()["books_invoices"]
    fake.add_invoices([invoice(3, modified=T0 - timedelta(days=1))])  # older: not asked for

    second = zoho.books_sync().to_dict()["books_invoices"]

    assert first["since"] is None
    assert datetime.fromisoformat(first["watermark"]) == newest
    assert datetime.fromisoformat(second["since"]) == newest - timedelta(minutes=5)
    assert second["seen"] == 1  # invoice 2 again (the overlap), not the older invoice 3


# --- the client against the fake --------------------------------------------------------------


class Sleeps(list[float]):
    def __init__(self, fake: FakeZohoBooks) -> None:
        super().__init__()
        self._fake = fake

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self._fake.advance(seconds)


def books_client(fake: FakeZohoBooks, sleep: Callable[[float], None], **options: Any) -> Any:
    zoho = ZohoClient(fake.config(), sleep=sleep, clock=fake.clock)
    return ZohoBooksClient(zoho, fake.organization_id, **options)


def test_listings_are_read_across_pages(fake: FakeZohoBooks) -> None:
    fake.add_invoices([invoice(n) for n in range(1, 4)])
    client = books_client(fake, Sleeps(fake), per_page=2)

    ids = [record.record_id for record in client.invoices()]

    assert ids == ["90001", "90002", "90003"]
    assert fake.requests.count(("GET", "/books/v3/invoices")) == 2


def test_amounts_arrive_as_exact_decimals(fake: FakeZohoBooks) -> None:
    fake.add_payments([payment(1, [(1, 0.1), (2, 0.2)])])

    [record] = books_client(fake, Sleeps(fake)).customer_payments()

    applied = [item["amount_applied"] for item in record.fields["invoices"]]
    assert applied == [Decimal("0.1"), Decimal("0.2")]
    assert sum(applied) == record.fields["amount"] == Decimal("0.3")


def test_a_429_is_retried_after_the_wait_asked_for(fake: FakeZohoBooks) -> None:
    fake.add_invoices([invoice(1)])
    sleeps = Sleeps(fake)
    client = books_client(fake, sleeps)
    list(client.invoices())  # the token is fetched; now Books throttles
    fake.fail_next(429, retry_after=7)

    assert [record.record_id for record in client.invoices()] == ["90001"]
    assert sleeps == [7]
    assert fake.requests.count(("GET", "/books/v3/invoices")) == 3


def test_organization_id_is_required(fake: FakeZohoBooks) -> None:
    zoho = ZohoClient(fake.config(), sleep=Sleeps(fake), clock=fake.clock)

    with pytest.raises(ZohoRequestError) as refused:
        zoho.get("/books/v3/invoices")

    assert (refused.value.status, refused.value.code) == (400, "2")


# --- the job ---------------------------------------------------------------------------------


@pytest.fixture
def jobs(
    platform: Platform, fake: FakeZohoBooks, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FlaskClient]:
    """The jobs Cloud Function, its Zoho service on the fake's clock."""

    def client(config: ZohoConfig) -> ZohoClient:
        return ZohoClient(config, sleep=fake.advance, clock=fake.clock)

    tenants = ZohoTenants(
        platform.settings, platform.store, clock=platform.clock, client_factory=client
    )
    monkeypatch.setattr(entrypoints, "_zoho", (platform, tenants))
    yield create_app("jobs", MAIN).test_client()
    tenants.close()


def test_the_job_syncs_and_answers_with_counts(
    booked: Platform, fake: FakeZohoBooks, jobs: FlaskClient
) -> None:
    fake.add_invoices([invoice(1)])
    fake.add_payments([payment(1, [(1, 100.0)])])

    answer = jobs.post("/jobs/zoho-books-sync")

    body = answer.get_json()
    assert answer.status_code == 200, body
    assert (body["job"], body["tenant_id"]) == ("zoho-books-sync", TENANT)
    assert body["books_invoices"]["applied"] == 1
    assert body["books_customerpayments"]["applied"] == 1
    assert len(of_type(booked, "payment.captured")) == 1


def test_the_job_without_a_books_table_is_not_configured(
    platform: Platform, fake: FakeZohoBooks, jobs: FlaskClient
) -> None:
    assert platform.settings.zoho_mapping_dir is not None
    path = platform.settings.zoho_mapping_dir / f"{TENANT}.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(BOOKS_TABLE, ""), encoding="utf-8")

    answer = jobs.post("/jobs/zoho-books-sync")

    assert (answer.status_code, answer.get_json()["error"]) == (503, "not_configured")
