"""Property tests of the money ledger: random sequences of invoices, credit notes,
payments, refunds, disputes, redeliveries and settlements arriving through our commands,
Stripe and Razorpay webhooks (signed as they sign them, with every combination of our
metadata) and the Zoho Books sync, for two clinics sharing one gateway account.

A small model of the ledger (the oracle below) follows the rules the README states:
a payment or refund is applied once, to the invoice when it names one, else to the
visit's bill when an integration billed it, else to the appointment; what is owed is
billed - credited - paid net of refunds; a gateway refund credits the invoice too when
the tenant's billing policy says so. Every operation is drawn valid against the model
(amounts within what is owed or refundable), so each must be applied exactly once.

Then, for every tenant, branch and day: paid = captured - refunded - reversed;
receivable = billed - credited - paid; and the warehouse (facts, marts, reports), the
read models and the reconciliation agree with the model and with each other. One
platform serves every example; each example has tenants of its own (tenancy is in every
key). Deterministic (``derandomize``), so CI never flakes. All data synthetic."""

from __future__ import annotations

import itertools
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from mymedic.app.read_models.payments import payments_summary
from mymedic.app.reconcile import run_day
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.commands import COMMANDS
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.integrations.payments.settlement_detail import split_pending
from mymedic.integrations.zoho.mapping import EXAMPLE_MAPPING, parse_mapping
from mymedic.integrations.zoho.records import ZohoRecord
from mymedic.integrations.zoho_books.source import CREDIT_NOTES, INVOICES, PAYMENTS
from mymedic.integrations.zoho_books.sync import ZohoBooksSync
from mymedic.server import create_server
from tests.conftest import bearer, directory_commands
from tests.webhooks import razorpay_body, send_razorpay, send_stripe, stripe_body

STRIPE_SECRET = "whsec_test_only_properties_0123456789"  # noqa: S105 - synthetic
RAZORPAY_SECRET = "test-only-razorpay-properties-secret"  # noqa: S105 - synthetic
IST = ZoneInfo("Asia/Kolkata")
START = datetime(2026, 3, 9, 9, 0, tzinfo=IST)
PRICE = 850_000  # MRI-BRAIN in the test price list
ORGANIZATION = "60012345678"
EXAMPLES = itertools.count(1)


# --- the oracle ------------------------------------------------------------------------------


@dataclass
class Payment:
    payment_id: str
    tenant: str
    branch: str
    target: tuple[str, str]  # ("invoice" | "appointment", id)
    amount: int
    day: date
    channel: str  # command | stripe | razorpay | books
    provider_ref: str | None = None  # the gateway's payment id
    refunds: list[tuple[int, date, bool]] = field(default_factory=list)  # amount, day, reversal

    @property
    def refundable(self) -> int:
        return self.amount - sum(amount for amount, _, _ in self.refunds)


@dataclass
class Invoice:
    invoice_id: str
    tenant: str
    branch: str
    appointment: str
    amount: int
    day: date
    books: bool
    credits: list[int] = field(default_factory=list)

    def paid(self, payments: list[Payment]) -> int:
        return sum(
            p.amount - sum(amount for amount, _, _ in p.refunds)
            for p in payments
            if p.target == ("invoice", self.invoice_id) and p.tenant == self.tenant
        )

    def balance(self, payments: list[Payment]) -> int:
        """Billed - credited - paid: below 0 when credited after it was paid."""
        return self.amount - sum(self.credits) - self.paid(payments)

    def owed(self, payments: list[Payment]) -> int:
        return max(self.balance(payments), 0)

    @property
    def creditable(self) -> int:
        return self.amount - sum(self.credits)


@dataclass
class Appointment:
    appointment_id: str
    tenant: str
    branch: str
    price: int = PRICE
    bill: str | None = None  # the first Books invoice (an integration's) of the visit


@dataclass
class Ledger:
    account: str  # the tenant of the gateway account
    credits_on_refund: dict[str, bool]
    appointments: list[Appointment]
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    sent: list[tuple[str, bytes, str | None]] = field(default_factory=list)  # webhooks
    settled: list[tuple[str, list[tuple[str, str, int, int]]]] = field(default_factory=list)

    def prepaid(self, appointment: Appointment) -> int:
        return sum(
            p.amount - sum(amount for amount, _, _ in p.refunds)
            for p in self.payments
            if p.target == ("appointment", appointment.appointment_id)
            and p.tenant == appointment.tenant
        )


