"""Where an alert e-mail sends its reader: the dashboard page (looker/dashboards) that
shows the figure behind the alert, or, where no page shows it, the closest one, saying
so. The page is reached through the tenant's Looker Studio report when one is configured
(``looker_report_urls``), else through the preview ``mymedic serve`` answers at
``<report_base_url>/dashboards/<dashboard>?tenant=T#<page>``, else by the command that
writes the preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from mymedic.dashboards.model import Dashboard, Page, load_dashboards
from mymedic.domain.alert_rules import AnyRule, DataQualityRule, StaleDataRule


@dataclass(frozen=True)
class Place:
    dashboard: str
    page: str
    # None: the page shows the figure; else why this page, which does not, is the closest.
    closest: str | None = None


PLACES: dict[str, Place] = {
    "receivables_aging": Place("revenue", "leakage"),
    # Its no-show counts by branch and month (rpt_patient_volume); the rule's daily
    # rate is in the no-shows report.
    "no_show_spike": Place("operations", "volume"),
    "low_utilization": Place(
        "operations",
        "volume",
        "No dashboard page shows utilization; the closest is Patient volume: the scans, "
        "cancellations and no-shows that fill the rooms' and clinicians' hours.",
    ),
    "nps_drop": Place(
        "operations",
        "waiting",
        "No dashboard page shows NPS; the closest is Waiting time: the booking lead "
        "times patients feel.",
    ),
}
# Stale data and data quality: no page shows when a source last sent anything or what
# was quarantined; the closest is the page the source's data feeds.
SOURCE_PLACES: dict[str, tuple[str, str]] = {
    "zoho": ("operations", "volume"),
    "stripe": ("finance", "settlements"),
    "razorpay": ("finance", "settlements"),
    "google_ads": ("marketing", "google-ads"),
}


def place_of(rule: AnyRule) -> Place:
    if isinstance(rule, StaleDataRule | DataQualityRule):
        dashboard, page = SOURCE_PLACES[rule.source]
        what = (
            "when a source last sent data"
            if isinstance(rule, StaleDataRule)
            else "quarantined records"
        )
        title = _page(dashboard, page)[1].title
        return Place(
            dashboard,
            page,
            f"No dashboard page shows {what}; the closest is {title}: what "
            f"{rule.source}'s data feeds.",
        )
    return PLACES[rule.metric]


@dataclass(frozen=True)
class DashboardLink:
    label: str  # "Revenue, page Leakage and receivables"
    url: str | None  # None: ``command`` shows it
    command: str  # the local preview of the tenant's dashboards
    how: str | None = None  # what to do once there (Looker Studio: the page, the tenant)


def dashboard_link(
    place: Place, tenant: str, looker_urls: Mapping[str, str], base_url: str | None
) -> DashboardLink:
    dashboard, page = _page(place.dashboard, place.page)
    label = f"{dashboard.title.split(':')[0]}, page {page.title}"
    command = f"mymedic dashboard --open --tenant {tenant}"
    choose = f"choose {tenant} in its tenant control"
    page_url = looker_urls.get(f"{dashboard.name}/{page.id}")
    if page_url:
        return DashboardLink(label, page_url, command, f"in Looker Studio: {choose}")
    report_url = looker_urls.get(dashboard.name)
    if report_url:
        how = f"in Looker Studio: open its page {page.title} and {choose}"
        return DashboardLink(label, report_url, command, how)
    if base_url:
        query = urlencode({"tenant": tenant})
        url = f"{base_url.rstrip('/')}/dashboards/{quote(dashboard.name)}?{query}#{page.id}"
        return DashboardLink(label, url, command)
    return DashboardLink(label, None, command)


def _page(dashboard_name: str, page_id: str) -> tuple[Dashboard, Page]:
    dashboard = next(d for d in load_dashboards() if d.name == dashboard_name)
    return dashboard, next(p for p in dashboard.pages if p.id == page_id)
