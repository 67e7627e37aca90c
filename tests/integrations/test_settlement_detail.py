"""The lines of gateway settlements, fetched from fakes of Razorpay's settlement recon and
Stripe's balance transactions (payloads shaped like the providers' documented examples;
synthetic data and credentials), and the settlement-detail job end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from mymedic.app.reconcile import run_day
from mymedic.bootstrap import Platform
from mymedic.integrations.payments import settlement_detail
from mymedic.integrations.payments.gateway_http import GatewayAuthError, GatewayUnavailable
from mymedic.integrations.payments.settlement_clients import (
    RazorpayReconClient,
    StripeBalanceClient,
)
from mymedic.server import create_server
from mymedic.testing.gateway_fake import (
    FakeRazorpayRecon,
    FakeStripeBalance,
    razorpay_line,
    stripe_charge,
    stripe_refund,
)
from tests.conftest import BRANCH, TENANT, bearer, booking
from tests.integrations.test_payment_webhooks import (
    PAYMENTS_TENANT,
    RAZORPAY_SECRET,
    STRIPE_SECRET,
    intent,
    post_razorpay,
    post_stripe,
    razorpay_event,
    rzp_payment,
    stripe_event,
)

IST = timezone(timedelta(hours=5, minutes=30))
SETTLED = datetime(2026, 3, 3, 10, 0, tzinfo=IST)
PI, CH = "pi_3MtwBwLkdIwHu7ix28a3tqPa", "ch_3MtwBwLkdIwHu7ix28a3tqPa"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def razorpay(fake: FakeRazorpayRecon, sleeps: Sleeps, **kw: Any) -> RazorpayReconClient:
    return RazorpayReconClient(fake.client(), fake.key_id, fake.key_secret, sleep=sleeps, **kw)


def stripe(fake: FakeStripeBalance, sleeps: Sleeps, **kw: Any) -> StripeBalanceClient:
    return StripeBalanceClient(fake.client(), fake.api_key, sleep=sleeps, **kw)


def recon_fake() -> FakeRazorpayRecon:
    fake = FakeRazorpayRecon()
    fake.settle(
        "setl_DGlQ1Rj8os78Ec",
        "1568176960vxp0rj",
        SETTLED,
        [
            razorpay_line("pay_DEXrnipqTmWVGE", "payment", 100_000, fee=2_360, tax=360),
            razorpay_line("pay_DEXq1pACSqFxtS", "payment", 300_000, fee=7_080, tax=1_080),
            razorpay_line("rfnd_DGRcGzZSLyEdg1", "refund", 50_000, payment_id="pay_DEXq1pACSqFxtS"),
            razorpay_line("adj_DGRcGzZSLyEdg2", "adjustment", 1_000),
        ],
    )
    other = [razorpay_line("pay_OtherSettled01", "payment", 70_000, fee=1_652, tax=252)]
    fake.settle("setl_OtherSettlemnt", "UTR-OTHER", SETTLED, other)
    return fake


def test_razorpay_recon_is_paged_and_mapped_to_settlement_items() -> None:
    fake, sleeps = recon_fake(), Sleeps()
    lines = razorpay(fake, sleeps, page_size=2).settlement_lines(
        "setl_DGlQ1Rj8os78Ec", date(2026, 3, 3)
    )
    assert (lines.source, lines.currency) == ("razorpay_settlement_recon", "INR")
    assert [
        (i.kind, i.item_ref, i.payment_ref, i.amount_minor, i.fee_minor, i.tax_minor, i.net_minor)
        for i in lines.items
    ] == [
        ("adjustment", "adj_DGRcGzZSLyEdg2", None, 1_000, 0, 0, -1_000),
        ("payment", "pay_DEXq1pACSqFxtS", "pay_DEXq1pACSqFxtS", 300_000, 7_080, 1_080, 292_920),
        ("payment", "pay_DEXrnipqTmWVGE", "pay_DEXrnipqTmWVGE", 100_000, 2_360, 360, 97_640),
        ("refund", "rfnd_DGRcGzZSLyEdg1", "pay_DEXq1pACSqFxtS", 50_000, 0, 0, -50_000),
    ]
    # 5 lines on 3 March: pages of 2, 2 and 1; 4 March: one empty page.
    asked = [
        (r.url.params["day"], r.url.params["count"], r.url.params["skip"]) for r in fake.requests
    ]
    assert asked == [("3", "2", "0"), ("3", "2", "2"), ("3", "2", "4"), ("4", "2", "0")]
    assert all(
        r.url.params["year"] == "2026" and r.url.params["month"] == "3" for r in fake.requests
    )
    assert sleeps == []


def test_razorpay_lines_settled_the_day_after_are_found_once() -> None:
    fake, sleeps = recon_fake(), Sleeps()
    lines = razorpay(fake, sleeps).settlement_lines("setl_DGlQ1Rj8os78Ec", date(2026, 3, 2))
    assert len(lines.items) == 4  # asked for 2 and 3 March: found on the 3rd
    both = razorpay(fake, sleeps).settlement_lines("setl_DGlQ1Rj8os78Ec", date(2026, 3, 3))
    assert both == lines


def stripe_fake() -> FakeStripeBalance:
    fake = FakeStripeBalance()
    fake.pay_out(
        "po_1OaFDbEcg9tTZuTgNYmX0PKB",
        [
            stripe_charge("txn_1", PI, CH, 200_000, 8_850, tax=1_350, created=1772438400),
            stripe_charge("txn_2", "pi_2", "ch_2", 100_000, 4_425, tax=675, created=1772438500),
            stripe_refund(
                "txn_3", PI, CH, "re_3MtwBwLkdIwHu7ix0Q7qDkQb", 50_000, created=1772438600
            ),
        ],
    )
    return fake


def test_stripe_payout_transactions_are_paged_and_mapped_to_settlement_items() -> None:
    fake, sleeps = stripe_fake(), Sleeps()
    lines = stripe(fake, sleeps, page_size=2).settlement_lines("po_1OaFDbEcg9tTZuTgNYmX0PKB")
    assert (lines.source, lines.currency) == ("stripe_balance_transactions", "INR")
    assert [
        (i.kind, i.item_ref, i.payment_ref, i.amount_minor, i.fee_minor, i.tax_minor, i.net_minor)
        for i in lines.items
    ] == [
        ("payment", "txn_1", PI, 200_000, 8_850, 1_350, 191_150),
        ("payment", "txn_2", "pi_2", 100_000, 4_425, 675, 95_575),
        ("refund", "txn_3", PI, 50_000, 0, 0, -50_000),
    ]
    # The payout's own line and 3 more, 2 a page: the second page starts after the
    # last id of the first.
    pages = [dict(r.url.params.multi_items()) for r in fake.requests]
    assert [p.get("starting_after") for p in pages] == [None, "txn_3"]
    assert all(p["expand[]"] == "data.source" and p["limit"] == "2" for p in pages)


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_an_injected_429_and_503_are_retried(provider: str) -> None:
    sleeps = Sleeps()
    if provider == "razorpay":
        rzp = recon_fake()
        rzp.fail_next(429, retry_after="7")
        rzp.fail_next(503)
        lines = razorpay(rzp, sleeps).settlement_lines("setl_DGlQ1Rj8os78Ec", date(2026, 3, 3))
        assert len(lines.items) == 4
    else:
        fake = stripe_fake()
        fake.fail_next(429, retry_after="7")
        fake.fail_next(503)
        assert len(stripe(fake, sleeps).settlement_lines("po_1OaFDbEcg9tTZuTgNYmX0PKB").items) == 3
    assert sleeps[0] == 7.0  # Retry-After honoured
    assert len(sleeps) == 2 and 0 < sleeps[1] <= 30  # then backoff


def test_a_persistent_outage_is_unavailable_after_the_retries() -> None:
    fake, sleeps = stripe_fake(), Sleeps()
    fake.fail_next(503, times=5)
    with pytest.raises(GatewayUnavailable, match="stripe still failing after 5 attempts"):
        stripe(fake, sleeps).settlement_lines("po_1OaFDbEcg9tTZuTgNYmX0PKB")
    assert len(fake.requests) == 5 and len(sleeps) == 4


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_bad_credentials_are_a_clear_error_at_once(provider: str) -> None:
    sleeps = Sleeps()
    with pytest.raises(GatewayAuthError) as raised:
        if provider == "razorpay":
            rzp = recon_fake()
            client = RazorpayReconClient(rzp.client(), rzp.key_id, "wrong-secret", sleep=sleeps)
            client.settlement_lines("setl_DGlQ1Rj8os78Ec", date(2026, 3, 3))
        else:
            fake = stripe_fake()
            wrong = StripeBalanceClient(fake.client(), "sk_test_wrong", sleep=sleeps)
            wrong.settlement_lines("po_1OaFDbEcg9tTZuTgNYmX0PKB")
    message = str(raised.value)
    assert f"{provider} answered HTTP 401" in message and "credentials" in message
    assert "wrong" not in message
    assert sleeps == []


# --- the job, end to end on a local platform --------------------------------------------

D = date(2026, 3, 2)  # the captures' day (IST); the webhooks' created_at is 13:30 IST
AS_OF = date(2026, 3, 10)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeRazorpayRecon, FakeStripeBalance]]:
    rzp, stp = FakeRazorpayRecon(), FakeStripeBalance()

    def route(request: httpx.Request) -> httpx.Response:
        fake = rzp if request.url.host == "api.razorpay.com" else stp
        return fake.handle(request)

    monkeypatch.setattr(
        settlement_detail, "open_http", lambda: httpx.Client(transport=httpx.MockTransport(route))
    )
    yield rzp, stp


@pytest.fixture
def client(platform: Platform, fakes: tuple[FakeRazorpayRecon, FakeStripeBalance]) -> FlaskClient:
    rzp, stp = fakes
    platform.settings = platform.settings.model_copy(
        update={
            "stripe_webhook_secret": SecretStr(STRIPE_SECRET),
            "razorpay_webhook_secret": SecretStr(RAZORPAY_SECRET),
            "payments_tenant_id": PAYMENTS_TENANT,
            "razorpay_key_id": SecretStr(rzp.key_id),
            "razorpay_key_secret": SecretStr(rzp.key_secret),
            "stripe_api_key": SecretStr(stp.api_key),
        }
    )
    app = create_server().test_client()
    response = app.post("/commands/book_appointment", json=booking(), headers=bearer())
    assert response.status_code == 201, response.get_json()
    return app


def settle_both(client: FlaskClient, rzp: FakeRazorpayRecon, stp: FakeStripeBalance) -> None:
    """A Razorpay capture (fee 4_720, tax 720) and a Stripe one (fee not in the webhook),
    each paid out by a settlement whose webhook lists nothing."""
    post_razorpay(client, razorpay_event("payment.captured", rzp_payment()), "e-cap")
    stripe_link = {
        "mymedic_tenant": TENANT,
        "mymedic_branch": BRANCH,
        "mymedic_appointment": "apt-1",
        "mymedic_payment_id": "pay-stripe-1",
    }
    paid = stripe_event("payment_intent.succeeded", intent(300_000, stripe_link), "evt_s")
    assert post_stripe(client, paid).status_code == 200
    settlement = {
        "id": "setl_DGlQ1Rj8os78Ec",
        "entity": "settlement",
        "amount": 195_280,
        "status": "processed",
        "fees": 4_720,
        "tax": 720,
        "utr": "1568176960vxp0rj",
        "created_at": 1772438400,
    }
    body = razorpay_event("settlement.processed", {"settlement": {"entity": settlement}})
    assert post_razorpay(client, body, "e-set").status_code == 200
    payout = {
        "id": "po_1OaFDbEcg9tTZuTgNYmX0PKB",
        "object": "payout",
        "amount": 291_150,
        "arrival_date": 1772524800,
        "currency": "inr",
        "metadata": {},
        "status": "paid",
    }
    assert post_stripe(client, stripe_event("payout.paid", payout, "evt_p")).status_code == 200
    line = razorpay_line("pay_DESlfW9H8K9uqM", "payment", 200_000, fee=4_720, tax=720)
    rzp.settle("setl_DGlQ1Rj8os78Ec", "1568176960vxp0rj", SETTLED, [line])
    stp.pay_out(
        "po_1OaFDbEcg9tTZuTgNYmX0PKB", [stripe_charge("txn_1", PI, CH, 300_000, 8_850, tax=1_350)]
    )


def reasons(platform: Platform, day: date) -> list[tuple[str, str]]:
    return [
        (item.reason, item.reference)
        for result in run_day(platform.store, day, as_of=AS_OF)
        for item in result.unmatched
    ]


def itemized(platform: Platform) -> list[Any]:
    return [
        stored.envelope
        for stored in platform.store.read_all(limit=100_000)
        if stored.envelope.event_type == "gateway.settlement_itemized"
    ]


def test_the_job_itemizes_both_settlements_once_and_the_day_is_settled(
    client: FlaskClient, platform: Platform, fakes: tuple[FakeRazorpayRecon, FakeStripeBalance]
) -> None:
    settle_both(client, *fakes)
    before = reasons(platform, D) + reasons(platform, D + timedelta(days=1))
    assert ("not_itemized", "setl_DGlQ1Rj8os78Ec") in before
    assert ("not_itemized", "po_1OaFDbEcg9tTZuTgNYmX0PKB") in before
    assert ("not_settled", "pay_DESlfW9H8K9uqM") in before

    first = client.post("/jobs/settlement-detail")
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {
        "job": "settlement-detail",
        "itemized": 2,
        "already": 0,
        "failed": [],
        "split": 2,  # each settlement's lines to the clinic whose payment they pay out
    }
    razorpay_event_, stripe_event_ = sorted(itemized(platform), key=lambda env: env.stream_id)
    assert razorpay_event_.stream_id == "settlement:razorpay:setl_DGlQ1Rj8os78Ec"
    assert razorpay_event_.tenant_id == PAYMENTS_TENANT and razorpay_event_.stream_version == 2
    assert razorpay_event_.payload["source"] == "razorpay_settlement_recon"
    assert [i["net_minor"] for i in razorpay_event_.payload["items"]] == [195_280]
    assert stripe_event_.stream_id == "settlement:stripe:po_1OaFDbEcg9tTZuTgNYmX0PKB"
    assert stripe_event_.payload["items"][0]["payment_ref"] == PI

    count = len(platform.store.read_all(limit=100_000))
    again = client.post("/jobs/settlement-detail").get_json()
    assert again == {
        "job": "settlement-detail",
        "itemized": 0,
        "already": 2,
        "failed": [],
        "split": 0,
    }
    assert len(platform.store.read_all(limit=100_000)) == count

    [day] = run_day(platform.store, D, as_of=AS_OF, tenant=TENANT)
    assert day.captured_minor == 500_000
    # Razorpay 200_000 - 4_720; Stripe 300_000 - 8_850 (its fee from the payout line)
    assert day.settled_minor == 195_280 + 291_150
    assert (day.fees_minor, day.tax_minor) == (4_720 + 8_850, 720 + 1_350)
    after = reasons(platform, D) + reasons(platform, D + timedelta(days=1))
    assert not [r for r in after if r[0] in {"not_settled", "not_itemized", "settlement_mismatch"}]


def test_an_unconfigured_provider_is_reported_and_left_alone(
    client: FlaskClient, platform: Platform, fakes: tuple[FakeRazorpayRecon, FakeStripeBalance]
) -> None:
    settle_both(client, *fakes)
    platform.settings = platform.settings.model_copy(update={"stripe_api_key": None})
    body = client.post("/jobs/settlement-detail").get_json()
    assert (body["itemized"], body["already"]) == (1, 0)
    [failed] = body["failed"]
    assert failed["provider"] == "stripe"
    assert "MYMEDIC_STRIPE_API_KEY" in failed["error"]
    [only] = itemized(platform)
    assert only.stream_id.startswith("settlement:razorpay:")
    assert fakes[1].requests == []


def test_a_provider_outage_answers_503_and_the_next_run_catches_up(
    client: FlaskClient, platform: Platform, fakes: tuple[FakeRazorpayRecon, FakeStripeBalance]
) -> None:
    rzp, stp = fakes
    settle_both(client, rzp, stp)
    stp.fail_next(503, times=5, retry_after="0")
    response = client.post("/jobs/settlement-detail")
    assert response.status_code == 503
    body = response.get_json()
    assert (body["error"], body["itemized"]) == ("unavailable", 1)
    assert [f["provider"] for f in body["failed"]] == ["stripe"]
    again = client.post("/jobs/settlement-detail").get_json()
    assert (again["itemized"], again["already"], again["failed"]) == (1, 1, [])


def test_a_settlement_the_recon_does_not_list_yet_waits_for_the_next_run(
    client: FlaskClient, platform: Platform, fakes: tuple[FakeRazorpayRecon, FakeStripeBalance]
) -> None:
    rzp, stp = fakes
    settle_both(client, rzp, stp)
    published = list(rzp.lines)
    rzp.lines.clear()  # Razorpay publishes the recon after the payout
    body = client.post("/jobs/settlement-detail").get_json()
    assert (body["itemized"], body["failed"]) == (
        1,
        [
            {
                "provider": "razorpay",
                "settlement_ref": "setl_DGlQ1Rj8os78Ec",
                "error": "the gateway lists no lines for it yet",
            }
        ],
    )
    rzp.lines.extend(published)
    again = client.post("/jobs/settlement-detail").get_json()
    assert (again["itemized"], again["already"], again["failed"]) == (1, 1, [])
