"""The Looker Studio dashboards as code: every definition reads real columns of the rpt_
views, the Linking API URL that creates each report, and the local HTML preview, loaded
in headless Chromium (Debian's chromium package) to check that every chart rendered."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from PIL import Image
from pydantic import ValidationError
from typer.testing import CliRunner

from mymedic import entrypoints
from mymedic.bootstrap import Platform, bootstrap
from mymedic.cli import app
from mymedic.dashboards.linking import BASE, linking_parameters, linking_url
from mymedic.dashboards.model import Dashboard, load_dashboards
from mymedic.dashboards.preview import tenant_folder
from mymedic.reports.catalog import report
from mymedic.server import create_server
from mymedic.settings import Settings
from tests.conftest import REPO, TEST_JWT_SECRET, bearer

runner = CliRunner()
CHROMIUM = Path("/usr/bin/chromium")


def test_every_definition_reads_columns_its_views_have(platform: Platform) -> None:
    dashboards = {d.name: d for d in load_dashboards()}
    assert {"operations", "revenue", "marketing", "finance"} <= set(dashboards)
    for dashboard in dashboards.values():
        columns = {}
        for alias, source in dashboard.data_sources.items():
            assert (REPO / "bigquery" / "reports" / f"{source.view}.sql").is_file(), alias
            assert report(source.view).date_column == source.date_column, alias
            # A headline data source's columns are its query's (bigquery/headlines/).
            columns[alias] = source.columns() or set(platform.warehouse.columns(source.view))
        for page in dashboard.pages:
            where = f"{dashboard.name}/{page.id}"
            for field in ("tenant_id", "branch_id"):
                control = page.dropdown(field)
                assert control is not None and control.data_source is not None, where
                assert field in columns[control.data_source], where
            branched = [c for c in page.charts if "branch_id" in columns[c.data_source]]
            assert branched, f"{where}: the branch control filters no chart"
            for chart in page.charts:
                missing = chart.columns() - columns[chart.data_source]
                assert not missing, f"{where}/{chart.id} reads no such column {missing}"


CONTROLS = [
    {"id": "t", "type": "dropdown", "field": "tenant_id", "data_source": "vol"},
    {"id": "b", "type": "dropdown", "field": "branch_id", "data_source": "vol"},
    {"id": "d", "type": "date_range"},
]
CHART = {
    "id": "c",
    "type": "timeseries",
    "title": "C",
    "data_source": "vol",
    "dimensions": ["month"],
    "metrics": [{"column": "scans", "aggregation": "sum"}],
}


def _definition(controls: list[object] = CONTROLS, **chart: object) -> dict[str, object]:
    page = {"id": "p", "title": "P", "controls": controls, "charts": [CHART | chart]}
    return {
        "name": "ops",
        "title": "Ops & more: volume",
        "data_sources": {"vol": {"view": "rpt_patient_volume", "date_column": "month"}},
        "pages": [page],
    }


def test_the_model_refuses_what_looker_studio_could_not_show() -> None:
    Dashboard.model_validate(_definition())
    money = {"currency_column": "currency"}
    for bad, reason in (
        (_definition(controls=CONTROLS[::2]), "no branch_id control"),
        (_definition(controls=CONTROLS[:2]), "no date range control"),
        (_definition(dimensions=["modality"]), "a time series runs on month"),
        (_definition(data_source="nope"), "no data source"),
        (
            _definition(metrics=[{"column": "scans", "aggregation": "count", "money": money}]),
            "a money metric is not counted",
        ),
        (_definition(type="pie", dimensions=["month", "modality"]), "a pie is one dimension"),
    ):
        with pytest.raises(ValidationError, match=reason):
            Dashboard.model_validate(bad)


def test_the_linking_url_creates_the_report_from_the_views() -> None:
    dashboard = Dashboard.model_validate(_definition())
    url = linking_url(dashboard, "clinic-prod-1", "mymedic", template_report_id="tpl/1 a")
    assert url == (
        "https://lookerstudio.google.com/reporting/create?c.reportId=tpl%2F1%20a"
        "&r.reportName=Ops%20%26%20more%3A%20volume&ds.vol.connector=bigQuery"
        "&ds.vol.type=TABLE&ds.vol.projectId=clinic-prod-1&ds.vol.datasetId=mymedic"
        "&ds.vol.tableId=mat_rpt_patient_volume"
        "&ds.vol.datasourceName=mymedic.mat_rpt_patient_volume"
    )
    expected = {
        "c.reportId": "tpl/1 a",
        "r.reportName": "Ops & more: volume",
        "ds.vol.connector": "bigQuery",
        "ds.vol.type": "TABLE",
        "ds.vol.projectId": "clinic-prod-1",
        "ds.vol.datasetId": "mymedic",
        "ds.vol.tableId": "mat_rpt_patient_volume",
        "ds.vol.datasourceName": "mymedic.mat_rpt_patient_volume",
    }
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE
    assert dict(parse_qsl(parts.query, strict_parsing=True)) == expected
    blank = linking_parameters(dashboard, "clinic-prod-1", "mymedic")
    assert "c.reportId" not in blank and blank["ds.vol.tableId"] == "mat_rpt_patient_volume"
    with pytest.raises(ValueError, match="project"):
        linking_url(dashboard, "Bad Project", "mymedic")


def test_the_cli_prints_one_url_per_dashboard() -> None:
    names = [d.name for d in load_dashboards()]
    args = ["dashboard", "--links", "--project", "clinic-prod-1", "--dataset", "mymedic"]
    result = runner.invoke(app, [*args, "--template-report-id", f"{names[0]}=tpl-1"])
    assert result.exit_code == 0, result.output
    urls = result.stdout.splitlines()
    assert len(urls) == len(names) and all(u.startswith(BASE + "?") for u in urls)
    assert dict(parse_qsl(urlsplit(urls[0]).query))["c.reportId"] == "tpl-1"
    assert "c.reportId" not in dict(parse_qsl(urlsplit(urls[1]).query))
    assert runner.invoke(app, ["dashboard", "--links", "--project", "p-1234"]).exit_code == 2
    refused = runner.invoke(app, [*args, "--template-report-id", "nosuch=tpl"])
    assert refused.exit_code == 2


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic chain through the whole platform (``mymedic demo``), then
    ``mymedic dashboard`` over its warehouse."""
    out = tmp_path_factory.mktemp("demo")
    demo = runner.invoke(app, ["demo", "--out", str(out), "--appointments", "60", "--seed", "2"])
    assert demo.exit_code == 0, demo.output
    made = runner.invoke(
        app, ["dashboard", "--out", str(out / "dashboard"), "--data-dir", str(out / "data")]
    )
    assert made.exit_code == 0, made.output
    return out


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.figures: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.shown: list[list[str]] = []  # per figure, the branches of its visible variants

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "body":
            self.body = found
        if tag == "figure" and "chart" in (found.get("class") or "").split():
            self.figures.append(found)
            self.shown.append([])
        if tag == "div" and found.get("class") == "variant" and "hidden" not in found:
            self.shown[-1].append(str(found.get("data-branch")))
        if tag in ("a", "option") and (found.get("href") or found.get("data-href")):
            self.links.append(str(found.get("href") or found.get("data-href")))


