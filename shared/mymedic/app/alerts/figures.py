"""The alert rules and the figures they need, read from the warehouse (after the job
brought it up to date). Only the metrics a tenant's rules use are queried, each over
the days its rules look at."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import TypeAdapter

from mymedic.domain.alert_rules import (
    AlertRule,
    AnyRule,
    DataQualityRule,
    LowUtilizationRule,
    NoShowSpikeRule,
    NpsDropRule,
    ReceivablesAgingRule,
    StaleDataRule,
)
from mymedic.domain.alerts import (
    Figures,
    NoShowDay,
    NpsDay,
    QuarantinedRecord,
    ReceivableMovement,
    UtilizationDay,
    window,
)
from mymedic.ports import DateRange, Warehouse

_RULE: TypeAdapter[AnyRule] = TypeAdapter(AlertRule)
_EPOCH = date(1970, 1, 1)


def load_rules(warehouse: Warehouse, tenant: str | None) -> dict[str, list[AnyRule]]:
    """The enabled rules of one tenant (None: of every tenant), by tenant."""
    rows = warehouse.query("cfg_alert_rule", {"tenant_id": tenant} if tenant else None)
    rules: dict[str, list[AnyRule]] = defaultdict(list)
    for row in rows:
        if row["removed"] or not row["enabled"] or row["rule_json"] is None:
            continue
        rules[row["tenant_id"]].append(_RULE.validate_json(row["rule_json"]))
    return dict(rules)


def load_figures(warehouse: Warehouse, tenant: str, rules: Sequence[AnyRule], end: date) -> Figures:
    tenant_only = {"tenant_id": tenant}
    utilization = [r for r in rules if isinstance(r, LowUtilizationRule)]
    no_shows = [r for r in rules if isinstance(r, NoShowSpikeRule)]
    nps = [r for r in rules if isinstance(r, NpsDropRule)]
    receivables = [r for r in rules if isinstance(r, ReceivablesAgingRule)]
    figures: dict[str, Any] = {}
    if utilization:
        start = min(window(r.window_days, end)[0] for r in utilization)
        rows = warehouse.query("rpt_utilization", tenant_only, between=_days("day", start, end))
        figures["utilization"] = tuple(
            UtilizationDay(
                r["branch_id"],
                r["subject"],
                r["subject_id"],
                r["day"],
                r["available_minutes"],
                r["booked_minutes"],
            )
            for r in rows
        )
    if no_shows:
        start = min(window(r.window_days, end, back=r.baseline_windows)[0] for r in no_shows)
        rows = warehouse.query("rpt_no_show", tenant_only, between=_days("day", start, end))
        figures["no_shows"] = tuple(
            NoShowDay(r["branch_id"], r["day"], r["appointments"], r["no_shows"]) for r in rows
        )
    if nps:
        start = min(window(r.window_days, end, back=1)[0] for r in nps)
        rows = warehouse.query("rpt_nps", tenant_only, between=_days("day", start, end))
        figures["nps"] = tuple(
            NpsDay(r["branch_id"], r["day"], r["responses"], r["promoters"], r["detractors"])
            for r in rows
            if r["branch_id"] is not None
        )
    if receivables:
        # Only invoices due before the earliest cut-off can be overdue enough.
        due_by = end - timedelta(days=min(r.over_days for r in receivables) + 1)
        rows = warehouse.query(
            "rpt_receivables_movement", tenant_only, between=_days("due_on", _EPOCH, due_by)
        )
        figures["receivables"] = tuple(
            ReceivableMovement(
                r["branch_id"],
                r["currency"],
                r["invoice_id"],
                r["due_on"],
                r["on_date"],
                r["amount_minor"],
            )
            for r in rows
        )
    if any(isinstance(r, StaleDataRule) for r in rules):
        rows = warehouse.query("source_activity", tenant_only)
        figures["last_seen"] = {r["source"]: r["last_recorded_at"] for r in rows}
    if any(isinstance(r, DataQualityRule) for r in rules):
        rows = warehouse.query("integration_quarantine", tenant_only)
        figures["quarantined"] = tuple(
            QuarantinedRecord(r["source"], r["module"], r["quarantined_at"], r["resolved_at"])
            for r in rows
        )
    return Figures(**figures)


def _days(column: str, start: date, end: date) -> DateRange:
    return DateRange(column, start, max(start, end))
