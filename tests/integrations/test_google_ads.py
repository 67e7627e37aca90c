"""Google Ads cost and click sync against a fake GoogleAdsService that answers with the
client's own message types (synthetic accounts, no network)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.ads.googleads.errors import GoogleAdsException
from google.api_core import exceptions as core_exceptions
from pydantic import SecretStr

from mymedic.adapters.local.event_store import SqliteEventStore
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.integrations.google_ads import mapping, queries
from mymedic.integrations.google_ads.config import (
    API_VERSION,
    GoogleAdsConfig,
    GoogleAdsNotConfigured,
    google_ads_config,
)
from mymedic.integrations.google_ads.service import handle_google_ads_job
from mymedic.integrations.google_ads.source import (
    AdsSourceError,
    AdsSourceUnavailable,
    GoogleAdsApiSource,
)
from mymedic.integrations.google_ads.sync import AdsCostSync
from mymedic.server import create_server
from mymedic.settings import Settings
from tests.conftest import TENANT

_service_types = importlib.import_module(
    f"google.ads.googleads.{API_VERSION}.services.types.google_ads_service"
)
_error_types = importlib.import_module(f"google.ads.googleads.{API_VERSION}.errors.types.errors")
GoogleAdsRow = _service_types.GoogleAdsRow
StreamResponse = _service_types.SearchGoogleAdsStreamResponse

CUSTOMER = "1234567890"
OTHER = "2345678901"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 13:30 on 2 March in Asia/Calcutta
D1, D2 = date(2026, 2, 28), date(2026, 3, 1)


def row(**fields: Any) -> Any:
    """A GoogleAdsRow with ``campaign__id=1`` setting ``row.campaign.id = 1``."""
    message = GoogleAdsRow()
    for path, value in fields.items():
        *parents, leaf = path.split("__")
        target = message
        for name in parents:
            target = getattr(target, name)
        setattr(target, leaf, value)
    return message


def metrics(cost: int, clicks: int, impressions: int) -> dict[str, int]:
    return {
        "metrics__cost_micros": cost,
        "metrics__clicks": clicks,
        "metrics__impressions": impressions,
    }


def campaign(day: date, cid: int, cost: int, clicks: int = 0, impressions: int = 0) -> Any:
    name = f"Campaign {cid}"
    return row(
        campaign__id=cid,
        campaign__name=name,
        segments__date=day.isoformat(),
        **metrics(cost, clicks, impressions),
    )


def ad_group(day: date, cid: int, gid: int, cost: int, clicks: int = 0, imp: int = 0) -> Any:
    return row(
        campaign__id=cid,
        campaign__name=f"Campaign {cid}",
        ad_group__id=gid,
        ad_group__name=f"Ad group {gid}",
        segments__date=day.isoformat(),
        **metrics(cost, clicks, imp),
    )


def keyword(
    day: date, cid: int, gid: int, kid: int, text: str, cost: int, clicks: int = 0, imp: int = 0
) -> Any:
    message = ad_group(day, cid, gid, cost, clicks, imp)
    message.ad_group_criterion.criterion_id = kid
    message.ad_group_criterion.keyword.text = text
    message.ad_group_criterion.keyword.match_type = "EXACT"
    return message


def click(day: date, gclid: str, cid: int = 1, gid: int = 10, kid: int | None = 100) -> Any:
    message = row(
        click_view__gclid=gclid,
        campaign__id=cid,
        campaign__name=f"Campaign {cid}",
        segments__date=day.isoformat(),
    )
    if gid:
        message.ad_group.id = gid
        message.ad_group.name = f"Ad group {gid}"
    if kid:
        message.click_view.keyword = f"customers/{CUSTOMER}/adGroupCriteria/{gid}~{kid}"
        message.click_view.keyword_info.text = "mri scan pune"
        message.click_view.keyword_info.match_type = "PHRASE"
    return message


def transient_failure() -> GoogleAdsException:
    code = _error_types.ErrorCode(internal_error="TRANSIENT_ERROR")
    failure = _error_types.GoogleAdsFailure(
        errors=[_error_types.GoogleAdsError(error_code=code, message="try again")]
    )
    return GoogleAdsException(None, None, failure, "req-transient")


def refused() -> GoogleAdsException:
    code = _error_types.ErrorCode(authorization_error="USER_PERMISSION_DENIED")
    failure = _error_types.GoogleAdsFailure(
        errors=[_error_types.GoogleAdsError(error_code=code, message="no access")]
    )
    return GoogleAdsException(None, None, failure, "req-refused")


class FakeAdsService:
    """``search_stream`` over rows per customer and resource, filtered by the query's
    dates, in batches of two; records every query and raises queued failures first."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[Any]] = {}
        self.queries: list[tuple[str, str]] = []
        self.failures: list[Exception] = []

    def add(self, customer: str, resource: str, *rows: Any) -> None:
        self.rows.setdefault((customer, resource), []).extend(rows)

    def replace(self, customer: str, resource: str, *rows: Any) -> None:
        self.rows[(customer, resource)] = list(rows)

    def search_stream(self, *, customer_id: str, query: str) -> list[Any]:
        self.queries.append((customer_id, query))
        if self.failures:
            raise self.failures.pop(0)
        resource = re.search(r"FROM (\w+)", query)
        assert resource is not None
        if resource.group(1) == "customer":
            found = [row(customer__currency_code="INR", customer__time_zone="Asia/Calcutta")]
        else:
            first, last = _dates(query)
            found = [
                r
                for r in self.rows.get((customer_id, resource.group(1)), [])
                if first <= date.fromisoformat(r.segments.date) <= last
            ]
        return [StreamResponse(results=found[i : i + 2]) for i in range(0, len(found), 2)]


