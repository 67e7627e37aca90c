"""Where an alert e-mail links: the dashboard page that shows the alert's figure (or the
closest, saying that none shows it), through Looker Studio when configured, else the
served preview, else the command that writes it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from mymedic.app.alerts.links import PLACES, SOURCE_PLACES
from mymedic.app.alerts.message import REPORT_OF_METRIC, next_step
from mymedic.dashboards.model import load_dashboards
from mymedic.domain.alert_rules import AlertRule, AnyRule
from mymedic.reports.catalog import report
from mymedic.settings import Settings

TENANT = "tenant-a"
END = date(2026, 3, 9)
BASE = "https://dash.clinic.example/"
LOOKER = {
    name: f"https://lookerstudio.google.com/reporting/{name}-id"
    for name in ("operations", "revenue", "marketing", "finance")
} | {"revenue/leakage": "https://lookerstudio.google.com/reporting/revenue-id/page/p_leak"}
_RULE: TypeAdapter[AnyRule] = TypeAdapter(AlertRule)


def _rule(metric: str, **parameters: Any) -> AnyRule:
    base = {"rule_id": "r", "branches": ["*"], "recipients": ["ops@clinic.example"]}
    return _RULE.validate_python({**base, "metric": metric, **parameters})


# Each metric: the rule, the dashboard, its page id, the e-mail's label of the page, and
# whether the page shows the figure (else it is the closest one).
CASES = [
    (
        _rule("low_utilization", subject="room", below_percent=5, window_days=7),
        ("operations", "volume", "Operations, page Patient volume", False),
    ),
    (
        _rule("receivables_aging", over_days=30, above_minor=1, currency="INR"),
        ("revenue", "leakage", "Revenue, page Leakage and receivables", True),
    ),
    (
        _rule("nps_drop", window_days=7, drop_points=20, min_responses=3),
        ("operations", "waiting", "Operations, page Waiting time", False),
    ),
    (
        _rule("no_show_spike", window_days=7, rate_above_percent=20, min_appointments=5),
        ("operations", "volume", "Operations, page Patient volume", True),
    ),
    (
        _rule("stale_data", source="razorpay", hours=24),
        ("finance", "settlements", "Finance, page Settlements", False),
    ),
    (
        _rule("stale_data", source="stripe", hours=24),
        ("finance", "settlements", "Finance, page Settlements", False),
    ),
    (
        _rule("stale_data", source="google_ads", hours=24),
        ("marketing", "google-ads", "Marketing, page Google Ads", False),
    ),
    (
        _rule("stale_data", source="zoho", hours=24),
        ("operations", "volume", "Operations, page Patient volume", False),
    ),
    (
        _rule("data_quality", source="zoho", above_count=2),
        ("operations", "volume", "Operations, page Patient volume", False),
    ),
]
IDS = [f"{rule.metric}-{getattr(rule, 'source', '')}" for rule, _ in CASES]


@pytest.mark.parametrize(("rule", "where"), CASES, ids=IDS)
def test_with_looker_studio_the_link_is_its_report_or_page(
    rule: AnyRule, where: tuple[str, str, str, bool]
) -> None:
    dashboard, page, label, shows = where
    text, html = next_step(TENANT, rule, END, BASE, LOOKER)
    choose = f"choose {TENANT} in its tenant control"
    if f"{dashboard}/{page}" in LOOKER:
        url = LOOKER[f"{dashboard}/{page}"]
        line = f"Dashboard: {label} (in Looker Studio: {choose}): {url}"
    else:
        title = label.split(", page ")[1]
        url = LOOKER[dashboard]
        line = f"Dashboard: {label} (in Looker Studio: open its page {title} and {choose}): {url}"
    assert line in text
    assert f'<a href="{url}">{label}</a>' in html
    assert ("No dashboard page shows" in text[0]) is not shows
    assert "/reports/" not in "".join(text) + html


@pytest.mark.parametrize(("rule", "where"), CASES, ids=IDS)
def test_with_only_the_base_url_the_link_is_the_served_preview(
    rule: AnyRule, where: tuple[str, str, str, bool]
) -> None:
    dashboard, page, label, shows = where
    text, html = next_step(TENANT, rule, END, BASE, {})
    url = f"https://dash.clinic.example/dashboards/{dashboard}?tenant={TENANT}#{page}"
    assert f"Dashboard: {label}: {url}" in text
    assert f'<a href="{url}">{label}</a>' in html
    assert ("No dashboard page shows" in text[0]) is not shows


@pytest.mark.parametrize(("rule", "where"), CASES, ids=IDS)
def test_with_neither_the_mail_gives_the_command(
    rule: AnyRule, where: tuple[str, str, str, bool]
) -> None:
    _, _, label, _ = where
    text, html = next_step(TENANT, rule, END, None, {})
    command = f"mymedic dashboard --open --tenant {TENANT}"
    assert f"Dashboard: {label}: run `{command}`" in text
    assert f"<code>{command}</code>" in html
    report_name = REPORT_OF_METRIC.get(rule.metric)
    if report_name is not None:
        assert any(
            line.startswith(f"The figures: run `mymedic report {report_name} ") for line in text
        )


def test_a_page_said_to_show_a_figure_shows_it_and_no_page_shows_the_others() -> None:
    """The places are held to the definitions: receivables on the revenue dashboard's
    leakage page, no-shows on operations' volume page; utilization and NPS on none."""
    shown_by = {
        "receivables_aging": ("rpt_receivables_aging", "outstanding_minor"),
        "no_show_spike": ("rpt_patient_volume", "no_shows"),
    }
    dashboards = {d.name: d for d in load_dashboards()}
    read: set[str] = set()
    for dashboard in dashboards.values():
        read |= {source.view for source in dashboard.data_sources.values()}
    for metric, place in PLACES.items():
        dashboard = dashboards[place.dashboard]
        page = next(p for p in dashboard.pages if p.id == place.page)
        if place.closest is None:
            view, column = shown_by[metric]
            assert any(
                dashboard.data_sources[chart.data_source].view == view and column in chart.columns()
                for chart in page.charts
            ), metric
        else:
            assert report(REPORT_OF_METRIC[metric]).view not in read, metric
    for dashboard_name, page_id in SOURCE_PLACES.values():
        assert page_id in {p.id for p in dashboards[dashboard_name].pages}


def test_the_looker_setting_names_dashboards_and_pages_of_the_definitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MYMEDIC_LOOKER_REPORT_URLS", json.dumps(LOOKER))
    assert Settings(_env_file=None).looker_report_urls == LOOKER  # type: ignore[call-arg]
    for bad, reason in (
        ({"ops": "https://lookerstudio.google.com/reporting/x"}, "'ops' is no dashboard"),
        ({"revenue/nope": "https://lookerstudio.google.com/x"}, "'revenue/nope' is no"),
        ({"revenue": "http://lookerstudio.google.com/x"}, "must start with https://"),
    ):
        with pytest.raises(ValidationError, match=reason):
            Settings(_env_file=None, looker_report_urls=bad)  # type: ignore[call-arg]