# --- the drivers: commands, webhooks, the Books sync ----------------------------------------


class BooksSource:
    """The Books sync's port over records the test writes (Books' own HTTP listing is
    tested against the fake Zoho Books in test_zoho_books)."""

    def __init__(self) -> None:
        self.records: dict[str, list[ZohoRecord]] = {INVOICES: [], PAYMENTS: [], CREDIT_NOTES: []}

    def _since(self, module: str, since: datetime | None) -> Iterator[ZohoRecord]:
        return iter([r for r in self.records[module] if since is None or r.modified_time >= since])

    def invoices(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]:
        return self._since(INVOICES, modified_since)

    def customer_payments(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]:
        return self._since(PAYMENTS, modified_since)

    def credit_notes(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]:
        return self._since(CREDIT_NOTES, modified_since)


class World:
    """One example: its tenants, the platform's HTTP handler, and the clock of events."""

    def __init__(self, platform: Platform, client: FlaskClient, ledger: Ledger, n: int) -> None:
        self.platform = platform
        self.client = client
        self.ledger = ledger
        self.n = n
        self.step = 0
        self.books: dict[str, BooksSource] = defaultdict(BooksSource)
        self.ids = itertools.count(1)

    def at(self) -> datetime:
        """Each operation an hour and a bit after the last: several days in all."""
        self.step += 1
        return START + timedelta(hours=3 * self.step, minutes=7 * self.step % 60)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{self.n}x{next(self.ids)}"

    def command(self, tenant: str, name: str, body: dict[str, Any]) -> None:
        response = self.client.post(f"/commands/{name}", json=body, headers=bearer(tenant))
        assert response.status_code == 201, (name, response.get_json())

    def stripe(self, kind: str, obj: dict[str, Any], at: datetime) -> None:
        body = stripe_body(self.new_id("evt_"), kind, obj, int(at.timestamp()))
        self.ledger.sent.append(("stripe", body, None))
        send_stripe(self.client, STRIPE_SECRET, body)

    def razorpay(self, kind: str, payload: dict[str, Any], at: datetime) -> None:
        body = razorpay_body(kind, payload, int(at.timestamp()))
        event_id = self.new_id("rzpe")
        self.ledger.sent.append(("razorpay", body, event_id))
        send_razorpay(self.client, RAZORPAY_SECRET, body, event_id)

    def redeliver(self, index: int) -> None:
        provider, body, event_id = self.ledger.sent[index]
        if provider == "stripe":
            send_stripe(self.client, STRIPE_SECRET, body)
        else:
            send_razorpay(self.client, RAZORPAY_SECRET, body, event_id)

    def books_sync(self, tenant: str, record: ZohoRecord) -> None:
        source = self.books[tenant]
        source.records[record.module].append(record)
        text = EXAMPLE_MAPPING.read_text(encoding="utf-8")
        data = tomllib.loads(text)
        data |= {"tenant_id": tenant, "books": {"organization_id": ORGANIZATION}}
        data["billing"] = "books"
        mapping = parse_mapping(data)
        result = ZohoBooksSync(source, self.platform.store, mapping, clock=self.platform.clock)
        outcome = result.run().to_dict()
        assert all(listing["review"] == 0 for listing in outcome.values()), outcome
        self.platform.relay.drain()


def local(at: datetime) -> date:
    return at.astimezone(IST).date()


def books_time(at: datetime) -> str:
    return at.astimezone(IST).strftime("%Y-%m-%dT%H:%M:%S%z")


# --- the operations ---------------------------------------------------------------------------


