"""One gateway account serving two clinics: its settlement is split per clinic by the
payments its lines pay out, worked out by hand. The account is clinic A's (the payments
tenant); clinic B's payments come through the same Razorpay account. Webhooks are
signed as Razorpay signs them; the settlement's lines are appended to its stream as the
settlement-detail job appends them. All synthetic (secrets included)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from mymedic.app.reconcile import run_day
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.integrations.payments.settlement_detail import split_pending
from mymedic.ports import EventStore, StreamAppend
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking, seed_directory
from tests.webhooks import razorpay_body, send_razorpay

SECRET = "test-only-razorpay-split-secret"  # noqa: S105 - synthetic
CLINIC_B = "tenant-b"
SETTLEMENT = "setl_SPLIT0001"
STREAM = f"settlement:razorpay:{SETTLEMENT}"


def _epoch(local: str) -> int:
    return int(datetime.fromisoformat(local).timestamp())


class Razorpay:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def send(self, event_id: str, kind: str, payload: dict[str, Any], at: str) -> None:
        send_razorpay(self.client, SECRET, razorpay_body(kind, payload, _epoch(at)), event_id)

    def capture(self, ref: str, tenant: str, appointment: str, amount: int, fee: int) -> None:
        tax = fee * 18 // 118
        notes = {
            "mymedic_tenant": tenant,
            "mymedic_branch": BRANCH,
            "mymedic_appointment": appointment,
            "mymedic_payment_id": f"pay-{appointment}",
        }
        payment = {
            "id": ref,
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": "captured",
            "method": "upi",
            "captured": True,
            "notes": notes,
            "fee": fee,
            "tax": tax,
        }
        at = "2026-03-02T10:00:00+05:30"
        self.send(f"e-{ref}", "payment.captured", {"payment": {"entity": payment}}, at)


# (kind, item_ref, payment_ref, amount, fee, net): 2% + 18% GST fees.
LINES = (
    ("payment", "pay_A1", "pay_A1", 200_000, 4_720, 195_280),  # clinic A's
    ("payment", "pay_B1", "pay_B1", 300_000, 7_080, 292_920),  # clinic B's
    ("payment", "pay_X1", "pay_X1", 50_000, 1_180, 48_820),  # its capture comes late
    ("adjustment", "adj_1", None, 1_000, 0, -1_000),  # no payment: the account's
)
PAID_OUT = 195_280 + 292_920 + 48_820 - 1_000  # 536_020


def _itemize(store: EventStore) -> None:
    """What the settlement-detail job appends: the lines, on the account's stream."""
    items = [
        e.SettlementItem(
            kind=kind,
            item_ref=ref,
            payment_ref=payment,
            amount_minor=amount,
            fee_minor=fee,
            tax_minor=fee * 18 // 118,
            net_minor=net,
        )
        for kind, ref, payment, amount, fee, net in LINES
    ]
    payload = e.SettlementItemized(
        provider="razorpay",
        settlement_ref=SETTLEMENT,
        source="razorpay_settlement_recon",
        currency="INR",
        items=items,
    )
    version = store.stream_version(TENANT, STREAM)
    at = datetime.fromisoformat("2026-03-05T09:00:00+05:30")
    envelope = build_envelope(
        payload,
        metadata=Metadata(tenant_id=TENANT, actor="test", source="settlement-fetch"),
        branch_id=None,
        stream_version=version + 1,
        occurred_at=at,
        recorded_at=at,
    )
    store.append(TENANT, STREAM, version, [envelope])


@pytest.fixture
def split(platform: Platform) -> Iterator[tuple[Platform, Razorpay]]:
    """Clinic A owns the account; A's and B's payments captured, the settlement
    recorded and itemized, and split (pay_X1's capture has not come yet)."""
    platform.settings = platform.settings.model_copy(
        update={"razorpay_webhook_secret": SecretStr(SECRET), "payments_tenant_id": TENANT}
    )
    seed_directory(platform, CLINIC_B)
    client = create_server().test_client()
    bookings = ((TENANT, "apt-a1", 10), (CLINIC_B, "apt-b1", 10), (CLINIC_B, "apt-b2", 12))
    for tenant, apt, hour in bookings:
        body = booking(apt, tenant_id=tenant, start_at=f"2026-03-10T{hour}:00:00+05:30")
        response = client.post("/commands/book_appointment", json=body, headers=bearer(tenant))
        assert response.status_code == 201, response.get_json()
    razorpay = Razorpay(client)
    razorpay.capture("pay_A1", TENANT, "apt-a1", 200_000, 4_720)
    razorpay.capture("pay_B1", CLINIC_B, "apt-b1", 300_000, 7_080)
    settlement = {"id": SETTLEMENT, "entity": "settlement", "amount": PAID_OUT}
    settlement |= {"status": "processed", "fees": 12_980, "tax": 1_980, "utr": "UTRSPLIT1"}
    razorpay.send(
        "e-setl", "settlement.processed", {"settlement": {"entity": settlement}}, at_settled()
    )
    _itemize(platform.store)
    assert split_pending(platform.store, clock=platform.clock) == 1
    platform.catch_up()
    yield platform, razorpay


def at_settled() -> str:
    return "2026-03-04T11:00:00+05:30"