def _dates(query: str) -> tuple[date, date]:
    between = re.search(r"segments\.date BETWEEN '([\d-]+)' AND '([\d-]+)'", query)
    if between:
        return date.fromisoformat(between.group(1)), date.fromisoformat(between.group(2))
    single = re.search(r"segments\.date = '([\d-]+)'", query)
    assert single is not None, query
    day = date.fromisoformat(single.group(1))
    return day, day


def config(**customers: tuple[str, ...]) -> GoogleAdsConfig:
    return GoogleAdsConfig(
        developer_token=SecretStr("test-only-developer-token"),
        client_id="test-only-client",
        client_secret=SecretStr("test-only-secret"),
        refresh_token=SecretStr("test-only-refresh"),
        customers={TENANT: (CUSTOMER, OTHER), **customers},
    )


@pytest.fixture
def service() -> FakeAdsService:
    fake = FakeAdsService()
    fake.add(
        CUSTOMER,
        "keyword_view",
        keyword(D1, 1, 10, 100, "mri scan pune", 1_500_000, 3, 40),
        keyword(D1, 1, 10, 101, "ct scan", 500_000, 1, 20),
    )
    fake.add(CUSTOMER, "ad_group", ad_group(D1, 1, 10, 2_500_000, 5, 90))
    fake.add(CUSTOMER, "campaign", campaign(D1, 1, 3_000_000, 6, 100), campaign(D1, 2, 4_000_000))
    fake.add(CUSTOMER, "click_view", click(D1, "gclid-a"), click(D1, "gclid-b", 2, 0, None))
    fake.add(OTHER, "campaign", campaign(D2, 7, 900_000, 2, 30))
    fake.add(OTHER, "click_view", click(D2, "gclid-c", 7, 70, 700))
    return fake


@pytest.fixture
def store(tmp_path: Path) -> SqliteEventStore:
    return SqliteEventStore(tmp_path / "events.sqlite")


def make_sync(
    store: SqliteEventStore, service: FakeAdsService, sleeps: list[float] | None = None
) -> AdsCostSync:
    source = GoogleAdsApiSource(
        config(), service=service, sleep=(sleeps if sleeps is not None else []).append
    )
    return AdsCostSync(store, source, clock=lambda: NOW)


def payloads(store: SqliteEventStore, stream: str) -> list[dict[str, Any]]:
    return [envelope.payload for envelope in store.read_stream(TENANT, stream)]


# --- mapping ---------------------------------------------------------------------------


