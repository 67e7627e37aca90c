"""The alert e-mail: one per rule and window, listing what fired and why, with the
numbers, the dashboard page that shows the figure (``links``), the report command with
the window's exact figures, and what to do next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from email.message import EmailMessage
from html import escape

from mymedic.app.alerts.links import dashboard_link, place_of
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


def report_command(report: str, tenant: str, start: date, end: date) -> str:
    return f"mymedic report {report} --tenant {tenant} --from {start} --to {end}"


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
    *,
    base_url: str | None,
    looker_urls: Mapping[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["To"] = ", ".join(rule.recipients)
    message["Subject"] = subject_line(rule, firings)
    start = firings[0].window_start
    intro = (
        f"Alert rule {rule.rule_id} ({rule.metric}) of {tenant} fired for the window "
        f"{start} to {end}."
    )
    last_lines, footer = next_step(tenant, rule, end, base_url, looker_urls or {})
    reasons = [f"- {f.reason}" for f in firings]
    lines = [intro, "", "What fired and why:", *reasons, "", *last_lines]
    message.set_content("\n".join(lines) + "\n")
    items = "".join(f"<li>{escape(f.reason)}</li>" for f in firings)
    message.add_alternative(
        f"<html><body><p>{escape(intro)}</p><p>What fired and why:</p><ul>{items}</ul>"
        f"{footer}</body></html>",
        subtype="html",
    )
    return message


def next_step(
    tenant: str,
    rule: AnyRule,
    end: date,
    base_url: str | None,
    looker_urls: Mapping[str, str],
) -> tuple[list[str], str]:
    """The e-mail's last lines, as text and as HTML: the dashboard page (and, where no
    page shows the figure, that it does not), the report with the window's figures, and
    for the integrations what to run or check."""
    place = place_of(rule)
    link = dashboard_link(place, tenant, looker_urls, base_url)
    how = f" ({link.how})" if link.how else ""
    text: list[str] = []
    html: list[str] = []
    if place.closest:
        text.append(place.closest)
        html.append(f"<p>{escape(place.closest)}</p>")
    if link.url is not None:
        text.append(f"Dashboard: {link.label}{how}: {link.url}")
        anchor = f'<a href="{escape(link.url)}">{escape(link.label)}</a>'
        html.append(f"<p>Dashboard: {anchor}{escape(how)}</p>")
    else:
        text.append(f"Dashboard: {link.label}: run `{link.command}`")
        html.append(
            f"<p>Dashboard: {escape(link.label)}: run <code>{escape(link.command)}</code></p>"
        )
    report = REPORT_OF_METRIC.get(rule.metric)
    if report is not None:
        command = report_command(report, tenant, *report_range(rule, end))
        text.append(f"The figures: run `{command}`")
        html.append(f"<p>The figures: run <code>{escape(command)}</code></p>")
    elif isinstance(rule, DataQualityRule):
        command = f"mymedic {rule.source} quarantine --tenant {tenant}"
        what = "To see which records and why (never their values), run"
        text.append(f"{what} `{command}`")
        html.append(f"<p>{escape(what)} <code>{escape(command)}</code></p>")
    else:
        text.append("Check the integration's webhooks and scheduled syncs.")
        html.append("<p>Check the integration's webhooks and scheduled syncs.</p>")
    return text, "".join(html)
