"""Refunds with and without credit notes, and a payment whose metadata names both the
visit and its invoice, through the reports a finance lead closes the month on, worked
out by hand. Stripe webhooks signed as Stripe signs them; one branch in Pune (INR,
+05:30); all synthetic (secrets included)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from mymedic.bootstrap import Platform
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking
from tests.webhooks import send_stripe, stripe_body

SECRET = "whsec_test_only_credit_notes_0123456789"  # noqa: S105 - synthetic
MARCH = date(2026, 3, 1)


def _command(client: FlaskClient, name: str, body: dict[str, Any]) -> None:
    body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
    response = client.post(f"/commands/{name}", json=body, headers=bearer())
    assert response.status_code == 201, (name, response.get_json())


def _stripe(client: FlaskClient, event_id: str, kind: str, obj: dict[str, Any], at: int) -> None:
    send_stripe(client, SECRET, stripe_body(event_id, kind, obj, at))


def _paid_and_refunded(client: FlaskClient, n: int, refund: int | None) -> None:
    """apt-n completed on 10 March, invoiced 850,000, paid in full by card through
    Stripe (the metadata names the visit AND the invoice), and ``refund`` of it
    refunded at Stripe on 12 March."""
    apt, invoice, intent_id = f"apt-{n}", f"inv-{n}", f"pi_CreditNote000{n}"
    start = f"2026-03-10T{9 + n}:00:00+05:30"
    response = client.post(
        "/commands/book_appointment",
        json=booking(apt, patient_id=f"pat-{n}", start_at=start),
        headers=bearer(),
    )
    assert response.status_code == 201, response.get_json()
    _command(client, "mark_arrived", {"appointment_id": apt})
    _command(client, "complete_appointment", {"appointment_id": apt})
    _command(
        client,
        "issue_invoice",
        {
            "invoice_id": invoice,
            "appointment_id": apt,
            "patient_id": f"pat-{n}",
            "payer_type": "self_pay",
            "amount_minor": 850_000,
            "currency": "INR",
            "due_on": "2026-03-10",
            "occurred_at": "2026-03-10T12:00:00+05:30",
        },
    )
    metadata = {
        "mymedic_tenant": TENANT,
        "mymedic_branch": BRANCH,
        "mymedic_appointment": apt,
        "mymedic_invoice": invoice,
        "mymedic_payment_id": f"card-{n}",
    }
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": 850_000,
        "amount_received": 850_000,
        "currency": "inr",
        "latest_charge": f"ch_CreditNote000{n}",
        "metadata": metadata,
        "payment_method_types": ["card"],
        "status": "succeeded",
    }
    _stripe(client, f"evt_pay{n}", "payment_intent.succeeded", intent, 1773129600)  # 10 Mar
    if refund is None:
        return
    back = {
        "id": f"re_CreditNote000{n}",
        "object": "refund",
        "amount": refund,
        "charge": f"ch_CreditNote000{n}",
        "currency": "inr",
        "metadata": {},
        "payment_intent": intent_id,
        "status": "succeeded",
    }
    _stripe(client, f"evt_ref{n}", "refund.created", back, 1773302400)  # 12 Mar


@pytest.fixture
def ledger(platform: Platform) -> Platform:
    """apt-1: 200,000 refunded with no credit note (the payer owes it again). apt-2: the
    tenant's policy is then set so that a gateway refund credits the invoice: 300,000
    refunded and credited. apt-3: paid in full, then 100,000 credited at the console
    (the clinic owes the payer 100,000: no receivable)."""
    platform.settings = platform.settings.model_copy(
        update={"stripe_webhook_secret": SecretStr(SECRET), "payments_tenant_id": TENANT}
    )
    client = create_server().test_client()
    _paid_and_refunded(client, 1, 200_000)
    _command(client, "set_billing_policy", {"branch_id": "*", "refunds_credit_invoices": True})
    _paid_and_refunded(client, 2, 300_000)
    _paid_and_refunded(client, 3, None)
    credit = {"invoice_id": "inv-3", "credit_note_id": "cn-3", "amount_minor": 100_000}
    credit |= {
        "currency": "INR",
        "reason": "a partial scan",
        "occurred_at": "2026-03-13T10:00:00+05:30",
    }
    _command(client, "issue_credit_note", credit)
    return platform


def test_a_payment_naming_the_visit_and_its_invoice_is_counted_once(ledger: Platform) -> None:
    ledger.catch_up()
    by_mode = ledger.warehouse.query("rpt_payments_by_mode", {"tenant_id": TENANT})
    assert [(r["paid_date"], r["mode"], r["payments"], r["amount_minor"]) for r in by_mode] == [
        (date(2026, 3, 10), "card", 3, 2_550_000)
    ]
    revenue = ledger.warehouse.query("rpt_revenue_breakdown", {"tenant_id": TENANT})
    assert sum(r["billed_minor"] for r in revenue) == 2_550_000  # never billed twice
    assert sum(r["prepaid_minor"] for r in revenue) == 0  # nothing on the visits themselves


def test_a_refund_without_a_credit_note_is_owed_again_and_with_one_is_not(
    ledger: Platform,
) -> None:
    ledger.catch_up()
    warehouse = ledger.warehouse
    [revenue] = warehouse.query("rpt_revenue_breakdown", {"tenant_id": TENANT})
    # Billed 2,550,000; credited 400,000 (apt-2's refund under the policy, apt-3's note);
    # paid 2,550,000 - 200,000 - 300,000 = 2,050,000; owed: apt-1's 200,000 refund,
    # which no credit note covers (apt-3's credit after payment is owed to the payer,
    # never a receivable).
    assert (revenue["billed_minor"], revenue["credited_minor"]) == (2_550_000, 400_000)
    assert (revenue["paid_minor"], revenue["outstanding_minor"]) == (2_050_000, 200_000)
    assert revenue["collection_rate"] == round(2_050_000 / 2_150_000, 4)
    [leakage] = warehouse.query("rpt_leakage", {"tenant_id": TENANT, "month": MARCH})
    assert (leakage["unpaid_invoices"], leakage["unpaid_invoice_minor"]) == (1, 200_000)
    assert (leakage["refunds"], leakage["refund_minor"]) == (2, 500_000)
    assert (leakage["credit_notes"], leakage["credit_note_minor"]) == (2, 400_000)
    today = warehouse.query("rpt_receivables_aging", {"tenant_id": TENANT})
    [march] = [r for r in today if r["as_of_date"] == date(2026, 3, 31)]
    assert (march["invoices"], march["outstanding_minor"]) == (1, 200_000)
    # The read model says the same of each invoice.
    owed = {
        invoice: ledger.documents.get("invoices", TENANT, invoice)["owed_minor"]  # type: ignore[index]
        for invoice in ("inv-1", "inv-2", "inv-3")
    }
    assert owed == {"inv-1": 200_000, "inv-2": 0, "inv-3": 0}
    inv3 = ledger.documents.get("invoices", TENANT, "inv-3")
    assert inv3 is not None and inv3["balance_minor"] == -100_000
