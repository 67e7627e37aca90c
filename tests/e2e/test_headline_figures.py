"""Headline figures through the whole flow: the snapshot's key figures and the dashboard
preview's scorecards show what the warehouse computes at each figure's own grain, never
what adding up the report's rows gives. All data synthetic, worked out by hand.

March 2026 at branch-1 (Pune, INR), every visit completed, the lead time from booking to
start in hours:

    pat-1  MRI-BRAIN 03-10 10:00, booked 20 h ahead   (first scan ever: new in March)
    pat-2  XR-CHEST  03-11 12:00, booked  4 h ahead   (new in March)
    pat-1  CT-CHEST  03-17 10:00, booked 12 h ahead   (new in March again, other modality)
    pat-3  MRI-KNEE  03-18 09:00, booked 240 h ahead  (new in March)

Patient volume, March: rows MRI (pat-1, pat-3: 2 new), CT (pat-1: 1 new), XRAY (pat-2:
1 new) add up to 4 new patients; there are 3 (pat-1 once), and 3 patients, 4 scans.
Waiting time, weeks of 03-09 and 03-16: one visit per (modality, week) row, medians 20,
4, 12 and 240 (their average 69); over all four visits the median is (12 + 20) / 2 = 16
hours, the 90th percentile 20 + 0.7 * (240 - 20) = 174 hours.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from mymedic.adapters.local.warehouse import DuckDbWarehouse
from mymedic.adapters.sql_catalog import headline_defs, to_duckdb
from mymedic.bootstrap import Platform
from mymedic.cli import app
from mymedic.dashboards.linking import custom_query
from mymedic.dashboards.model import load_dashboards
from mymedic.dashboards.preview import render_dashboard
from mymedic.reports.additivity import MEASURES
from mymedic.reports.catalog import REPORTS, report, run
from mymedic.reports.snapshot import collect
from mymedic.reports.snapshot.window import interval
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking

MODALITY = {"MRI-BRAIN": "MRI", "MRI-KNEE": "MRI", "CT-CHEST": "CT", "XR-CHEST": "XRAY"}
VISITS = (
    ("a1", "pat-1", "MRI-BRAIN", "2026-03-10T10:00:00", "2026-03-09T14:00:00"),
    ("a2", "pat-2", "XR-CHEST", "2026-03-11T12:00:00", "2026-03-11T08:00:00"),
    ("a3", "pat-1", "CT-CHEST", "2026-03-17T10:00:00", "2026-03-16T22:00:00"),
    ("a4", "pat-3", "MRI-KNEE", "2026-03-18T09:00:00", "2026-03-08T09:00:00"),
)
WEEKS = (date(2026, 3, 9), date(2026, 3, 22))


def _send(client: Any, name: str, **body: Any) -> None:
    body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
    response = client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))
    assert response.status_code == 201, (name, response.get_json())


def _march(platform: Platform) -> None:
    client = create_server().test_client()
    for apt, patient, procedure, start, booked in VISITS:
        body = booking(
            apt,
            patient_id=patient,
            modality=MODALITY[procedure],
            procedure_code=procedure,
            start_at=f"{start}+05:30",
            occurred_at=f"{booked}+05:30",
        )
        del body["duration_minutes"], body["tenant_id"], body["branch_id"]
        _send(client, "book_appointment", **body)
        done = start.replace("T10:", "T11:").replace("T12:", "T13:").replace("T09:", "T10:")
        _send(client, "complete_appointment", appointment_id=apt, occurred_at=f"{done}+05:30")
    platform.catch_up()


def _figures(snapshot: Any, name: str) -> dict[str, str]:
    section = next(s for s in snapshot.sections if s.spec.name == name)
    return {figure.label: figure.value for figure in section.figures}


def test_snapshot_figures_are_the_warehouse_headlines(platform: Platform) -> None:
    _march(platform)
    _, rows = run(platform.warehouse, report("patient-volume"), TENANT, *WEEKS)
    assert sum(row["new_patients"] for row in rows) == 4  # what adding the rows says
    weeks = run(platform.warehouse, report("waiting-time"), TENANT, *WEEKS)[1]
    assert sorted(row["median_lead_hours"] for row in weeks) == [4, 12, 20, 240]

    for branches in (("*",), (BRANCH,)):
        snapshot = collect(
            platform.warehouse,
            TENANT,
            ["patient-volume", "waiting-time"],
            interval(*WEEKS),
            branches,
        )
        volume = _figures(snapshot, "patient-volume")
        assert volume["New patients"] == "3"
        assert volume["Patients scanned (each once)"] == "3"
        assert volume["Scans"] == "4"
        waiting = _figures(snapshot, "waiting-time")
        assert waiting["Visits (arrived or completed)"] == "4"
        assert waiting["Median booking lead (all visits in the window)"] == "16.0 h"
        assert waiting["90th percentile booking lead (all visits in the window)"] == "174.0 h"
        assert waiting["Mean booking lead"] == "69.0 h"
        assert waiting["Visits booked less than 24 h ahead"] == "75%"

    elsewhere = collect(
        platform.warehouse, TENANT, ["patient-volume"], interval(*WEEKS), ("branch-9",)
    )
    assert _figures(elsewhere, "patient-volume")["New patients"] == "0"


def _scorecard(html: str, chart: str, branch: str = "") -> str:
    figure = re.search(rf'data-chart-id="{chart}">(.*?)</figure>', html, re.DOTALL)
    assert figure, chart
    card = re.search(rf'data-branch="{branch}"[^>]*><div class="scorecard">([^<]+)<', figure[1])
    assert card, (chart, branch)
    return card[1]


def test_dashboard_scorecards_and_tables_show_the_headlines(platform: Platform) -> None:
    """The served Operations dashboard over March (every date the tenant has): 3 new
    patients where the rows add up to 4, for every branch and for branch-1; 3 of 4
    visits booked within 24 hours; per branch and modality the median of its visits
    (MRI: 20 and 240 hours, median 130, 90th percentile 20 + 0.9 * 220 = 218)."""
    _march(platform)
    operations = next(d for d in load_dashboards() if d.name == "operations")
    html = render_dashboard(platform.warehouse, operations, TENANT)
    assert _scorecard(html, "new-patients") == "3"
    assert _scorecard(html, "new-patients", BRANCH) == "3"
    assert _scorecard(html, "scans") == "4"
    assert _scorecard(html, "same-day-share") == "75.0%"
    table = re.search(r'data-chart-id="waiting-table">(.*?)</figure>', html, re.DOTALL)
    assert table
    cells = re.findall(r"<tr>(.*?)</tr>", table[1])
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", cell) for cell in cells]
    assert [row for row in rows if row][:3] == [
        [BRANCH, "MRI", "2", "130.00", "218.00"],
        [BRANCH, "CT", "1", "12.00", "12.00"],
        [BRANCH, "XRAY", "1", "4.00", "4.00"],
    ]


def test_the_looker_custom_queries_compute_the_same_headlines(platform: Platform) -> None:
    """Each headline data source's custom query (Looker Studio's date range as
    @DS_START_DATE and @DS_END_DATE strings, the tenant and branches as parameters), run
    on the embedded warehouse, gives what Warehouse.headline gives."""
    _march(platform)
    warehouse = platform.warehouse
    assert isinstance(warehouse, DuckDbWarehouse)
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    checked = 0
    for dashboard in load_dashboards():
        for source in dashboard.data_sources.values():
            if source.kind != "headline":
                continue
            headline = headline_defs()[source.view]
            sql = to_duckdb(custom_query(source, None))
            values = {"tenant_id": TENANT, "DS_START_DATE": "20260301", "DS_END_DATE": "20260331"}
            if headline.by_branch:
                values["branches"] = "*"
            result = warehouse._conn.execute(sql, values)
            names = [d[0] for d in result.description or ()]
            assert names == list(headline.columns_by(source.by))
            found = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
            expected = warehouse.headline(source.view, TENANT, start, end, by=source.by)
            assert sorted(found, key=lambda r: str(list(r.values()))) == sorted(
                ({n: row[n] for n in names} for row in expected),
                key=lambda r: str(list(r.values())),
            ), (dashboard.name, source.view, source.by)
            checked += 1
    assert checked >= 8


def test_every_report_view_declares_which_columns_add_up(tmp_path: Path) -> None:
    """reports/additivity.py holds every catalogue view: its grain and measures are its
    columns, and every numeric column but an id of its grain is a declared measure."""
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb")
    warehouse.ensure_schema()
    try:
        assert set(MEASURES) == {spec.view for spec in REPORTS}
        for view, measures in MEASURES.items():
            typed = dict(
                warehouse._conn.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_name = ?",
                    [view],
                ).fetchall()
            )
            declared = measures.measures()
            assert set(measures.grain) | declared <= set(typed), view
            assert not set(measures.grain) & declared, view
            numeric = {
                column
                for column, kind in typed.items()
                if re.match(r"(BIG|HUGE|SMALL|TINY)?INT|INTEGER|DOUBLE|FLOAT|DECIMAL", kind)
            }
            assert numeric - set(measures.grain) == declared, view
    finally:
        warehouse.close()


def test_the_cli_writes_each_custom_query_to_paste_into_looker_studio(tmp_path: Path) -> None:
    args = ["dashboard", "--custom-queries", str(tmp_path), "--project", "clinic-prod-1"]
    result = CliRunner().invoke(app, [*args, "--dataset", "mymedic"])
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.sql"))
    expected = [
        f"{d.name}/{alias}.sql"
        for d in load_dashboards()
        for alias, source in d.data_sources.items()
        if source.kind == "headline"
    ]
    assert written == sorted(expected) and "operations/waiting_by_week.sql" in written
    text = (tmp_path / "operations" / "waiting_by_week.sql").read_text(encoding="utf-8")
    assert "`clinic-prod-1.mymedic.fct_appointment`" in text and "@DS_END_DATE" in text
    assert CliRunner().invoke(app, args).exit_code == 2
