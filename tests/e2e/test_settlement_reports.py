"""The gateway facts and reports (settlements, branch variance) checked against figures
worked out by hand. Captures, refunds and settlements come in as signed Stripe and
Razorpay webhooks; payments keyed at the console through commands; settlement lines
are appended to the settlement's stream and the settlement split per tenant, as the
settlement-detail job does. One branch in Pune (INR, +05:30). All synthetic (secrets
included)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.integrations.payments.settlement_split import split_settlement
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking
from tests.webhooks import razorpay_body, send_razorpay, send_stripe, stripe_body

STRIPE_SECRET = "whsec_test_only_settlement_0123456789"  # noqa: S105 - synthetic
RAZORPAY_SECRET = "test-only-razorpay-settlement-secret"  # noqa: S105 - synthetic
GATEWAY = "gateway-account"  # the payments tenant: the gateway account's
# A settlement line: kind, item_ref, payment_ref, amount, fee (tax included), tax, net.
Line = tuple[str, str, str | None, int, int, int, int]


def _epoch(local: str) -> int:
    return int(datetime.fromisoformat(local).timestamp())


def _link(appointment: str, payment: str) -> dict[str, str]:
    return {
        "mymedic_tenant": TENANT,
        "mymedic_branch": BRANCH,
        "mymedic_appointment": appointment,
        "mymedic_payment_id": payment,
    }


class Gateways:
    def __init__(self, client: FlaskClient, platform: Platform) -> None:
        self.client = client
        self.platform = platform

    def razorpay(self, event_id: str, kind: str, payload: dict[str, Any], at: str) -> None:
        body = razorpay_body(kind, payload, _epoch(at))
        answer = send_razorpay(self.client, RAZORPAY_SECRET, body, event_id)
        assert answer["outcome"] == "recorded"

    def razorpay_capture(
        self, ref: str, amount: int, fee: int, tax: int, at: str, **link: str
    ) -> None:
        payment = {
            "id": ref,
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": "captured",
            "method": "upi",
            "captured": True,
            "notes": _link(**link),
            "fee": fee,
            "tax": tax,
        }
        self.razorpay(f"e-{ref}", "payment.captured", {"payment": {"entity": payment}}, at)

    def stripe(self, event_id: str, kind: str, obj: dict[str, Any], at: str) -> None:
        body = stripe_body(event_id, kind, obj, _epoch(at))
        assert send_stripe(self.client, STRIPE_SECRET, body)["outcome"] == "recorded"

    def stripe_capture(self, ref: str, amount: int, at: str, metadata: dict[str, str]) -> None:
        intent = {
            "id": ref,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": "inr",
            "latest_charge": f"ch_{ref[3:]}",
            "metadata": metadata,
            "payment_method_types": ["card"],
            "status": "succeeded",
        }
        self.stripe(f"evt_{ref}", "payment_intent.succeeded", intent, at)

    def itemize(self, provider: str, settlement: str, at: str, *lines: Line) -> None:
        """What the settlement fetch appends: the settlement's lines, on its stream."""
        source = {"razorpay": "razorpay_settlement_recon", "stripe": "stripe_balance_transactions"}
        items = [
            e.SettlementItem(
                kind=kind,
                item_ref=ref,
                payment_ref=payment,
                amount_minor=amount,
                fee_minor=fee,
                tax_minor=tax,
                net_minor=net,
            )
            for kind, ref, payment, amount, fee, tax, net in lines
        ]
        payload = e.SettlementItemized(
            provider=provider,
            settlement_ref=settlement,
            source=source[provider],
            currency="INR",
            items=items,
        )
        store = self.platform.store
        stream = payload.stream_id()
        version = store.stream_version(GATEWAY, stream)
        assert version >= 1, "itemized before the settlement was recorded"
        moment = datetime.fromisoformat(at)
        envelope = build_envelope(
            payload,
            metadata=Metadata(tenant_id=GATEWAY, actor="test", source="settlement-fetch"),
            branch_id=None,
            stream_version=version + 1,
            occurred_at=moment,
            recorded_at=moment,
        )
        store.append(GATEWAY, stream, version, [envelope])
        split_settlement(store, GATEWAY, provider, settlement, clock=lambda: moment)


def _console(client: FlaskClient, apt: str, payment: str, amount: int, mode: str, at: str) -> None:
    body = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "appointment_id": apt,
        "payment_id": payment,
        "kind": "payment",
        "amount_minor": amount,
        "currency": "INR",
        "mode": mode,
        "provider": "cash" if mode == "cash" else "console",
        "occurred_at": at,
    }
    response = client.post("/commands/take_payment", json=body, headers=bearer())
    assert response.status_code == 201, response.get_json()


def _settlements(platform: Platform, tenant: str = TENANT) -> dict[str, dict[str, Any]]:
    rows = platform.warehouse.query("rpt_settlement", {"tenant_id": tenant})
    return {row["settlement_ref"]: row for row in rows}