FIGURES = (
    "account_tenant_id",
    "payments",
    "payment_gross_minor",
    "fee_minor",
    "items",
    "settled_minor",
    "unmatched_items",
    "unmatched_net_minor",
    "amount_minor",
    "difference_minor",
)


def figures(platform: Platform, tenant: str) -> tuple[Any, ...]:
    [row] = platform.warehouse.query("rpt_settlement", {"tenant_id": tenant})
    assert (row["settlement_ref"], row["settled_date"]) == (SETTLEMENT, date(2026, 3, 4))
    return tuple(row[column] for column in FIGURES)


def test_a_settlement_covering_two_clinics_is_split_by_line(
    split: tuple[Platform, Razorpay],
) -> None:
    platform, _ = split
    # A owns the account: its own line, the lines nobody's payment explains (pay_X1,
    # whose capture has not come, and the adjustment), and the whole payout.
    assert figures(platform, TENANT) == (
        TENANT,
        1,
        200_000,
        4_720,
        1,
        195_280,
        2,
        48_820 - 1_000,
        PAID_OUT,
        0,
    )
    # B sees only its own part, never the payout's total.
    assert figures(platform, CLINIC_B) == (TENANT, 1, 300_000, 7_080, 1, 292_920, 0, 0, None, None)
    # Every rupee paid out is someone's part, an unmatched line, or unexplained.
    assert PAID_OUT == 195_280 + 292_920 + (48_820 - 1_000) + 0
    # The captures are settled, each in its own clinic's close.
    for tenant, ref in ((TENANT, "pay_A1"), (CLINIC_B, "pay_B1")):
        [capture] = platform.warehouse.query("int_gateway_payment", {"tenant_id": tenant})
        assert (capture["payment_ref"], capture["settlement_ref"]) == (ref, SETTLEMENT)
    [b_day] = run_day(platform.store, date(2026, 3, 2), as_of=date(2026, 3, 10), tenant=CLINIC_B)
    assert (b_day.captured_minor, b_day.settled_minor) == (300_000, 292_920)


def test_a_line_whose_capture_comes_late_moves_to_its_clinic(
    split: tuple[Platform, Razorpay],
) -> None:
    platform, razorpay = split
    razorpay.capture("pay_X1", CLINIC_B, "apt-b2", 50_000, 1_180)
    platform.catch_up()
    assert figures(platform, TENANT) == (
        TENANT,
        1,
        200_000,
        4_720,
        1,
        195_280,
        1,
        -1_000,
        PAID_OUT,
        0,
    )
    assert figures(platform, CLINIC_B) == (
        TENANT,
        2,
        350_000,
        8_260,
        2,
        292_920 + 48_820,
        0,
        0,
        None,
        None,
    )
    # Delivered again: nothing moves twice.
    before = len(platform.store.read_all(limit=100_000))
    razorpay.capture("pay_X1", CLINIC_B, "apt-b2", 50_000, 1_180)
    assert len(platform.store.read_all(limit=100_000)) == before


def test_a_split_killed_midway_is_finished_by_the_next_run(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clinics' shares are written, then the process dies before the account's
    split: the next run writes what is missing and nothing twice."""
    store = platform.store
    real = store.append_streams

    def dies_on_the_accounts_split(tenant_id: str, appends: list[StreamAppend]) -> Any:
        if tenant_id == TENANT and any(a.stream_id == STREAM for a in appends):
            raise SystemExit("kill -9")
        return real(tenant_id, appends)

    platform.settings = platform.settings.model_copy(
        update={"razorpay_webhook_secret": SecretStr(SECRET), "payments_tenant_id": TENANT}
    )
    seed_directory(platform, CLINIC_B)
    client = create_server().test_client()
    response = client.post(
        "/commands/book_appointment",
        json=booking("apt-b1", tenant_id=CLINIC_B),
        headers=bearer(CLINIC_B),
    )
    assert response.status_code == 201, response.get_json()
    razorpay = Razorpay(client)
    razorpay.capture("pay_B1", CLINIC_B, "apt-b1", 300_000, 7_080)
    settlement = {"id": SETTLEMENT, "entity": "settlement", "amount": PAID_OUT}
    settlement |= {"status": "processed", "utr": "UTRSPLIT1"}
    razorpay.send(
        "e-setl", "settlement.processed", {"settlement": {"entity": settlement}}, at_settled()
    )
    _itemize(store)
    monkeypatch.setattr(store, "append_streams", dies_on_the_accounts_split)
    with pytest.raises(SystemExit):
        split_pending(store, clock=platform.clock)
    monkeypatch.setattr(store, "append_streams", real)
    written = [s.envelope for s in store.read_all(limit=100_000)]
    [shared] = [env for env in written if env.event_type == e.SettlementShared.event_type]
    assert shared.tenant_id == CLINIC_B  # B's share was written before the kill
    assert not [env for env in written if env.event_type == e.SettlementSplit.event_type]

    assert split_pending(store, clock=platform.clock) == 1
    assert split_pending(store, clock=platform.clock) == 0
    shares = [
        s.envelope
        for s in store.read_all(limit=100_000)
        if s.envelope.event_type == e.SettlementShared.event_type
    ]
    assert sorted(env.tenant_id for env in shares) == [TENANT, CLINIC_B]
    platform.catch_up()
    assert figures(platform, CLINIC_B)[5] == 292_920
