"""Contract tests of the Zoho CRM client against the fake Zoho: OAuth, retries, the
records API and the Bulk Read lifecycle. No real sleeping: the client's ``sleep`` is
recorded (and moves the fake's virtual clock where a test wants time to pass)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from mymedic.integrations.zoho.client import (
    ZohoAuthError,
    ZohoClient,
    ZohoError,
    ZohoUnavailable,
)
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.testing.zoho_fake import FakeZoho

IST = timezone(timedelta(hours=5, minutes=30))
START = datetime(2026, 1, 5, 9, 0, tzinfo=IST)
TOKEN = ("POST", "/oauth/v2/token")
CONTACTS = "/crm/v6/Contacts"


class Sleeps:
    """A ``sleep`` that records each wait and optionally lets (virtual) time pass."""

    def __init__(self, then: Callable[[float], None] | None = None) -> None:
        self.calls: list[float] = []
        self._then = then

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self._then is not None:
            self._then(seconds)


def contacts(count: int, first: int = 0) -> list[dict[str, Any]]:
    """Synthetic contacts, one minute apart, the newest first (so sorting matters)."""
    return [
        {
            "id": str(4_150_868_000_000_100_000 + i),
            "Modified_Time": (START + timedelta(minutes=i)).isoformat(),
            "Last_Name": f"Patient {i}",
            "Email": f"patient{i}@example.test",
            "Account_Name": {"id": "4150868000000200001", "name": "Clinic A"},
        }
        for i in reversed(range(first, first + count))
    ]


def count(fake: FakeZoho, method: str, path: str) -> int:
    return sum(1 for request in fake.requests if request == (method, path))


@pytest.fixture
def fake() -> Iterator[FakeZoho]:
    with FakeZoho() as zoho:
        yield zoho


@pytest.fixture
def sleeps(fake: FakeZoho) -> Sleeps:
    return Sleeps(fake.advance)


def make_client(fake: FakeZoho, sleep: Callable[[float], None], **overrides: Any) -> ZohoClient:
    return ZohoClient(fake.config(**overrides), sleep=sleep, clock=fake.clock)


@pytest.fixture
def client(fake: FakeZoho, sleeps: Sleeps) -> Iterator[ZohoClient]:
    with make_client(fake, sleeps) as zoho:
        yield zoho


# -- configuration (no network) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data_centre", "accounts"),
    [
        ("com", "https://accounts.zoho.com"),
        ("eu", "https://accounts.zoho.eu"),
        ("in", "https://accounts.zoho.in"),
        ("com.au", "https://accounts.zoho.com.au"),
        ("jp", "https://accounts.zoho.jp"),
        ("ca", "https://accounts.zohocloud.ca"),
        ("com.cn", "https://accounts.zoho.com.cn"),
    ],
)
def test_accounts_server_follows_the_data_centre(data_centre: str, accounts: str) -> None:
    config = ZohoConfig.model_validate(
        {"data_centre": data_centre, "client_id": "id", "client_secret": "s", "refresh_token": "r"}
    )
    assert config.resolved_accounts_url == accounts
    assert config.token_url == f"{accounts}/oauth/v2/token"


def test_accounts_override_and_secrets_stay_out_of_repr() -> None:
    config = ZohoConfig(
        client_id="1000.SYNTHETIC",
        client_secret=SecretStr("synthetic-secret-value"),
        refresh_token=SecretStr("synthetic-refresh-value"),
        accounts_url="http://127.0.0.1:9/",
    )
    assert config.data_centre == "in"
    assert config.resolved_accounts_url == "http://127.0.0.1:9"  # no trailing slash
    assert config.token_url == f"{config.resolved_accounts_url}/oauth/v2/token"
    shown = repr(config) + str(config) + config.model_dump_json()
    assert "synthetic-secret-value" not in shown
    assert "synthetic-refresh-value" not in shown


# -- OAuth ----------------------------------------------------------------------------


def test_one_access_token_serves_many_calls(fake: FakeZoho, client: ZohoClient) -> None:
    fake.add_records("Contacts", contacts(3))
    for _ in range(5):
        assert len(list(client.records("Contacts", ["Last_Name"]))) == 3
    assert fake.tokens_issued == 1
    assert count(fake, *TOKEN) == 1


def test_token_is_refreshed_before_it_expires(fake: FakeZoho, client: ZohoClient) -> None:
    fake.add_records("Contacts", contacts(1))
    list(client.records("Contacts", ["Last_Name"]))
    fake.advance(3600)  # the token's lifetime: the client must not present it again
    list(client.records("Contacts", ["Last_Name"]))
    assert fake.tokens_issued == 2
    assert fake.requests == [TOKEN, ("GET", CONTACTS), TOKEN, ("GET", CONTACTS)]


def test_invalid_token_is_refreshed_once_and_the_call_retried(
    fake: FakeZoho, client: ZohoClient
) -> None:
    fake.add_records("Contacts", contacts(2))
    list(client.records("Contacts", ["Last_Name"]))
    fake.expire_tokens()  # revoked early: the API answers 401 INVALID_TOKEN
    assert len(list(client.records("Contacts", ["Last_Name"]))) == 2
    assert fake.tokens_issued == 2
    assert count(fake, "GET", CONTACTS) == 3


def test_a_token_rejected_even_when_fresh_is_an_auth_error(
    fake: FakeZoho, client: ZohoClient, sleeps: Sleeps
) -> None:
    fake.fail_next(401, times=5)
    with pytest.raises(ZohoAuthError):
        list(client.records("Contacts", ["Last_Name"]))
    assert fake.tokens_issued == 2
    assert count(fake, "GET", CONTACTS) == 2
    assert sleeps.calls == []


@pytest.mark.parametrize("wrong", ["client_id", "client_secret", "refresh_token"])
def test_bad_credentials_fail_at_once_without_retrying(
    fake: FakeZoho, sleeps: Sleeps, wrong: str
) -> None:
    value: Any = "1000.WRONG" if wrong == "client_id" else SecretStr("synthetic-wrong-value")
    with make_client(fake, sleeps, **{wrong: value}) as client, pytest.raises(ZohoAuthError) as err:
        list(client.records("Contacts", ["Last_Name"]))
    assert fake.requests == [TOKEN]
    assert sleeps.calls == []
    assert fake.client_secret not in str(err.value)
    assert "synthetic-wrong-value" not in str(err.value)


def test_token_request_limit_is_unavailable_not_an_auth_error(
    fake: FakeZoho, client: ZohoClient
) -> None:
    fake.add_records("Contacts", contacts(1))
    for _ in range(10):  # Zoho issues at most 10 access tokens per 10 minutes
        fake.expire_tokens()
        list(client.records("Contacts", ["Last_Name"]))
    fake.expire_tokens()
    with pytest.raises(ZohoUnavailable):
        list(client.records("Contacts", ["Last_Name"]))
    assert fake.tokens_issued == 10


# -- retries ----------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(
    fake: FakeZoho, client: ZohoClient, sleeps: Sleeps
) -> None:
    fake.add_records("Contacts", contacts(2))
    list(client.records("Contacts", ["Last_Name"]))  # token first: faults hit the API
    fake.fail_next(429, times=2, retry_after=7)
    assert len(list(client.records("Contacts", ["Last_Name"]))) == 2
    assert sleeps.calls == [7.0, 7.0]


def test_429_without_retry_after_backs_off_exponentially(
    fake: FakeZoho, client: ZohoClient, sleeps: Sleeps
) -> None:
    fake.add_records("Contacts", contacts(1))
    fake.fail_next(429, times=3)
    list(client.records("Contacts", ["Last_Name"]))
    assert len(sleeps.calls) == 3
    for wait, base in zip(sleeps.calls, [1, 2, 4], strict=True):
        assert base <= wait <= base + 1  # exponential, plus up to a second of jitter


def test_5xx_is_retried_until_it_clears(fake: FakeZoho, client: ZohoClient) -> None:
    fake.add_records("Contacts", contacts(2))
    fake.fail_next(500)
    fake.fail_next(503)
    assert len(list(client.records("Contacts", ["Last_Name"]))) == 2
    assert count(fake, "GET", CONTACTS) == 3


def test_persistent_5xx_is_unavailable_after_max_attempts(fake: FakeZoho, sleeps: Sleeps) -> None:
    fake.fail_next(503, times=10)
    client = make_client(fake, sleeps, max_attempts=3, max_backoff_seconds=1.5)
    with client, pytest.raises(ZohoUnavailable):
        list(client.records("Contacts", ["Last_Name"]))
    assert count(fake, "GET", CONTACTS) == 3
    assert len(sleeps.calls) == 2
    assert all(wait <= 1.5 for wait in sleeps.calls)


def test_unreachable_zoho_is_unavailable(fake: FakeZoho, sleeps: Sleeps) -> None:
    fake.add_records("Contacts", contacts(1))
    with make_client(fake, sleeps, max_attempts=3) as client:
        list(client.records("Contacts", ["Last_Name"]))
        fake.stop()  # connections are now refused
        with pytest.raises(ZohoUnavailable, match="unreachable"):
            list(client.records("Contacts", ["Last_Name"]))
    assert len(sleeps.calls) == 2


# -- records API --------------------------------------------------------------------------


def test_pages_through_records_oldest_modification_first(
    fake: FakeZoho, client: ZohoClient
) -> None:
    fake.add_records("Contacts", contacts(450))
    records = list(client.records("Contacts", ["Last_Name"], per_page=100))
    assert [r.fields["Last_Name"] for r in records] == [f"Patient {i}" for i in range(450)]
    assert count(fake, "GET", CONTACTS) == 5
    first = records[0]
    assert first.module == "Contacts"
    assert first.record_id == "4150868000000100000"
    assert first.modified_time == START
    assert first.modified_time.utcoffset() == timedelta(hours=5, minutes=30)
    assert set(first.fields) == {"id", "Last_Name", "Modified_Time"}  # fields= projection


def test_pages_past_two_thousand_records_with_page_tokens(
    fake: FakeZoho, client: ZohoClient
) -> None:
    fake.add_records("Contacts", contacts(2300))
    records = list(client.records("Contacts", ["Last_Name"]))
    assert len({r.record_id for r in records}) == 2300
    assert [r.modified_time for r in records] == sorted(r.modified_time for r in records)
    assert count(fake, "GET", CONTACTS) == 12


def test_a_module_without_records_answers_204(fake: FakeZoho, client: ZohoClient) -> None:
    assert list(client.records("Leads", ["Last_Name"])) == []
    assert count(fake, "GET", "/crm/v6/Leads") == 1


def test_modified_since_returns_only_later_changes(fake: FakeZoho, client: ZohoClient) -> None:
    fake.add_records("Contacts", contacts(10))
    since = START + timedelta(minutes=6)
    later = list(client.records("Contacts", ["Last_Name"], modified_since=since))
    assert [r.fields["Last_Name"] for r in later] == ["Patient 7", "Patient 8", "Patient 9"]

    fake.update_record("Contacts", "4150868000000100002", Last_Name="Renamed")
    newest = max(r.modified_time for r in later)
    delta = list(client.records("Contacts", ["Last_Name"], modified_since=newest))
    assert [(r.record_id, r.fields["Last_Name"]) for r in delta] == [
        ("4150868000000100002", "Renamed")
    ]
    assert delta[0].modified_time > newest


def test_modified_since_must_carry_an_offset(client: ZohoClient) -> None:
    with pytest.raises(ValueError, match="timezone"):
        list(client.records("Contacts", ["Last_Name"], modified_since=datetime(2026, 1, 1)))


def test_records_by_ids_asks_for_a_hundred_at_a_time(fake: FakeZoho, client: ZohoClient) -> None:
    fake.add_records("Contacts", contacts(250))
    ids = [str(4_150_868_000_000_100_000 + i) for i in range(250)] + ["4150868999999999999"]
    found = client.records_by_ids("Contacts", ids, ["Email"])
    assert {r.record_id for r in found} == set(ids[:250])
    assert count(fake, "GET", CONTACTS) == 3
    assert all(set(r.fields) == {"id", "Email", "Modified_Time"} for r in found)


# -- Bulk Read API ------------------------------------------------------------------------


def read_zip(path: Path, job_id: str) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [f"{job_id}.csv"]
        with archive.open(f"{job_id}.csv") as raw:
            return list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


def test_bulk_read_from_job_to_zip(tmp_path: Path) -> None:
    sleeps = Sleeps()
    with FakeZoho(polls_until_complete=3) as fake:
        fake.add_records("Contacts", contacts(5))
        with make_client(fake, sleeps) as client:
            job_id = client.start_bulk_read("Contacts", ["Last_Name", "Account_Name"])
            job = client.wait_for_bulk_read(job_id, poll_seconds=5)
            path = client.download_bulk_read(job_id, tmp_path)
    assert sleeps.calls == [5, 5]  # IN PROGRESS, IN PROGRESS, COMPLETED
    assert (job.state, job.page, job.count, job.more_records) == ("COMPLETED", 1, 5, False)
    assert job.download_url == f"/crm/bulk/v6/read/{job_id}/result"
    assert path == tmp_path / f"{job_id}.zip"
    assert list(tmp_path.iterdir()) == [path]  # no partial file left behind
    header, *rows = read_zip(path, job_id)
    assert header == ["Id", "Last_Name", "Account_Name", "Modified_Time"]
    assert rows[0] == [
        "4150868000000100000",
        "Patient 0",
        "4150868000000200001",  # a lookup exports as its id
        START.isoformat(),
    ]
    assert len(rows) == 5


def test_bulk_read_more_records_continue_on_page_two(tmp_path: Path) -> None:
    with FakeZoho(bulk_page_size=3, polls_until_complete=1) as fake:
        fake.add_records("Contacts", contacts(7))
        with make_client(fake, Sleeps()) as client:
            seen: list[str] = []
            pages: list[tuple[int, int | None, bool]] = []
            page, more = 1, True
            while more:
                job_id = client.start_bulk_read("Contacts", ["Last_Name"], page=page)
                job = client.wait_for_bulk_read(job_id)
                pages.append((job.page, job.count, job.more_records))
                _, *rows = read_zip(client.download_bulk_read(job_id, tmp_path), job_id)
                seen.extend(row[0] for row in rows)
                page, more = page + 1, job.more_records
    assert pages == [(1, 3, True), (2, 3, True), (3, 1, False)]
    assert len(set(seen)) == 7


def test_bulk_read_criteria_filter_the_export(fake: FakeZoho, client: ZohoClient) -> None:
    fake.add_records("Contacts", contacts(10))
    criteria = {
        "field": {"api_name": "Modified_Time"},
        "comparator": "greater_equal",
        "value": (START + timedelta(minutes=8)).isoformat(),
    }
    job_id = client.start_bulk_read("Contacts", ["Last_Name"], criteria=criteria)
    assert client.wait_for_bulk_read(job_id).count == 2


def test_a_failed_bulk_read_job_is_an_error(fake: FakeZoho, client: ZohoClient) -> None:
    job_id = client.start_bulk_read("Contacts", ["Last_Name"])
    assert client.bulk_read_job(job_id).state == "IN PROGRESS"
    fake.fail_bulk_read(job_id)
    with pytest.raises(ZohoError, match="failed") as err:
        client.wait_for_bulk_read(job_id)
    assert not isinstance(err.value, ZohoUnavailable)


def test_a_bulk_read_that_never_completes_times_out() -> None:
    with FakeZoho(polls_until_complete=1000) as fake:
        sleeps = Sleeps(fake.advance)
        with make_client(fake, sleeps) as client:
            job_id = client.start_bulk_read("Contacts", ["Last_Name"])
            with pytest.raises(ZohoUnavailable, match="still IN PROGRESS"):
                client.wait_for_bulk_read(job_id, poll_seconds=5, timeout_seconds=30)
    assert sum(sleeps.calls) == pytest.approx(30, abs=0.5)
    assert len(sleeps.calls) in {6, 7}


def completed_job(fake: FakeZoho, client: ZohoClient) -> str:
    fake.add_records("Contacts", contacts(3))
    job_id = client.start_bulk_read("Contacts", ["Last_Name"])
    client.wait_for_bulk_read(job_id)
    return job_id


def test_download_lockout_is_waited_out(
    fake: FakeZoho, client: ZohoClient, sleeps: Sleeps, tmp_path: Path
) -> None:
    job_id = completed_job(fake, client)
    sleeps.calls.clear()
    for n in range(11):  # Zoho allows 10 downloads a minute, then locks for a minute
        client.download_bulk_read(job_id, tmp_path / f"{n}.zip")
    assert sleeps.calls == [60.0]
    assert count(fake, "GET", f"/crm/bulk/v6/read/{job_id}/result") == 12


def test_download_lockout_that_persists_is_unavailable(fake: FakeZoho, tmp_path: Path) -> None:
    stuck = Sleeps()  # time does not pass: the lock-out never lifts
    with make_client(fake, stuck, max_attempts=3) as client:
        job_id = completed_job(fake, client)
        stuck.calls.clear()
        for n in range(10):
            client.download_bulk_read(job_id, tmp_path / f"{n}.zip")
        target = tmp_path / "late.zip"
        with pytest.raises(ZohoUnavailable):
            client.download_bulk_read(job_id, target)
    assert stuck.calls == [60.0, 60.0]
    assert not target.exists()
    assert not (tmp_path / "late.zip.part").exists()


def test_fake_serves_a_full_two_hundred_thousand_row_page(tmp_path: Path) -> None:
    with FakeZoho(polls_until_complete=1) as fake:
        fake.add_records(
            "Contacts",
            (
                {"id": str(10**18 + i), "Modified_Time": START.isoformat(), "Last_Name": "P"}
                for i in range(200_001)
            ),
        )
        with make_client(fake, Sleeps()) as client:
            job_id = client.start_bulk_read("Contacts", ["Last_Name"])
            job = client.wait_for_bulk_read(job_id)
            path = client.download_bulk_read(job_id, tmp_path)
    assert (job.count, job.more_records) == (200_000, True)
    with zipfile.ZipFile(path) as archive, archive.open(f"{job_id}.csv") as raw:
        assert sum(1 for _ in raw) == 200_001  # the header and 200,000 rows