@pytest.fixture
def scenario(platform: Platform) -> Platform:
    platform.settings = platform.settings.model_copy(
        update={
            "stripe_webhook_secret": SecretStr(STRIPE_SECRET),
            "razorpay_webhook_secret": SecretStr(RAZORPAY_SECRET),
            "payments_tenant_id": GATEWAY,
        }
    )
    client = create_server().test_client()
    for n in range(1, 5):
        body = booking(
            f"apt-{n}", patient_id=f"pat-{n}", start_at=f"2026-03-10T{9 + n}:00:00+05:30"
        )
        response = client.post("/commands/book_appointment", json=body, headers=bearer())
        assert response.status_code == 201, response.get_json()
    gateways = Gateways(client, platform)
    _razorpay_settles_two_days(gateways)
    _stripe_pays_out_before_it_captures(gateways)
    return platform


def _razorpay_settles_two_days(gateways: Gateways) -> None:
    client, platform = gateways.client, gateways.platform
    # Two Razorpay captures on two branch days (pay_B: 03-02 19:00 UTC, the 3rd in Pune)...
    gateways.razorpay_capture(
        "pay_A0001",
        200_000,
        4_720,
        720,
        "2026-03-02T10:00:00+05:30",
        appointment="apt-1",
        payment="pay-apt-1",
    )
    gateways.razorpay_capture(
        "pay_B0002",
        300_000,
        7_080,
        1_080,
        "2026-03-03T00:30:00+05:30",
        appointment="apt-2",
        payment="pay-apt-2",
    )
    # ... 50_000 of pay_A refunded ...
    refund = {"id": "rfnd_A0001", "entity": "refund", "amount": 50_000, "currency": "INR"}
    refund |= {"payment_id": "pay_A0001", "notes": [], "status": "processed"}
    gateways.razorpay(
        "e-rfnd", "refund.processed", {"refund": {"entity": refund}}, "2026-03-03T12:00:00+05:30"
    )
    # ... a card keyed at the console on the 3rd (no capture), cash on the 4th ...
    _console(client, "apt-4", "pos-1", 100_000, "card", "2026-03-03T15:00:00+05:30")
    _console(client, "apt-4", "cash-1", 50_000, "cash", "2026-03-04T17:00:00+05:30")
    # ... and one settlement of both, less the refund: 195_280 + 292_920 - 50_000.
    settlement = {"id": "setl_R0001", "entity": "settlement", "amount": 438_200}
    settlement |= {"status": "processed", "fees": 11_800, "tax": 1_800, "utr": "UTR0001"}
    settlement |= {"payment_ids": ["pay_A0001", "pay_B0002"]}
    gateways.razorpay(
        "e-setl",
        "settlement.processed",
        {"settlement": {"entity": settlement}},
        "2026-03-05T11:30:00+05:30",
    )
    platform.catch_up()
    before = _settlements(platform)["setl_R0001"]
    # Not itemized yet: the clinic's listed payments and their captures, nothing else.
    assert (before["payments"], before["payment_gross_minor"]) == (2, 500_000)
    assert (before["items"], before["refunds"], before["settled_minor"]) == (None, None, None)
    account = _settlements(platform, GATEWAY)["setl_R0001"]
    assert (account["amount_minor"], account["difference_minor"]) == (438_200, None)
    gateways.itemize(
        "razorpay",
        "setl_R0001",
        "2026-03-06T09:00:00+05:30",
        ("payment", "pay_A0001", "pay_A0001", 200_000, 4_720, 720, 195_280),
        ("payment", "pay_B0002", "pay_B0002", 300_000, 7_080, 1_080, 292_920),
        ("refund", "rfnd_A0001", "pay_A0001", 50_000, 0, 0, -50_000),
    )


def _stripe_pays_out_before_it_captures(gateways: Gateways) -> None:
    client, platform = gateways.client, gateways.platform
    # A Stripe payout and its lines delivered before the capture it pays out; its lines
    # leave 2_000 unexplained (100_000 paid, 117_000 - 15_000 itemized).
    payout = {"id": "po_S0001", "object": "payout", "amount": 100_000, "currency": "inr"}
    payout |= {"arrival_date": _epoch("2026-03-06T00:00:00+00:00"), "status": "paid"}
    gateways.stripe("evt_po1", "payout.paid", payout, "2026-03-05T20:00:00+05:30")
    gateways.itemize(
        "stripe",
        "po_S0001",
        "2026-03-06T10:00:00+05:30",
        ("payment", "txn_C0001", "pi_C0001", 120_000, 3_000, 0, 117_000),
        ("adjustment", "txn_ADJ01", None, 15_000, 0, 0, -15_000),
    )
    platform.catch_up()
    assert platform.warehouse.query("int_gateway_payment", {"payment_ref": "pi_C0001"}) == []
    gateways.stripe_capture(
        "pi_C0001", 120_000, "2026-03-04T10:00:00+05:30", _link("apt-3", "pay-apt-3")
    )
    # A capture naming an appointment we do not know: recorded, never taken.
    gateways.stripe_capture(
        "pi_D0001", 80_000, "2026-03-06T16:00:00+05:30", _link("apt-404", "pay-404")
    )
    # A capture without our metadata: the gateway account's, no branch.
    gateways.stripe_capture("pi_E0001", 30_000, "2026-03-06T09:00:00+00:00", {})
    # A UPI payment keyed at the console on a day no gateway captured anything.
    _console(client, "apt-4", "pos-2", 25_000, "upi", "2026-03-07T11:00:00+05:30")
    platform.catch_up()


