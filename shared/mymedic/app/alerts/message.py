"""The alert e-mail: one per rule and window, listing what fired and why, with the
numbers, and where to read the report behind it (or what to do next)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from email.message import EmailMessage
from html import escape
from urllib.parse import urlencode

from mymedic.domain.alert_rules import ALL_BRANCHES, AnyRule, DataQualityRule, Firing
from mymedic.domain.alerts import window

# The report of the catalogue behind each metric (stale data and data quality have none).
REPORT_OF_METRIC = {
    "low_utilization": "utilization",
    "receivables_aging": "receivables-aging",
    "nps_drop": "nps",
    "no_show_spike": "no-shows",
}


def report_range(rule: AnyRule, end: date) -> tuple[date, date]:
    """The days the report should show: the window, and the windows it was compared to."""
    days = getattr(rule, "window_days", 1)
    back = {"nps_drop": 1, "no_show_spike": getattr(rule, "baseline_windows", 0)}
    return window(days, end, back=back.get(rule.metric, 0))[0], end


def report_link(
    base_url: str | None, report: str, tenant: str, start: date, end: date
) -> tuple[str, bool]:
    """A URL (True) when reports have a base URL, else the command line to run (False)."""
    if base_url:
        query = urlencode({"tenant": tenant, "from": start.isoformat(), "to": end.isoformat()})
        return f"{base_url.rstrip('/')}/reports/{report}?{query}", True
    return f"mymedic report {report} --tenant {tenant} --from {start} --to {end}", False


def subject_line(rule: AnyRule, firings: Sequence[Firing]) -> str:
    branches = sorted({firing.branch_id for firing in firings})
    if branches == [ALL_BRANCHES]:
        where = "all branches"
    elif len(branches) == 1:
        where = branches[0]
    else:
        where = f"{len(branches)} branches"
    start, end = firings[0].window_start, firings[0].window_end
    span = end.isoformat() if start == end else f"{start}..{end}"
    return f"[MyMedic] {rule.metric} {where} {span}"


def alert_message(
    tenant: str,
    rule: AnyRule,
    firings: Sequence[Firing],
    end: date,
    base_url: str | None,
) -> EmailMessage:
    message = EmailMessage()
    message["To"] = ", ".join(rule.recipients)
    message["Subject"] = subject_line(rule, firings)
    start = firings[0].window_start
    intro = (
        f"Alert rule {rule.rule_id} ({rule.metric}) of {tenant} fired for the window "
        f"{start} to {end}."
    )
    last_line, footer = next_step(tenant, rule, end, base_url)
    reasons = [f"- {f.reason}" for f in firings]
    lines = [intro, "", "What fired and why:", *reasons, "", last_line]
    message.set_content("\n".join(lines) + "\n")
    items = "".join(f"<li>{escape(f.reason)}</li>" for f in firings)
    message.add_alternative(
        f"<html><body><p>{escape(intro)}</p><p>What fired and why:</p><ul>{items}</ul>"
        f"{footer}</body></html>",
        subtype="html",
    )
    return message


def next_step(tenant: str, rule: AnyRule, end: date, base_url: str | None) -> tuple[str, str]:
    """The e-mail's last line, as text and as HTML: the report behind the figures, the
    command listing quarantined records, or where to look."""
    if isinstance(rule, DataQualityRule):
        command = f"mymedic {rule.source} quarantine --tenant {tenant}"
        what = "To see which records and why (never their values), run"
        return f"{what} `{command}`", f"<p>{escape(what)} <code>{escape(command)}</code></p>"
    report = REPORT_OF_METRIC.get(rule.metric)
    if report is None:
        return (
            "Check the integration's webhooks and scheduled syncs.",
            "<p>Check the integration's webhooks and scheduled syncs.</p>",
        )
    link, is_url = report_link(base_url, report, tenant, *report_range(rule, end))
    if is_url:
        return f"Report: {link}", f'<p>Report: <a href="{escape(link)}">{escape(report)}</a></p>'
    return f"Report: run `{link}`", f"<p>Report: run <code>{escape(link)}</code></p>"