def test_cost_rows_are_disjoint_grains_that_add_up_to_each_campaign(
    service: FakeAdsService,
) -> None:
    days = mapping.cost_rows(
        service.rows[(CUSTOMER, "keyword_view")],
        service.rows[(CUSTOMER, "ad_group")],
        service.rows[(CUSTOMER, "campaign")],
    )
    rows = days[D1]
    assert [(r.campaign_id, r.ad_group_id, r.keyword_id) for r in rows] == [
        (1, None, None),  # the campaign beyond its ad groups
        (1, 10, None),  # the ad group beyond its keywords
        (1, 10, 100),
        (1, 10, 101),
        (2, None, None),  # no ad groups at all (Performance Max)
    ]
    figures = [(r.cost_micros, r.clicks, r.impressions) for r in rows]
    assert figures == [
        (500_000, 1, 10),
        (500_000, 1, 30),
        (1_500_000, 3, 40),
        (500_000, 1, 20),
        (4_000_000, 0, 0),
    ]
    assert sum(r.cost_micros for r in rows) == 7_000_000  # both campaigns' totals
    top = rows[2]
    assert (top.keyword_text, top.match_type, top.campaign_name) == (
        "mri scan pune",
        "EXACT",
        "Campaign 1",
    )
    assert top.ad_group_name == "Ad group 10"


def test_parts_bigger_than_their_whole_leave_no_negative_remainder() -> None:
    rows = mapping.cost_rows(
        [keyword(D1, 1, 10, 100, "mri", 2_000_000, 2, 5), keyword(D1, 1, 11, 110, "ct", 0)],
        [ad_group(D1, 1, 10, 1_900_000, 2, 5)],
        [campaign(D1, 1, 2_000_000, 2, 5)],
    )[D1]
    # The zero keyword row is dropped; the ad group is short of its keyword (clamped),
    # and the campaign is fully accounted for by what its keywords report.
    assert [(r.ad_group_id, r.keyword_id, r.cost_micros) for r in rows] == [(10, 100, 2_000_000)]


def test_a_gclid_is_one_click_row_however_often_it_is_returned() -> None:
    clicks = mapping.clicks(
        [click(D1, "gclid-b", 2, 0, None), click(D1, "gclid-a"), click(D1, "gclid-a")]
    )
    assert [c.model_dump() for c in clicks] == [
        {
            "gclid": "gclid-a",
            "campaign_id": 1,
            "campaign_name": "Campaign 1",
            "ad_group_id": 10,
            "ad_group_name": "Ad group 10",
            "keyword_id": 100,
            "keyword_text": "mri scan pune",
            "match_type": "PHRASE",
        },
        {
            "gclid": "gclid-b",
            "campaign_id": 2,
            "campaign_name": "Campaign 2",
            "ad_group_id": None,
            "ad_group_name": None,
            "keyword_id": None,
            "keyword_text": None,
            "match_type": None,
        },
    ]


# --- queries ---------------------------------------------------------------------------


def test_the_queries_ask_for_the_range_and_clicks_one_day_at_a_time() -> None:
    text = queries.keyword_cost_query(D1, D2)
    assert "FROM keyword_view" in text
    assert "segments.date BETWEEN '2026-02-28' AND '2026-03-01'" in text
    assert "metrics.cost_micros" in text and "ad_group_criterion.keyword.text" in text
    assert "FROM ad_group WHERE" in queries.ad_group_cost_query(D1, D2)
    assert "FROM campaign WHERE" in queries.campaign_cost_query(D1, D2)
    clicks = queries.clicks_query(D2)
    assert "FROM click_view WHERE segments.date = '2026-03-01'" in clicks
    assert "click_view.gclid" in clicks and "BETWEEN" not in clicks
    with pytest.raises(ValueError, match="before it starts"):
        queries.keyword_cost_query(D2, D1)
    with pytest.raises(TypeError, match="must be a date"):
        queries.clicks_query(NOW)


# --- the sync --------------------------------------------------------------------------