def test_captures_carry_their_branch_day_and_settlement_whatever_the_delivery_order(
    scenario: Platform,
) -> None:
    rows = scenario.warehouse.query("int_gateway_payment", {"tenant_id": TENANT})
    columns = ("payment_ref", "provider", "branch_id", "payment_id", "appointment_id")
    dates = ("captured_date", "settlement_ref")
    assert [tuple(r[c] for c in (*columns, *dates)) for r in rows] == [
        ("pay_A0001", "razorpay", BRANCH, "pay-apt-1", "apt-1", date(2026, 3, 2), "setl_R0001"),
        ("pay_B0002", "razorpay", BRANCH, "pay-apt-2", "apt-2", date(2026, 3, 3), "setl_R0001"),
        # Settled by a payout the warehouse had before the capture.
        ("pi_C0001", "stripe", BRANCH, "pay-apt-3", "apt-3", date(2026, 3, 4), "po_S0001"),
        ("pi_D0001", "stripe", BRANCH, "pay-404", "apt-404", date(2026, 3, 6), None),
    ]
    money = ("method", "amount_minor", "fee_minor", "tax_minor", "net_minor", "currency")
    assert {r["payment_ref"]: tuple(r[c] for c in money) for r in rows} == {
        "pay_A0001": ("upi", 200_000, 4_720, 720, 195_280, "INR"),
        "pay_B0002": ("upi", 300_000, 7_080, 1_080, 292_920, "INR"),
        "pi_C0001": ("card", 120_000, None, None, 120_000, "INR"),
        "pi_D0001": ("card", 80_000, None, None, 80_000, "INR"),
    }
    settled = {r["payment_ref"]: r["settled_at"] for r in rows if r["settled_at"] is not None}
    assert {ref: at.date() for ref, at in settled.items()} == {
        "pay_A0001": date(2026, 3, 5),  # when Razorpay reported it (06:00 UTC)
        "pay_B0002": date(2026, 3, 5),
        "pi_C0001": date(2026, 3, 6),  # Stripe's arrival date
    }
    [unlinked] = scenario.warehouse.query("int_gateway_payment", {"tenant_id": GATEWAY})
    assert (unlinked["payment_ref"], unlinked["branch_id"]) == ("pi_E0001", "unassigned")
    assert (unlinked["captured_date"], unlinked["settlement_ref"]) == (date(2026, 3, 6), None)


SETTLEMENT = (
    "provider",
    "settled_date",
    "status",
    "currency",
    "bank_reference",
    "account_tenant_id",
    "payments",
    "payment_gross_minor",
    "refunds",
    "refund_deducted_minor",
    "disputes",
    "dispute_deducted_minor",
    "adjustments",
    "adjustment_deducted_minor",
    "fee_minor",
    "tax_minor",
    "items",
    "settled_minor",
    "unmatched_items",
    "unmatched_net_minor",
    "amount_minor",
    "difference_minor",
)