def _parse(html: str) -> _Dom:
    dom = _Dom()
    dom.feed(html)
    return dom


def _chromium(target: str, profile: Path, *extra: str) -> str:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: install Debian's chromium (apt-get install chromium)")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *extra,
        target,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _pages(root: Path) -> list[tuple[Dashboard, str, Path]]:
    """Every page of every dashboard for the first tenant the index lists for it."""
    index = (root / "index.html").read_text(encoding="utf-8")
    found = []
    for dashboard in load_dashboards():
        tenant_link = re.search(rf'href="{dashboard.name}/([^/"]+)/', index)
        assert tenant_link, f"the index links no tenant of {dashboard.name}"
        for page in dashboard.pages:
            found.append((dashboard, page.id, root / dashboard.name / tenant_link[1]))
    return found


def test_every_chart_renders_in_headless_chromium(preview: Path, tmp_path: Path) -> None:
    root = preview / "dashboard"
    for dashboard, page_id, folder in _pages(root):
        page = next(p for p in dashboard.pages if p.id == page_id)
        path = folder / f"{page_id}.html"
        html = path.read_text(encoding="utf-8")
        assert not re.search(r'(src|href)="(https?:)?//', html), "the preview fetches nothing"
        for link in _parse(html).links:
            assert (path.parent / link).resolve().is_file(), f"{path.name} links {link}"
        dom = _parse(_chromium(path.as_uri(), tmp_path / "profile", "--dump-dom"))
        where = f"{dashboard.name}/{page_id}"
        assert [f["data-chart-id"] for f in dom.figures] == [c.id for c in page.charts], where
        assert all(f.get("data-rendered") == "true" for f in dom.figures), where
        assert dom.body.get("data-charts-rendered") == str(len(page.charts)), where


