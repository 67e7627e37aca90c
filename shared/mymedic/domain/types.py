"""Constrained scalar types shared by events and commands."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MinorUnits = Annotated[int, Field(ge=0, le=10**12)]


def _require_timezone(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone offset (e.g. 2026-01-31T09:30:00Z)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_timezone)]


class Channel(StrEnum):
    PORTAL = "portal"
    PHONE = "phone"
    CONSOLE = "console"
    ZOHO = "zoho"


class PaymentMode(StrEnum):
    UPI = "upi"
    CARD = "card"
    CASH = "cash"


class PayerType(StrEnum):
    SELF_PAY = "self_pay"
    INSURER = "insurer"
    CORPORATE = "corporate"
    GOVERNMENT = "government"


class ReferrerType(StrEnum):
    GP = "gp"
    CONSULTANT = "consultant"
    SELF = "self"
    INSURER = "insurer"
    CORPORATE = "corporate"
    OTHER = "other"


class PaymentKind(StrEnum):
    DEPOSIT = "deposit"  # taken ahead of the visit; may be forfeited by a late cancellation
    PAYMENT = "payment"  # any other payment towards the appointment's price


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