def issue_invoice(world: World, data: st.DataObject) -> None:
    ledger = world.ledger
    apt = data.draw(st.sampled_from(ledger.appointments), "appointment")
    already = sum(i.amount for i in ledger.invoices if i.appointment == apt.appointment_id)
    left = apt.price - already - ledger.prepaid(apt)
    if left < 10_000:
        return
    amount = data.draw(st.integers(1, left // 10_000), "invoice amount") * 10_000
    books = data.draw(st.booleans(), "in Zoho Books")
    at = world.at()
    if books:
        books_id = str(90_000 + next(world.ids))
        invoice_id = f"zb-{books_id}"
        fields = {
            "invoice_id": books_id,
            "status": "sent",
            "date": local(at).isoformat(),
            "due_date": local(at).isoformat(),
            "currency_code": "INR",
            "total": str(Decimal(amount) / 100),
            "created_time": books_time(at),
            "last_modified_time": books_time(at),
            "cf_appointment_id": apt.appointment_id,
            "cf_branch_id": apt.branch,
        }
        world.books_sync(apt.tenant, ZohoRecord(INVOICES, books_id, at, fields))
        if apt.bill is None:
            apt.bill = invoice_id
    else:
        invoice_id = world.new_id("inv-")
        body = {
            "tenant_id": apt.tenant,
            "branch_id": apt.branch,
            "invoice_id": invoice_id,
            "appointment_id": apt.appointment_id,
            "patient_id": f"pat-{apt.appointment_id}",
            "payer_type": "self_pay",
            "amount_minor": amount,
            "currency": "INR",
            "due_on": local(at).isoformat(),
            "occurred_at": at.isoformat(),
        }
        world.command(apt.tenant, "issue_invoice", body)
    ledger.invoices.append(
        Invoice(invoice_id, apt.tenant, apt.branch, apt.appointment_id, amount, local(at), books)
    )


def pay(world: World, data: st.DataObject) -> None:
    """A payment by any channel, naming its target in any way our rule allows."""
    ledger = world.ledger
    channel = data.draw(st.sampled_from(["command", "stripe", "razorpay", "books"]), "channel")
    open_invoices = [
        i
        for i in ledger.invoices
        if i.owed(ledger.payments) >= 10_000 and (i.books or channel != "books")
    ]
    targets: list[tuple[str, Any]] = [("invoice", i) for i in open_invoices]
    if channel != "books":
        targets += [
            ("appointment", a)
            for a in ledger.appointments
            if a.bill is None or channel != "command"
        ]
    if not targets:
        return
    kind, target = data.draw(st.sampled_from(targets), "target")
    if kind == "appointment" and target.bill is not None:
        bill = next(i for i in ledger.invoices if i.invoice_id == target.bill)
        applied: tuple[str, str] = ("invoice", bill.invoice_id)
        room = bill.owed(ledger.payments)
        apt = target
    elif kind == "appointment":
        applied = ("appointment", target.appointment_id)
        invoiced = sum(i.amount for i in ledger.invoices if i.appointment == target.appointment_id)
        room = target.price - ledger.prepaid(target) - invoiced
        apt = target
    else:
        applied = ("invoice", target.invoice_id)
        room = target.owed(ledger.payments)
        apt = next(a for a in ledger.appointments if a.appointment_id == target.appointment)
    if room < 10_000:
        return
    amount = data.draw(st.integers(1, room // 10_000), "amount") * 10_000
    at = world.at()
    naming = "invoice"
    if kind == "appointment":
        naming = "appointment"
    elif channel in ("stripe", "razorpay"):
        naming = data.draw(st.sampled_from(["invoice", "both"]), "metadata names")
    payment_id = world.new_id("p")
    ref = None
    if channel == "command":
        _pay_by_command(world, apt, applied, payment_id, amount, at)
    elif channel == "books":
        books_id = str(80_000 + next(world.ids))
        _pay_in_books(world, apt, applied[1], books_id, amount, at)
        payment_id = f"zb-{books_id}"
    else:
        link = {
            "mymedic_tenant": apt.tenant,
            "mymedic_branch": apt.branch,
            "mymedic_payment_id": payment_id,
        }
        if naming in ("appointment", "both"):
            link["mymedic_appointment"] = apt.appointment_id
        if naming in ("invoice", "both"):
            link["mymedic_invoice"] = applied[1]
        ref = _capture(world, channel, link, amount, at)
    ledger.payments.append(
        Payment(payment_id, apt.tenant, apt.branch, applied, amount, local(at), channel, ref)
    )


def _pay_by_command(
    world: World,
    apt: Appointment,
    applied: tuple[str, str],
    payment_id: str,
    amount: int,
    at: datetime,
) -> None:
    money = {"amount_minor": amount, "currency": "INR", "occurred_at": at.isoformat()}
    base = {"tenant_id": apt.tenant, "branch_id": apt.branch, "payment_id": payment_id, **money}
    if applied[0] == "invoice":
        body = {**base, "invoice_id": applied[1], "mode": "cash", "provider": "cash"}
        world.command(apt.tenant, "capture_payment", body)
    else:
        body = {**base, "appointment_id": apt.appointment_id, "kind": "payment"}
        body |= {"mode": "cash", "provider": "cash"}
        world.command(apt.tenant, "take_payment", body)


def _pay_in_books(
    world: World, apt: Appointment, invoice_id: str, books_id: str, amount: int, at: datetime
) -> None:
    fields = {
        "payment_id": books_id,
        "date": local(at).isoformat(),
        "payment_mode": "cash",
        "currency_code": "INR",
        "amount": str(Decimal(amount) / 100),
        "invoices": [
            {
                "invoice_id": invoice_id.removeprefix("zb-"),
                "amount_applied": str(Decimal(amount) / 100),
            }
        ],
        "created_time": books_time(at),
        "last_modified_time": books_time(at),
    }
    world.books_sync(apt.tenant, ZohoRecord(PAYMENTS, books_id, at, fields))


def _capture(world: World, channel: str, link: dict[str, str], amount: int, at: datetime) -> str:
    if channel == "stripe":
        ref = world.new_id("pi_")
        intent = {
            "id": ref,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": "inr",
            "latest_charge": f"ch_{ref[3:]}",
            "metadata": link,
            "payment_method_types": ["card"],
            "status": "succeeded",
        }
        world.stripe("payment_intent.succeeded", intent, at)
        return ref
    ref = world.new_id("pay_")
    fee = amount * 2 // 100 * 118 // 100
    entity = {
        "id": ref,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": "captured",
        "method": "upi",
        "captured": True,
        "notes": link,
        "fee": fee,
        "tax": fee - amount * 2 // 100,
        "created_at": int(at.timestamp()),
    }
    world.razorpay("payment.captured", {"payment": {"entity": entity}}, at)
    return ref


def refund(world: World, data: st.DataObject) -> None:
    """A refund (or a lost dispute: a reversal) of a command or gateway payment."""
    ledger = world.ledger
    refundable = [p for p in ledger.payments if p.refundable >= 10_000 and p.channel != "books"]
    if not refundable:
        return
    payment = data.draw(st.sampled_from(refundable), "refunded payment")
    amount = data.draw(st.integers(1, payment.refundable // 10_000), "refund") * 10_000
    reversal = payment.channel != "command" and data.draw(st.booleans(), "a lost dispute")
    at = world.at()
    refund_id = world.new_id("r")
    if payment.channel == "command":
        money = {"amount_minor": amount, "currency": "INR", "occurred_at": at.isoformat()}
        body = {
            "tenant_id": payment.tenant,
            "branch_id": payment.branch,
            "refund_id": refund_id,
            "payment_id": payment.payment_id,
            "reason": "synthetic",
            **money,
        }
        if payment.target[0] == "invoice":
            world.command(
                payment.tenant, "refund_payment", {**body, "invoice_id": payment.target[1]}
            )
        else:
            body["appointment_id"] = payment.target[1]
            world.command(payment.tenant, "refund_appointment_payment", body)
    elif payment.channel == "stripe":
        assert payment.provider_ref is not None
        obj = {
            "id": world.new_id("dp_" if reversal else "re_"),
            "object": "dispute" if reversal else "refund",
            "amount": amount,
            "charge": f"ch_{payment.provider_ref[3:]}",
            "currency": "inr",
            "metadata": {},
            "payment_intent": payment.provider_ref,
            "status": "lost" if reversal else "succeeded",
        }
        if reversal:
            obj["reason"] = "fraudulent"
        world.stripe("charge.dispute.closed" if reversal else "refund.created", obj, at)
    else:
        _razorpay_refund(world, payment, amount, reversal, at)
    payment.refunds.append((amount, local(at), reversal))
    credits = ledger.credits_on_refund.get(payment.tenant, False)
    if credits and payment.channel != "command" and payment.target[0] == "invoice":
        invoice = next(i for i in ledger.invoices if i.invoice_id == payment.target[1])
        credit = min(amount, invoice.creditable)
        if credit:
            invoice.credits.append(credit)


def _razorpay_refund(
    world: World, payment: Payment, amount: int, reversal: bool, at: datetime
) -> None:
    assert payment.provider_ref is not None
    parent = {
        "payment": {
            "entity": {
                "id": payment.provider_ref,
                "entity": "payment",
                "amount": payment.amount,
                "currency": "INR",
                "status": "captured",
                "method": "upi",
                "captured": True,
                "notes": {},
            }
        }
    }
    if reversal:
        entity = {
            "id": world.new_id("disp_"),
            "entity": "dispute",
            "payment_id": payment.provider_ref,
            "amount": amount,
            "currency": "INR",
            "amount_deducted": amount,
            "reason_code": "chargeback",
            "status": "lost",
            "phase": "chargeback",
            "created_at": int(at.timestamp()),
        }
        world.razorpay("payment.dispute.lost", {"dispute": {"entity": entity}, **parent}, at)
        return
    entity = {
        "id": world.new_id("rfnd_"),
        "entity": "refund",
        "amount": amount,
        "currency": "INR",
        "payment_id": payment.provider_ref,
        "notes": [],
        "status": "processed",
        "created_at": int(at.timestamp()),
    }
    world.razorpay("refund.processed", {"refund": {"entity": entity}, **parent}, at)


def credit(world: World, data: st.DataObject) -> None:
    ledger = world.ledger
    creditable = [i for i in ledger.invoices if i.creditable >= 10_000]
    if not creditable:
        return
    invoice = data.draw(st.sampled_from(creditable), "credited invoice")
    amount = data.draw(st.integers(1, invoice.creditable // 10_000), "credit") * 10_000
    at = world.at()
    if invoice.books and data.draw(st.booleans(), "a Books credit note"):
        note = str(70_000 + next(world.ids))
        fields = {
            "creditnote_id": note,
            "status": "open",
            "date": local(at).isoformat(),
            "currency_code": "INR",
            "last_modified_time": books_time(at),
            "created_time": books_time(at),
            "invoices_credited": [
                {
                    "creditnote_invoice_id": str(60_000 + next(world.ids)),
                    "invoice_id": invoice.invoice_id.removeprefix("zb-"),
                    "credited_amount": str(Decimal(amount) / 100),
                    "date": local(at).isoformat(),
                }
            ],
        }
        world.books_sync(invoice.tenant, ZohoRecord(CREDIT_NOTES, note, at, fields))
    else:
        body = {
            "tenant_id": invoice.tenant,
            "branch_id": invoice.branch,
            "invoice_id": invoice.invoice_id,
            "credit_note_id": world.new_id("cn-"),
            "amount_minor": amount,
            "currency": "INR",
            "reason": "synthetic goodwill",
            "occurred_at": at.isoformat(),
        }
        world.command(invoice.tenant, "issue_credit_note", body)
    invoice.credits.append(amount)


def redeliver(world: World, data: st.DataObject) -> None:
    if world.ledger.sent:
        world.redeliver(data.draw(st.integers(0, len(world.ledger.sent) - 1), "redelivered"))


def settle(world: World, data: st.DataObject) -> None:
    """Razorpay settles every captured and refunded rupee not settled yet, of both
    clinics, in one settlement, itemized and split as the settlement-detail job does."""
    ledger = world.ledger
    done = {ref for _, lines in ledger.settled for ref, _, _, _ in lines}
    lines: list[tuple[str, str, int, int]] = []  # item ref, payment ref, amount, net
    for payment in ledger.payments:
        if payment.channel != "razorpay" or payment.provider_ref is None:
            continue
        ref = payment.provider_ref
        if ref not in done:
            fee = payment.amount * 2 // 100 * 118 // 100
            lines.append((ref, ref, payment.amount, payment.amount - fee))
        for n, (amount, _, _) in enumerate(payment.refunds):
            item = f"{ref}-r{n}"
            if item not in done:
                lines.append((item, ref, amount, -amount))
    if not lines or sum(net for *_, net in lines) <= 0:
        return
    at = world.at()
    settlement_ref = world.new_id("setl_")
    amount = sum(net for *_, net in lines)
    entity = {"id": settlement_ref, "entity": "settlement", "amount": amount}
    entity |= {"status": "processed", "utr": f"UTR{settlement_ref[-6:]}"}
    world.razorpay("settlement.processed", {"settlement": {"entity": entity}}, at)
    items = [
        e.SettlementItem(
            kind="payment" if item == ref else "refund",
            item_ref=item,
            payment_ref=ref,
            amount_minor=gross,
            fee_minor=gross - net if item == ref else 0,
            net_minor=net,
        )
        for item, ref, gross, net in lines
    ]
    itemized = e.SettlementItemized(
        provider="razorpay",
        settlement_ref=settlement_ref,
        source="razorpay_settlement_recon",
        currency="INR",
        items=items,
    )
    store = world.platform.store
    stream = itemized.stream_id()
    version = store.stream_version(ledger.account, stream)
    envelope = build_envelope(
        itemized,
        metadata=Metadata(tenant_id=ledger.account, actor="test", source="settlement-detail"),
        branch_id=None,
        stream_version=version + 1,
        occurred_at=at,
        recorded_at=at,
    )
    store.append(ledger.account, stream, version, [envelope])
    split_pending(store, clock=world.platform.clock)
    world.platform.relay.drain()
    ledger.settled.append((settlement_ref, lines))


OPERATIONS = {
    "invoice": issue_invoice,
    "pay": pay,
    "refund": refund,
    "credit": credit,
    "redeliver": redeliver,
    "settle": settle,
}


# --- the example -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    from mymedic import entrypoints
    from mymedic.bootstrap import bootstrap
    from mymedic.settings import Settings
    from tests.conftest import TEST_JWT_SECRET, StepClock

    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp("money") / "data",
        jwt_secret=TEST_JWT_SECRET,
        stripe_webhook_secret=SecretStr(STRIPE_SECRET),
        razorpay_webhook_secret=SecretStr(RAZORPAY_SECRET),
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = bootstrap(settings_, clock=StepClock())
    entrypoints.use_platform(platform)
    yield platform
    entrypoints.use_platform(None)
    platform.close()


def _tenants(world_platform: Platform, n: int, data: st.DataObject) -> Ledger:
    """Clinic A (two branches; it owns the gateway account) and clinic B (one branch),
    each with completed visits of its own, and each with its billing policy."""
    a, b = f"money-a{n}", f"money-b{n}"
    world_platform.settings = world_platform.settings.model_copy(update={"payments_tenant_id": a})
    service = world_platform.commands
    places = [(a, "branch-1", ""), (a, "branch-2", "-2"), (b, "branch-1", "")]
    for tenant, branch, suffix in places:
        for name, body in directory_commands(tenant, branch, suffix):
            metadata = Metadata(tenant_id=tenant, actor="admin:test", source=f"command:{name}")
            service.handle(COMMANDS[name].model_validate(body), metadata)
    appointments = []
    for k, (tenant, branch, suffix) in enumerate([*places, places[0]]):
        apt = f"apt-{k}"
        start = START - timedelta(days=1) + timedelta(hours=k)
        body = {
            "tenant_id": tenant,
            "branch_id": branch,
            "appointment_id": apt,
            "patient_id": f"pat-{apt}",
            "clinician_id": f"clin-1{suffix}",
            "room_id": f"room-1{suffix}",
            "modality": "MRI",
            "procedure_code": "MRI-BRAIN",
            "start_at": start.isoformat(),
            "channel": "phone",
        }
        visit = {"tenant_id": tenant, "branch_id": branch, "appointment_id": apt}
        for name, fields in (
            ("book_appointment", body),
            ("mark_arrived", visit),
            ("complete_appointment", visit),
        ):
            metadata = Metadata(tenant_id=tenant, actor="staff:test", source=f"command:{name}")
            service.handle(COMMANDS[name].model_validate(fields), metadata)
        appointments.append(Appointment(apt, tenant, branch))
    policies = {}
    for tenant in (a, b):
        policies[tenant] = data.draw(st.booleans(), f"{tenant} refunds credit invoices")
        if policies[tenant]:
            body = {"tenant_id": tenant, "branch_id": "*", "refunds_credit_invoices": True}
            metadata = Metadata(tenant_id=tenant, actor="admin:test", source="command:policy")
            service.handle(COMMANDS["set_billing_policy"].model_validate(body), metadata)
    world_platform.relay.drain()
    return Ledger(account=a, credits_on_refund=policies, appointments=appointments)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_path_gives_one_ledger(shared_platform: Platform, data: st.DataObject) -> None:
    n = next(EXAMPLES)
    ledger = _tenants(shared_platform, n, data)
    world = World(shared_platform, create_server().test_client(), ledger, n)
    names = st.sampled_from(
        ["invoice", "invoice", "pay", "pay", "pay", "refund", "credit", "redeliver", "settle"]
    )
    steps = data.draw(st.lists(names, min_size=10, max_size=30), "operations")
    for name in steps:
        OPERATIONS[name](world, data)
    shared_platform.catch_up()
    _check(shared_platform, ledger)


# --- the checks ------------------------------------------------------------------------------


def _check(platform: Platform, ledger: Ledger) -> None:
    tenants = sorted({a.tenant for a in ledger.appointments})
    warehouse = platform.warehouse
    for tenant in tenants:
        payments = warehouse.query("int_payment", {"tenant_id": tenant})
        refunds = warehouse.query("int_refund", {"tenant_id": tenant})
        _check_days(ledger, tenant, payments, refunds)
        _check_invoices(platform, ledger, tenant)
        _check_visits(platform, ledger, tenant)
    _check_settlements(platform, ledger, tenants)


def _check_days(
    ledger: Ledger, tenant: str, payments: list[dict[str, Any]], refunds: list[dict[str, Any]]
) -> None:
    """Per branch and day: captured, refunded and reversed as the model has them, each
    once, and paid = captured - refunded - reversed."""
    expected: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for p in ledger.payments:
        if p.tenant != tenant:
            continue
        expected[(p.branch, p.day)][0] += p.amount
        for amount, day, reversal in p.refunds:
            expected[(p.branch, day)][2 if reversal else 1] += amount
    found: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in payments:
        found[(row["branch_id"], row["paid_date"])][0] += row["amount_minor"]
    for row in refunds:
        reversal = row["reason"].endswith("chargeback")
        found[(row["branch_id"], row["refunded_date"])][2 if reversal else 1] += row["amount_minor"]
    assert dict(found) == dict(expected)
    for key, (captured, refunded, reversed_) in found.items():
        paid = sum(r["amount_minor"] for r in payments if (r["branch_id"], r["paid_date"]) == key)
        paid -= sum(
            r["amount_minor"] for r in refunds if (r["branch_id"], r["refunded_date"]) == key
        )
        assert paid == captured - refunded - reversed_


def _check_invoices(platform: Platform, ledger: Ledger, tenant: str) -> None:
    """Per invoice: receivable = billed - credited - paid, in the model, the read model,
    the warehouse's receivables, and the reconciliation of the day it was issued."""
    movements = platform.warehouse.query("rpt_receivables_movement", {"tenant_id": tenant})
    balance: dict[str, int] = defaultdict(int)
    for row in movements:
        balance[row["invoice_id"]] += row["amount_minor"]
    credited: dict[str, int] = defaultdict(int)
    for row in platform.warehouse.query("int_credit_note", {"tenant_id": tenant}):
        credited[row["invoice_id"]] += row["amount_minor"]
    outstanding: dict[tuple[str, date], int] = defaultdict(int)
    for invoice in (i for i in ledger.invoices if i.tenant == tenant):
        owed = invoice.owed(ledger.payments)
        doc = platform.documents.get("invoices", tenant, invoice.invoice_id)
        assert doc is not None
        assert (doc["owed_minor"], doc["credited_minor"]) == (owed, sum(invoice.credits))
        assert doc["net_paid_minor"] == invoice.paid(ledger.payments)
        assert doc["balance_minor"] == invoice.balance(ledger.payments)
        assert balance[invoice.invoice_id] == invoice.balance(ledger.payments)
        assert credited[invoice.invoice_id] == sum(invoice.credits)
        outstanding[(invoice.branch, invoice.day)] += owed
    for (branch, day), owed in outstanding.items():
        closes = run_day(platform.store, day, as_of=day, tenant=tenant, branch=branch)
        assert sum(c.outstanding_minor for c in closes) == owed


def _check_visits(platform: Platform, ledger: Ledger, tenant: str) -> None:
    """Per visit: the read model, the warehouse's revenue and the model agree; and the
    revenue report's totals are the read model's."""
    summary = payments_summary(platform.documents, tenant)
    docs = {row["appointment_id"]: row for row in summary["appointments"]}
    revenue = {
        row["appointment_id"]: row
        for row in platform.warehouse.query("int_appointment_revenue", {"tenant_id": tenant})
    }
    for apt in (a for a in ledger.appointments if a.tenant == tenant):
        invoices = [i for i in ledger.invoices if i.appointment == apt.appointment_id]
        paid = ledger.prepaid(apt) + sum(i.paid(ledger.payments) for i in invoices)
        owed = max(sum(i.balance(ledger.payments) for i in invoices), 0)
        credits = sum(sum(i.credits) for i in invoices)
        doc = docs[apt.appointment_id]
        assert (doc["total_paid_minor"], doc["invoice_owed_minor"]) == (paid, owed)
        assert doc["credited_minor"] == credits
        row = revenue.get(apt.appointment_id)
        if row is None:
            assert (paid, owed, credits, invoices) == (0, 0, 0, [])
            continue
        assert (row["paid_minor"], row["outstanding_minor"]) == (paid, owed)
        assert row["credited_minor"] == credits
        assert row["invoiced_minor"] == sum(i.amount for i in invoices)
    report = platform.warehouse.query("rpt_revenue_breakdown", {"tenant_id": tenant})
    [totals] = summary["totals"]
    assert sum(r["paid_minor"] for r in report) == totals["total_paid_minor"]
    assert sum(r["outstanding_minor"] for r in report) == totals["invoice_owed_minor"]
    assert sum(r["credited_minor"] for r in report) == totals["credited_minor"]
    by_mode = platform.warehouse.query("rpt_payments_by_mode", {"tenant_id": tenant})
    assert sum(r["amount_minor"] for r in by_mode) == sum(
        p.amount for p in ledger.payments if p.tenant == tenant
    )


def _check_settlements(platform: Platform, ledger: Ledger, tenants: list[str]) -> None:
    """Each clinic's part of each settlement is the net of its own lines; the parts, the
    account's unmatched lines and the difference make the payout."""
    owner = {p.provider_ref: p.tenant for p in ledger.payments if p.provider_ref}
    rows = {
        tenant: {
            r["settlement_ref"]: r
            for r in platform.warehouse.query("rpt_settlement", {"tenant_id": tenant})
        }
        for tenant in tenants
    }
    for settlement_ref, lines in ledger.settled:
        parts: dict[str, int] = defaultdict(int)
        for _, ref, _, net in lines:
            parts[owner[ref]] += net
        for tenant in tenants:
            row = rows[tenant].get(settlement_ref)
            if tenant in parts:
                assert row is not None and row["settled_minor"] == parts[tenant]
            elif tenant != ledger.account:
                assert row is None
        account = rows[ledger.account][settlement_ref]
        payout = sum(parts.values())
        assert (account["amount_minor"], account["difference_minor"]) == (payout, 0)
        assert account["unmatched_net_minor"] == 0
        assert (
            sum(
                rows[t][settlement_ref]["settled_minor"] or 0
                for t in tenants
                if settlement_ref in rows[t]
            )
            == payout
        )
        assert all(
            rows[t][settlement_ref]["amount_minor"] is None
            for t in tenants
            if t != ledger.account and settlement_ref in rows[t]
        )