def test_a_served_dashboard_renders_every_chart_of_every_page(
    preview: Path, tmp_path: Path
) -> None:
    """What ``mymedic serve`` answers at /dashboards/<name>?tenant=T to an analyst: every
    page of the dashboard in one document, each chart drawn (headless Chromium)."""
    settings = Settings(
        data_dir=preview / "data",
        jwt_secret=TEST_JWT_SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = bootstrap(settings, dispatch_after_commit=False)
    entrypoints.use_platform(platform)
    try:
        client = create_server().test_client()
        for dashboard in load_dashboards():
            answer = client.get(
                f"/dashboards/{dashboard.name}?tenant=sunrise-imaging",
                headers=bearer("sunrise-imaging", role="analyst"),
            )
            assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
            path = tmp_path / f"{dashboard.name}.html"
            path.write_bytes(answer.get_data())
            dom = _parse(_chromium(path.as_uri(), tmp_path / "profile", "--dump-dom"))
            charts = [chart.id for page in dashboard.pages for chart in page.charts]
            assert [f["data-chart-id"] for f in dom.figures] == charts, dashboard.name
            assert all(f.get("data-rendered") == "true" for f in dom.figures), dashboard.name
            assert dom.body.get("data-charts-rendered") == str(len(charts)), dashboard.name
    finally:
        entrypoints.use_platform(None)
        platform.close()


def test_a_branch_in_the_url_shows_that_branch_and_still_renders(
    preview: Path, tmp_path: Path
) -> None:
    operations = next(d for d in load_dashboards() if d.name == "operations")
    page = operations.pages[0]  # every chart of it from rpt_patient_volume, by branch
    path = next(f for d, _, f in _pages(preview / "dashboard") if d is operations) / "volume.html"
    before = _parse(path.read_text(encoding="utf-8"))
    assert before.shown == [[""]] * len(page.charts)
    branch = re.findall(r'<option value="([^"]+)">', path.read_text(encoding="utf-8"))[-1]
    dom = _parse(_chromium(f"{path.as_uri()}?branch={branch}", tmp_path / "p", "--dump-dom"))
    assert dom.shown == [[branch]] * len(page.charts)
    assert dom.body.get("data-charts-rendered") == str(len(page.charts))


def test_the_screenshot_is_not_blank(preview: Path, tmp_path: Path) -> None:
    _, page_id, folder = _pages(preview / "dashboard")[0]
    shot = tmp_path / "shot.png"
    _chromium(
        (folder / f"{page_id}.html").as_uri(),
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
    )
    with Image.open(shot) as image:
        inked = sum(image.convert("L").histogram()[:200])
    assert inked > 20_000, f"only {inked} dark pixels: the page looks blank"


def test_money_shows_in_major_units_of_the_warehouse_totals(preview: Path) -> None:
    settings = Settings(
        data_dir=preview / "data",
        jwt_secret=TEST_JWT_SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = bootstrap(settings, dispatch_after_commit=False)
    try:
        rows = platform.warehouse.query("rpt_revenue_breakdown")
    finally:
        platform.close()
    tenant = sorted({row["tenant_id"] for row in rows})[0]
    paid = sum(row["paid_minor"] for row in rows if row["tenant_id"] == tenant)
    page = preview / "dashboard" / "revenue" / tenant_folder(tenant) / "breakdown.html"
    html = page.read_text(encoding="utf-8")
    card = re.search(r'data-chart-id="paid">.*?<div class="scorecard">([^<]+)<', html)
    assert card and card[1] == f"INR {Decimal(paid).scaleb(-2):,.2f}"
