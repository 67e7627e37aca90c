"""What a gateway webhook says, normalised across providers, before it becomes events.

Linking keys: when the platform initiates a payment it sets these keys in the Stripe
PaymentIntent's ``metadata`` or the Razorpay order's/payment's ``notes``; the gateway
echoes them in every webhook about that payment:

- ``mymedic_tenant``: the tenant (required for anything to be applied);
- ``mymedic_branch``: the branch (else the appointment's own);
- ``mymedic_appointment``: the appointment the money is for;
- ``mymedic_invoice``: the invoice the money settles (with or without an appointment);
- ``mymedic_payment_id``: our payment id (else the provider's payment id);
- ``mymedic_kind``: ``deposit`` or ``payment`` (the default);
- ``mymedic_refund_id``: on a refund we asked the gateway for (Stripe refund
  ``metadata``, Razorpay refund ``notes``), our refund id: the gateway's refund is then
  matched to the refund we recorded, not applied a second time.

Refunds and disputes usually carry no metadata of their own: they inherit the links
of the payment (recorded on its gateway stream, or embedded in the webhook).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mymedic.domain.types import PaymentKind

Provider = Literal["stripe", "razorpay"]
FactKind = Literal["captured", "failed", "refund", "dispute", "settlement"]

TENANT_KEY = "mymedic_tenant"
BRANCH_KEY = "mymedic_branch"
APPOINTMENT_KEY = "mymedic_appointment"
INVOICE_KEY = "mymedic_invoice"
PAYMENT_ID_KEY = "mymedic_payment_id"
KIND_KEY = "mymedic_kind"
REFUND_ID_KEY = "mymedic_refund_id"
LINK_KEYS = (
    TENANT_KEY,
    BRANCH_KEY,
    APPOINTMENT_KEY,
    INVOICE_KEY,
    PAYMENT_ID_KEY,
    KIND_KEY,
    REFUND_ID_KEY,
)

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class UnusablePayload(ValueError):
    """A verified webhook whose body lacks what its event type needs (HTTP 422)."""


@dataclass(frozen=True)
class PaymentLink:
    """The keys we set on a payment; ``invalid`` names keys whose value is unusable."""

    tenant_id: str | None = None
    branch_id: str | None = None
    appointment_id: str | None = None
    invoice_id: str | None = None
    payment_id: str | None = None
    kind: PaymentKind = PaymentKind.PAYMENT
    refund_id: str | None = None
    invalid: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self == PaymentLink()

    def merged(self, fallback: PaymentLink) -> PaymentLink:
        """These links, completed by ``fallback``'s where these have none."""
        if self.empty:
            return fallback
        return PaymentLink(
            tenant_id=self.tenant_id or fallback.tenant_id,
            branch_id=self.branch_id or fallback.branch_id,
            appointment_id=self.appointment_id or fallback.appointment_id,
            invoice_id=self.invoice_id or fallback.invoice_id,
            payment_id=self.payment_id or fallback.payment_id,
            kind=self.kind if self.kind is not PaymentKind.PAYMENT else fallback.kind,
            refund_id=self.refund_id or fallback.refund_id,
            invalid=self.invalid,
        )


def link_from(values: Any) -> PaymentLink:
    """The links in a metadata/notes object (Razorpay sends ``[]`` for empty notes)."""
    if not isinstance(values, Mapping):
        return PaymentLink()
    found: dict[str, str] = {}
    invalid: list[str] = []
    for key in LINK_KEYS:
        value = values.get(key)
        if value is None or value == "":
            continue
        text = str(value)
        if key == KIND_KEY:
            if text not in {kind.value for kind in PaymentKind}:
                invalid.append(key)
            else:
                found[key] = text
        elif _IDENTIFIER.match(text):
            found[key] = text
        else:
            invalid.append(key)
    return PaymentLink(
        tenant_id=found.get(TENANT_KEY),
        branch_id=found.get(BRANCH_KEY),
        appointment_id=found.get(APPOINTMENT_KEY),
        invoice_id=found.get(INVOICE_KEY),
        payment_id=found.get(PAYMENT_ID_KEY),
        kind=PaymentKind(found.get(KIND_KEY, PaymentKind.PAYMENT.value)),
        refund_id=found.get(REFUND_ID_KEY),
        invalid=tuple(invalid),
    )


@dataclass(frozen=True)
class GatewayFact:
    """One fact of one provider event. ``ref`` is the refund, dispute or settlement id
    for those kinds; ``status`` their status, already in our vocabulary."""

    kind: FactKind
    provider: Provider
    provider_event_id: str
    provider_event_type: str
    occurred_at: datetime
    payment_ref: str | None  # None only for settlements
    amount_minor: int
    currency: str
    link: PaymentLink = field(default_factory=PaymentLink)
    ref: str | None = None
    status: str | None = None
    fee_minor: int | None = None
    tax_minor: int | None = None
    method: str | None = None
    detail: str | None = None  # failure code, dispute reason
    bank_reference: str | None = None
    settled_at: datetime | None = None
    payment_refs: tuple[str, ...] = ()  # of a settlement, when the payload lists them


def minor(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnusablePayload(f"{what} must be a non-negative integer (minor units)")
    return value


def optional_minor(value: Any, what: str) -> int | None:
    return None if value is None else minor(value, what)


def currency(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise UnusablePayload("currency must be a three-letter ISO code")
    return value.upper()


def ref(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise UnusablePayload(f"{what} is missing or not a provider id")
    return value


def instant(value: Any, what: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnusablePayload(f"{what} must be a Unix timestamp")
    return datetime.fromtimestamp(value, UTC)


def short(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:200]


def obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnusablePayload(f"{what} must be an object")
    return value