def test_one_event_per_customer_day_and_a_rerun_appends_nothing(
    store: SqliteEventStore, service: FakeAdsService
) -> None:
    sync = make_sync(store, service)
    report = sync.run(TENANT, [CUSTOMER, OTHER], D2, D2)
    # 1 March asked; 27 Feb-1 Mar read (the restatement window); D1 and D2 had content.
    assert (report.cost_days_recorded, report.cost_days_unchanged) == (2, 4)
    assert (report.click_days_recorded, report.clicks_recorded) == (2, 3)
    assert report.failed == {} and report.click_days_skipped == []

    [cost] = payloads(store, f"ad_cost:{CUSTOMER}:2026-02-28")
    assert cost["currency"] == "INR" and cost["time_zone"] == "Asia/Calcutta"
    assert (cost["revision"], cost["part"], cost["parts"]) == (1, 1, 1)
    assert sum(r["cost_micros"] for r in cost["rows"]) == 7_000_000
    [clicks] = payloads(store, f"ad_clicks:{OTHER}:2026-03-01")
    assert [c["gclid"] for c in clicks["clicks"]] == ["gclid-c"]
    assert store.read_stream(TENANT, f"ad_cost:{CUSTOMER}:2026-03-01") == []

    again = sync.run(TENANT, [CUSTOMER, OTHER], D2, D2)
    assert (again.cost_days_recorded, again.click_days_recorded) == (0, 0)
    assert again.cost_days_unchanged == 6 and again.click_days_unchanged == 6
    assert len(payloads(store, f"ad_cost:{CUSTOMER}:2026-02-28")) == 1


def test_a_restated_day_appends_a_new_revision(
    store: SqliteEventStore, service: FakeAdsService
) -> None:
    sync = make_sync(store, service)
    sync.run(TENANT, [OTHER], D2, D2)
    service.replace(OTHER, "campaign", campaign(D2, 7, 950_000, 2, 31))
    report = sync.run(TENANT, [OTHER], D2, D2)
    assert report.cost_days_recorded == 1 and report.click_days_recorded == 0
    first, second = payloads(store, f"ad_cost:{OTHER}:2026-03-01")
    assert (first["revision"], second["revision"]) == (1, 2)
    assert second["rows"][0]["cost_micros"] == 950_000
    assert first["content_hash"] != second["content_hash"]

    service.replace(OTHER, "campaign")  # restated to nothing: recorded as an empty day
    sync.run(TENANT, [OTHER], D2, D2)
    assert payloads(store, f"ad_cost:{OTHER}:2026-03-01")[-1]["rows"] == []


def test_a_concurrent_duplicate_run_plans_the_same_event_ids(
    tmp_path: Path, service: FakeAdsService
) -> None:
    stores = [SqliteEventStore(tmp_path / f"events-{n}.sqlite") for n in (1, 2)]
    for store in stores:
        make_sync(store, service).run(TENANT, [CUSTOMER], D1, D1)
    stream = f"ad_cost:{CUSTOMER}:2026-02-28"
    ids = [[env.event_id for env in store.read_stream(TENANT, stream)] for store in stores]
    assert ids[0] == ids[1] and len(ids[0]) == 1
    # Appending the other run's event again is a no-op.
    result = stores[0].append(TENANT, stream, 0, stores[1].read_stream(TENANT, stream))
    assert result.duplicate


def test_clicks_older_than_90_days_are_skipped_and_reported(
    store: SqliteEventStore, service: FakeAdsService
) -> None:
    old = NOW.date() - timedelta(days=95)
    service.add(CUSTOMER, "campaign", campaign(old, 1, 1_000_000))
    report = make_sync(store, service).run(TENANT, [CUSTOMER], old, old)
    assert report.click_days_skipped == [f"{CUSTOMER}:{old.isoformat()}"]
    assert report.cost_days_recorded == 2  # the old day and D1 of the restatement window
    click_days = [_dates(q)[0] for _, q in service.queries if "FROM click_view" in q]
    assert old not in click_days and D1 in click_days


def test_a_day_beyond_one_event_is_split_into_parts_of_one_revision(
    store: SqliteEventStore, service: FakeAdsService
) -> None:
    many = [click(D2, f"gclid-{n:05d}", 7, 70, 700) for n in range(e.ADS_ROWS_PER_EVENT + 1)]
    service.replace(OTHER, "click_view", *many)
    make_sync(store, service).run(TENANT, [OTHER], D2, D2)
    first, second = payloads(store, f"ad_clicks:{OTHER}:2026-03-01")
    assert (first["part"], first["parts"], second["part"]) == (1, 2, 2)
    assert first["content_hash"] == second["content_hash"] and second["revision"] == 1
    assert len(first["clicks"]) + len(second["clicks"]) == e.ADS_ROWS_PER_EVENT + 1


# --- the client: retries -----------------------------------------------------------------