def test_each_tenant_sees_its_part_and_the_account_the_payout(scenario: Platform) -> None:
    clinic = _settlements(scenario)
    assert {ref: tuple(row[c] for c in SETTLEMENT) for ref, row in clinic.items()} == {
        # Two captures of two days, less a refund of one: all three lines the clinic's.
        "setl_R0001": (
            "razorpay",
            date(2026, 3, 5),
            "processed",
            "INR",
            "UTR0001",
            GATEWAY,
            2,
            500_000,
            1,
            50_000,
            0,
            0,
            0,
            0,
            11_800,
            1_800,
            3,
            438_200,
            0,
            0,
            None,  # what reached the bank is the account's figure
            None,
        ),
        # The payout's line of a capture that came after it: moved to the clinic then.
        "po_S0001": (
            "stripe",
            date(2026, 3, 6),
            "paid",
            "INR",
            None,
            GATEWAY,
            1,
            120_000,
            0,
            0,
            0,
            0,
            0,
            0,
            3_000,
            0,
            1,
            117_000,
            0,
            0,
            None,
            None,
        ),
    }
    account = _settlements(scenario, GATEWAY)
    assert {ref: tuple(row[c] for c in SETTLEMENT) for ref, row in account.items()} == {
        # Nothing of the account's own: the payout and what its lines leave unexplained.
        "setl_R0001": (
            "razorpay",
            date(2026, 3, 5),
            "processed",
            "INR",
            "UTR0001",
            GATEWAY,
            *(None,) * 12,
            0,
            0,
            438_200,
            0,
        ),
        # 100_000 paid out: the clinic's 117_000, an adjustment of -15_000 no payment
        # explains (the account's, unmatched), and 2_000 the lines do not explain.
        "po_S0001": (
            "stripe",
            date(2026, 3, 6),
            "paid",
            "INR",
            None,
            GATEWAY,
            *(0,) * 12,
            1,
            -15_000,
            100_000,
            -2_000,
        ),
    }
    parts = clinic["po_S0001"]["settled_minor"] + account["po_S0001"]["unmatched_net_minor"]
    assert parts + account["po_S0001"]["difference_minor"] == account["po_S0001"]["amount_minor"]


def test_a_line_fetched_again_replaces_itself(scenario: Platform) -> None:
    gateways = Gateways(create_server().test_client(), scenario)
    gateways.itemize(
        "stripe",
        "po_S0001",
        "2026-03-07T10:00:00+05:30",
        ("adjustment", "txn_ADJ01", None, 15_000, 0, 0, -15_000),  # again, unchanged
        ("other", "txn_OTH01", None, 2_000, 0, 0, -2_000),
        ("payment", "txn_C0001", "pi_C0001", 120_000, 3_500, 0, 116_500),  # a new fee
    )
    scenario.catch_up()
    account = _settlements(scenario, GATEWAY)["po_S0001"]
    assert (account["unmatched_items"], account["unmatched_net_minor"]) == (2, -17_000)
    assert account["difference_minor"] == 500
    clinic = _settlements(scenario)["po_S0001"]
    assert (clinic["items"], clinic["fee_minor"], clinic["settled_minor"]) == (1, 3_500, 116_500)


VARIANCE = (
    "branch_id",
    "local_date",
    "currency",
    "recorded_payments",
    "recorded_minor",
    "captures",
    "captured_minor",
    "variance_minor",
    "fee_minor",
    "settled_captures",
    "settled_net_minor",
    "awaiting_settlement_captures",
    "awaiting_settlement_net_minor",
)


def test_branch_variance_recorded_against_captured(scenario: Platform) -> None:
    # Filtering the view by tenant once failed on DuckDB (its sums are int128).
    rows = scenario.warehouse.query("rpt_branch_variance", {"tenant_id": TENANT})
    assert [tuple(r[c] for c in VARIANCE) for r in rows] == [
        (BRANCH, date(2026, 3, 2), "INR", 1, 200_000, 1, 200_000, 0, 4_720, 1, 195_280, 0, 0),
        # pay_B, and a card at the console with no capture: 100_000 more recorded. The
        # cash of the 4th is no gateway's.
        (BRANCH, date(2026, 3, 3), "INR", 2, 400_000, 1, 300_000, 100_000, 7_080, 1, 292_920, 0, 0),
        (BRANCH, date(2026, 3, 4), "INR", 1, 120_000, 1, 120_000, 0, 0, 1, 120_000, 0, 0),
        # Captured for an appointment we do not know: nothing recorded, not settled yet.
        (BRANCH, date(2026, 3, 6), "INR", 0, 0, 1, 80_000, -80_000, 0, 0, 0, 1, 80_000),
        (BRANCH, date(2026, 3, 7), "INR", 1, 25_000, 0, 0, 25_000, 0, 0, 0, 0, 0),
    ]
    one_day = {"tenant_id": TENANT, "branch_id": BRANCH, "local_date": date(2026, 3, 6)}
    assert len(scenario.warehouse.query("rpt_branch_variance", one_day)) == 1
    [gateway] = scenario.warehouse.query("rpt_branch_variance", {"tenant_id": GATEWAY})
    assert tuple(gateway[c] for c in VARIANCE) == (
        "unassigned",
        date(2026, 3, 6),
        "INR",
        0,
        0,
        1,
        30_000,
        -30_000,
        0,
        0,
        0,
        1,
        30_000,
    )


def test_the_gateway_facts_are_rebuilt_identically(scenario: Platform) -> None:
    tables = (
        "fct_gateway_payment",
        "fct_settlement",
        "fct_settlement_share",
        "fct_settlement_item",
        "fct_settlement_payment",
    )
    before = {t: scenario.warehouse.query(t) for t in tables}
    assert all(before.values())
    scenario.rebuild_projections()
    assert {t: scenario.warehouse.query(t) for t in tables} == before
