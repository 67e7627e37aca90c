"""The demo's money close: the gateway's webhooks through the HTTP handler, the
settlement-detail job against the gateway's recon, and the reconciliation of every day,
summed per tenant and currency for the console and written for the finance console."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from mymedic.bootstrap import Platform
from mymedic.demo.gateway import GatewayTraffic
from mymedic.domain.money import minor_unit_exponent
from mymedic.domain.reconciliation import DayReconciliation
from mymedic.integrations.payments.razorpay_webhook import EVENT_ID_HEADER, SIGNATURE_HEADER
from mymedic.integrations.payments.settlement_detail import (
    DetailOutcome,
    fetchers_from_settings,
    itemize_settlements,
)

FIGURES = (
    ("expected", "expected_minor"),
    ("captured", "captured_minor"),
    ("fees+GST", "fees_minor"),
    ("settled", "settled_minor"),
    ("awaiting", "awaiting_settlement_minor"),
    ("cash", "cash_minor"),
    ("refunds", "refunds_minor"),
    ("forfeited", "forfeitures_minor"),
    ("outstanding", "outstanding_minor"),
)


def send_webhooks(client: Any, traffic: GatewayTraffic, secret: str) -> Counter[int]:
    """POST every webhook, signed, as Razorpay would; the answers' status counts."""
    statuses: Counter[int] = Counter()
    for hook in traffic.webhooks:
        response = client.post(
            "/webhooks/razorpay",
            data=hook.body,
            headers={
                SIGNATURE_HEADER: hook.signature(secret),
                EVENT_ID_HEADER: hook.event_id,
                "Content-Type": "application/json",
            },
        )
        statuses[response.status_code] += 1
    return statuses


def itemize(platform: Platform, traffic: GatewayTraffic) -> DetailOutcome:
    """The settlement-detail job, its Razorpay client pointed at the demo's recon."""
    recon = traffic.recon
    settings = platform.settings.model_copy(
        update={
            "razorpay_key_id": SecretStr(recon.key_id),
            "razorpay_key_secret": SecretStr(recon.key_secret),
        }
    )
    with recon.client() as http:
        fetchers = fetchers_from_settings(settings, http)
        outcome = itemize_settlements(platform.store, fetchers, clock=platform.clock)
    platform.relay.drain()
    return outcome


@dataclass
class TenantClose:
    tenant_id: str
    currency: str
    days: set[date] = field(default_factory=set)
    figures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unmatched: Counter[str] = field(default_factory=Counter)


def summarize(results: list[DayReconciliation]) -> list[TenantClose]:
    closes: dict[tuple[str, str], TenantClose] = {}
    for result in results:
        key = (result.tenant_id, result.currency)
        close = closes.setdefault(key, TenantClose(*key))
        close.days.add(result.day)
        document = result.to_document()
        for _, name in FIGURES:
            close.figures[name] += document[name]
        close.unmatched.update(f"{item.side}:{item.reason}" for item in result.unmatched)
    return [closes[key] for key in sorted(closes)]


def print_close(closes: list[TenantClose], first: date, last: date, console: Console) -> None:
    table = Table(title=f"Reconciliation {first.isoformat()} to {last.isoformat()} (major units)")
    table.add_column("tenant")
    table.add_column("cur")
    table.add_column("days", justify="right")
    for heading, _ in FIGURES:
        table.add_column(heading, justify="right")
    for close in closes:
        table.add_row(
            close.tenant_id,
            close.currency,
            str(len(close.days)),
            *(_major(close.figures[name], close.currency) for _, name in FIGURES),
        )
    console.print(table)
    items = Table(title="Unmatched items, by side and reason")
    for heading in ("tenant", "side:reason", "items"):
        items.add_column(heading, justify="right" if heading == "items" else "left")
    for close in closes:
        for reason, count in sorted(close.unmatched.items()):
            items.add_row(close.tenant_id, reason, str(count))
    console.print(items)


def _major(amount_minor: int, currency: str) -> str:
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):,.{exponent}f}"