def test_transient_errors_are_retried_and_refusals_are_not(service: FakeAdsService) -> None:
    sleeps: list[float] = []
    source = GoogleAdsApiSource(config(), service=service, sleep=sleeps.append)
    service.failures = [core_exceptions.ServiceUnavailable("down"), transient_failure()]
    assert source.account(CUSTOMER).currency == "INR"
    assert len(service.queries) == 3 and len(sleeps) == 2

    service.failures = [refused()]
    with pytest.raises(AdsSourceError, match="no access") as refusal:
        source.account(CUSTOMER)
    assert not isinstance(refusal.value, AdsSourceUnavailable)
    assert len(sleeps) == 2

    service.failures = [core_exceptions.DeadlineExceeded("slow")] * 5
    with pytest.raises(AdsSourceUnavailable):
        source.account(CUSTOMER)


def test_a_failing_account_does_not_stop_the_others(
    store: SqliteEventStore, service: FakeAdsService
) -> None:
    service.failures = [refused()]
    report = make_sync(store, service).run(TENANT, [CUSTOMER, OTHER], D2, D2)
    assert list(report.failed) == [CUSTOMER] and not report.unavailable
    assert report.cost_days_recorded == 1  # OTHER's day


# --- configuration and the job -----------------------------------------------------------


def job_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "google_ads_developer_token": "test-only-developer-token",
        "google_ads_client_id": "test-only-client",
        "google_ads_client_secret": "test-only-secret",
        "google_ads_refresh_token": "test-only-refresh",
        "google_ads_login_customer_id": "999-000-1111",
        "google_ads_customers": {TENANT: ["123-456-7890"]},
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_config_normalises_customer_ids_and_names_what_is_missing(tmp_path: Path) -> None:
    built = google_ads_config(job_settings(tmp_path))
    assert built.customers_of(TENANT) == (CUSTOMER,)
    assert built.client_dict()["login_customer_id"] == "9990001111"
    assert "test-only-secret" not in repr(built)
    with pytest.raises(GoogleAdsNotConfigured, match="MYMEDIC_GOOGLE_ADS_REFRESH_TOKEN"):
        google_ads_config(job_settings(tmp_path, google_ads_refresh_token=None))
    with pytest.raises(GoogleAdsNotConfigured, match="10 digits"):
        google_ads_config(job_settings(tmp_path, google_ads_customers={TENANT: ["12345"]}))


def run_job(tmp_path: Path, service: FakeAdsService, args: dict[str, str], **overrides: Any) -> Any:
    store = SqliteEventStore(tmp_path / "job-events.sqlite")
    factory: Callable[[GoogleAdsConfig], GoogleAdsApiSource] = lambda cfg: GoogleAdsApiSource(  # noqa: E731
        cfg, service=service, sleep=lambda _: None
    )
    return handle_google_ads_job(
        job_settings(tmp_path, **overrides),
        store,
        args.get,
        clock=lambda: NOW,
        source_factory=factory,
    )


def test_the_job_syncs_the_last_days_by_default(tmp_path: Path, service: FakeAdsService) -> None:
    result = run_job(tmp_path, service, {})
    assert result.status == 200, result.body
    report = result.body["tenants"][TENANT]
    assert (report["start"], report["end"]) == ("2026-02-27", "2026-03-01")
    assert report["cost_days_recorded"] == 1 and report["click_days_recorded"] == 1

    assert run_job(tmp_path, service, {"tenant": "tenant-b"}).body["error"] == "not_configured"
    service.failures = [refused()]
    assert run_job(tmp_path, service, {"tenant": TENANT}).status == 502


def test_the_job_refuses_bad_dates_naming_the_field(
    tmp_path: Path, service: FakeAdsService
) -> None:
    bad = run_job(tmp_path, service, {"from": "2026-13-01"})
    assert (bad.status, bad.body["error"], bad.body["field"]) == (400, "invalid_date", "from")
    reversed_ = run_job(tmp_path, service, {"from": "2026-03-01", "to": "2026-02-01"})
    assert (reversed_.status, reversed_.body["field"]) == (400, "to")
    assert service.queries == []


def test_the_job_endpoint_answers_503_when_not_configured(platform: Platform) -> None:
    response = create_server().test_client().post(f"/jobs/google-ads-sync?tenant={TENANT}")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "not_configured"
    assert "MYMEDIC_GOOGLE_ADS_DEVELOPER_TOKEN" in body["message"]
