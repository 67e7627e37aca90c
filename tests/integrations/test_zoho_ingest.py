"""Zoho ingestion end to end: backfill, delta sync and webhooks against the fake Zoho
server, into a local platform. One record version yields one set of events, whichever
path brings it and however often."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest

from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.integrations.zoho.client import ZohoUnavailable
from mymedic.integrations.zoho.ingest import Unreadable, ZohoIngestor
from mymedic.integrations.zoho.records import ZohoRecord
from mymedic.integrations.zoho.service import ZohoService, channel_id_for, load_tenant_mapping
from mymedic.integrations.zoho.streams import backfill_stream, record_stream, sync_stream
from mymedic.ports import AppendResult, EventStore, StreamAppend
from mymedic.testing.zoho_fake import FakeZoho
from tests.conftest import BRANCH, TENANT
from tests.integrations.conftest import (
    T0,
    appointment,
    appointment_stream,
    canonical,
    client_for,
    contact,
    of_type,
)


def _types(platform: Platform) -> Counter[str]:
    return Counter(event.event_type for event in canonical(platform))


def _record(module: str, raw: dict[str, Any]) -> ZohoRecord:
    from datetime import datetime

    return ZohoRecord(module, raw["id"], datetime.fromisoformat(raw["Modified_Time"]), raw)


# --- backfill --------------------------------------------------------------------------------


def test_backfill_of_modules_end_to_end(
    platform: Platform, fake: FakeZoho, zoho: ZohoService
) -> None:
    fake.bulk_page_size = 3  # several Bulk Read pages (jobs) per module
    fake.polls_until_complete = 3  # and a few polls each
    fake.add_records("Contacts", [contact(n) for n in range(1, 6)])
    statuses = ["Scheduled", "Completed", "Cancelled", "No Show", "Checked In", "Completed"]
    fake.add_records(
        "Appointments",
        [appointment(n, patient=n % 5 + 1, Status=s) for n, s in enumerate(statuses, start=1)]
        # 20:00 UTC is 01:30 the next day in Pune: the clinic's own calendar day counts.
        + [appointment(7, Appointment_Start="2026-03-10T20:00:00Z")],
    )
    seen: list[tuple[int, int | None]] = []

    contacts = zoho.backfill("Contacts", poll_seconds=0, progress=lambda *p: seen.append(p))
    appointments = zoho.backfill("Appointments", poll_seconds=0)

    assert (contacts.finished, contacts.pages, contacts.rows) == (True, 2, 5)
    assert (appointments.finished, appointments.pages, appointments.rows) == (True, 3, 7)
    assert seen[-1] == (5, 5)
    assert _types(platform) == {
        "patient.registered": 5,
        "appointment.booked": 7,
        "appointment.arrived": 3,  # checked in, and on the way to completed (twice)
        "appointment.completed": 2,
        "appointment.cancelled": 1,
        "appointment.no_show": 1,
    }
    registered = of_type(platform, "patient.registered")[0]
    assert (
        registered.personal is not None
        and registered.subject_id == registered.payload["patient_id"]
    )
    assert "full_name" not in registered.payload
    assert len(of_type(platform, "zoho.record_synced")) == 12

    platform.catch_up()
    rows = {row["appointment_id"]: row for row in platform.warehouse.query("fct_appointment")}
    assert len(rows) == 7
    assert {row["channel"] for row in rows.values()} == {"zoho"}
    assert {row["branch_id"] for row in rows.values()} == {BRANCH}
    assert Counter(row["status"] for row in rows.values()) == {
        "completed": 2,
        "booked": 2,
        "cancelled": 1,
        "no_show": 1,
        "arrived": 1,
    }
    assert rows["zoho-52001"]["start_date"] == date(2026, 3, 10)
    assert rows["zoho-52007"]["start_date"] == date(2026, 3, 11)
    assert rows["zoho-52001"]["price_minor"] == 850_000
    patients = platform.warehouse.query("dim_patient")
    assert {row["registration_channel"] for row in patients} == {"zoho"}
    assert not platform.warehouse.query("integration_quarantine")

    # Done is done: a second run reads nothing; a restart reads all and adds nothing.
    written = len(canonical(platform))
    assert zoho.backfill("Contacts", poll_seconds=0).already_finished
    again = zoho.backfill("Appointments", poll_seconds=0, restart=True)
    assert (again.finished, again.stats.duplicates, again.stats.applied) == (True, 7, 0)
    assert len(canonical(platform)) == written


class CrashAfter:
    """A progress callback that fails once ``rows`` rows are committed: a crash between
    two batches, as a killed process would have it."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def __call__(self, done: int, total: int | None) -> None:
        if done >= self.rows:
            raise KeyboardInterrupt(f"crashed after {done} rows")


def test_a_crash_mid_file_resumes_at_the_first_row_not_committed(
    platform: Platform, fake: FakeZoho, zoho: ZohoService
) -> None:
    fake.add_records("Appointments", [appointment(n, Status="Completed") for n in range(1, 11)])
    with pytest.raises(KeyboardInterrupt):
        zoho.backfill("Appointments", poll_seconds=0, progress=CrashAfter(6))
    state = zoho.store.read_stream(TENANT, backfill_stream("Appointments"))[-1].payload
    assert (state["rows_committed"], state["finished"]) == (6, False)
    assert _types(platform)["appointment.booked"] == 6
    jobs_before = [path for method, path in fake.requests if method == "POST"]

    resumed = zoho.backfill("Appointments", poll_seconds=0)

    # The same job and file: no new job, only the rows not committed are read.
    assert [path for method, path in fake.requests if method == "POST"] == jobs_before
    assert (resumed.finished, resumed.rows, resumed.stats.seen) == (True, 4, 4)
    assert _types(platform) == {
        "appointment.booked": 10,
        "appointment.arrived": 10,
        "appointment.completed": 10,
    }
    assert len(of_type(platform, "zoho.record_synced")) == 10


def test_a_file_gone_on_resume_is_read_again_from_a_new_job(
    platform: Platform, fake: FakeZoho, zoho: ZohoService
) -> None:
    records = [appointment(n) for n in range(1, 8)]
    fake.add_records("Appointments", records)
    with pytest.raises(KeyboardInterrupt):
        zoho.backfill("Appointments", poll_seconds=0, progress=CrashAfter(3))
    # A day later the job's file has expired: here, another Zoho knows no such job.
    with FakeZoho(polls_until_complete=1) as later:
        later.add_records("Appointments", records)
        settings = platform.settings.model_copy(
            update={
                "zoho_client_id": later.client_id,
                "zoho_client_secret": later.client_secret,
                "zoho_refresh_token": later.refresh_token,
                "zoho_accounts_url": later.base_url,
                "zoho_api_domain": later.base_url,
            }
        )
        service = ZohoService(
            settings, platform.store, clock=platform.clock, client_factory=client_for(later)
        )
        resumed = service.backfill("Appointments", poll_seconds=0)
        service.close()
    assert resumed.finished
    assert (resumed.stats.duplicates, resumed.stats.applied) == (3, 4)  # read from row 1
    assert _types(platform) == {"appointment.booked": 7}


def test_backfill_progress_commits_with_the_batch_it_counts(
    platform: Platform, fake: FakeZoho, zoho: ZohoService
) -> None:
    fake.add_records("Contacts", [contact(n) for n in range(1, 8)])
    zoho.backfill("Contacts", poll_seconds=0)
    log = [stored.envelope for stored in platform.store.read_all(limit=10_000)]
    log = [event for event in log if event.correlation_id != "seed-directory"]
    marks = [i for i, event in enumerate(log) if event.stream_id == backfill_stream("Contacts")]
    counted = [log[i].payload["rows_committed"] for i in marks]
    assert counted == [0, 0, 3, 6, 7, 7]  # job created, job done, 3 batches, finished
    # Each batch's progress event is appended with the batch's events (one transaction):
    # right before them, and counting them.
    batches = [log[start + 1 : end] for start, end in pairwise(marks[2:6])]
    sizes = [len({event.payload.get("patient_id") for event in b} - {None}) for b in batches]
    assert sizes == [3, 3, 1]
    assert [len(b) for b in batches] == [6, 6, 2]  # registered + record_synced each


# --- one set of events, whichever path ----------------------------------------------------


def test_one_record_version_via_webhook_delta_and_backfill_is_one_set_of_events(
    platform: Platform, fake: FakeZoho, zoho: ZohoService
) -> None:
    from mymedic.integrations.zoho.webhook import SECRET_HEADER
    from mymedic.server import create_server
    from tests.integrations.conftest import CHANNEL_TOKEN, WORKFLOW_SECRET

    record = appointment(1)
    fake.add_records("Contacts", [contact(1)])
    fake.add_records("Appointments", [record])
    client = create_server().test_client()

    workflow = client.post(
        "/webhooks/zoho?module=Appointments", json=record, headers={SECRET_HEADER: WORKFLOW_SECRET}
    )
    assert workflow.status_code == 200, workflow.get_json()
    assert workflow.get_json()["applied"] == 1
    notification = {
        "server_time": 1767000000000,
        "query_params": {},
        "module": "Appointments",
        "resource_uri": f"{fake.base_url}/crm/v6/Appointments",
        "ids": [record["id"]],
        "affected_fields": [],
        "operation": "update",
        "channel_id": str(channel_id_for(TENANT)),
        "token": CHANNEL_TOKEN,
    }
    for _ in range(2):  # Zoho may deliver a notification twice
        answer = client.post("/webhooks/zoho", json=notification)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["duplicates"] == 1
    assert zoho.delta_sync("Appointments").stats.duplicates == 1
    assert zoho.backfill("Appointments", poll_seconds=0).stats.duplicates == 1

    assert _types(platform) == {"appointment.booked": 1}
    assert len(zoho.store.read_stream(TENANT, record_stream("Appointments", record["id"]))) == 1

    # A new version in Zoho: the delta sync brings it; every path after that is a no-op.
    fake.update_record("Appointments", record["id"], Status="Completed")
    assert zoho.delta_sync("Appointments").stats.applied == 1
    answer = client.post("/webhooks/zoho", json=notification)
    assert answer.get_json()["duplicates"] == 1
    assert zoho.backfill("Appointments", poll_seconds=0, restart=True).stats.applied == 0
    assert _types(platform) == {
        "appointment.booked": 1,
        "appointment.arrived": 1,
        "appointment.completed": 1,
    }


def test_a_stale_version_after_a_newer_one_changes_nothing(zoho: ZohoService) -> None:
    ingestor = zoho.ingestor()
    newer = _record("Appointments", appointment(1, modified=T0 + timedelta(hours=1)))
    older = _record("Appointments", appointment(1, Appointment_Start="2026-03-11T10:00:00+05:30"))
    assert ingestor.ingest([newer], "webhook").applied == 1
    head = zoho.store.head_position()
    stats = ingestor.ingest([older, newer], "backfill")
    assert (stats.stale, stats.duplicates, stats.applied) == (1, 1, 0)
    assert zoho.store.head_position() == head


def test_two_versions_of_one_record_in_one_batch_apply_in_order(zoho: ZohoService) -> None:
    ingestor = zoho.ingestor()
    later = "2026-03-10T11:00:00+05:30"
    first = _record("Appointments", appointment(1))
    moved = _record(
        "Appointments", appointment(1, modified=T0 + timedelta(minutes=5), Appointment_Start=later)
    )
    done = _record(
        "Appointments",
        appointment(
            1, modified=T0 + timedelta(minutes=9), Appointment_Start=later, Status="Completed"
        ),
    )
    stats = ingestor.ingest([first, moved, done], "backfill")  # one batch (of 3)
    assert (stats.applied, stats.events) == (3, 4)
    history = zoho.store.read_stream(TENANT, appointment_stream(1))
    assert [event.event_type for event in history] == [
        "appointment.booked",
        "appointment.rescheduled",
        "appointment.arrived",
        "appointment.completed",
    ]


class RacingStore:
    """Another path commits the same records just before this one appends."""

    def __init__(self, store: EventStore, race: Callable[[], object]) -> None:
        self._store = store
        self._race: Callable[[], object] | None = race

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def append_streams(self, tenant_id: str, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        if self._race is not None:
            race, self._race = self._race, None
            race()
        return self._store.append_streams(tenant_id, appends)


def test_two_paths_racing_on_one_version_write_it_once(
    platform: Platform, zoho: ZohoService
) -> None:
    mapping = load_tenant_mapping(platform.settings, TENANT)
    records = [_record("Appointments", appointment(n)) for n in (1, 2)]
    webhook = ZohoIngestor(platform.store, mapping, clock=platform.clock)
    # The delta sync read its streams before the webhook committed record 1.
    racing = RacingStore(platform.store, lambda: webhook.ingest(records[:1], "webhook"))
    delta = ZohoIngestor(racing, mapping, clock=platform.clock)  # type: ignore[arg-type]

    stats = delta.ingest(records, "delta")

    assert (stats.applied, stats.duplicates) == (1, 1)
    assert _types(platform) == {"appointment.booked": 2}
    synced = of_type(platform, "zoho.record_synced")
    assert sorted(event.payload["source"] for event in synced) == ["delta", "webhook"]


def test_event_ids_derive_from_the_record_version(zoho: ZohoService) -> None:
    from mymedic.integrations.zoho.streams import version_key, zoho_event_id

    record = _record("Appointments", appointment(1))
    zoho.ingestor().ingest([record], "webhook")
    (booked,) = zoho.store.read_stream(TENANT, appointment_stream(1))
    assert booked.event_id == zoho_event_id(
        TENANT, "Appointments", record.record_id, version_key(record.modified_time), "1"
    )


# --- the delta sync -------------------------------------------------------------------------


def test_the_delta_sync_moves_the_watermark_only_when_the_run_succeeded(
    platform: Platform, fake: FakeZoho
) -> None:
    fake.add_records(
        "Appointments", [appointment(1), appointment(2, modified=T0 + timedelta(hours=2))]
    )
    zoho = ZohoService(
        platform.settings,
        platform.store,
        clock=platform.clock,
        client_factory=client_for(fake, max_attempts=2),
    )
    first = zoho.delta_sync("Appointments")
    assert first.advanced and first.watermark == T0 + timedelta(hours=2)
    assert first.since is None

    fake.update_record("Appointments", "52001", Status="Cancelled")
    fake.fail_next(503, times=2)  # every attempt of the run fails
    with pytest.raises(ZohoUnavailable):
        zoho.delta_sync("Appointments")
    (watermark,) = platform.store.read_stream(TENANT, sync_stream("Appointments"))
    assert watermark.payload["modified_through"] == first.watermark.isoformat()
    assert _types(platform)["appointment.cancelled"] == 0

    again = zoho.delta_sync("Appointments")
    assert again.since == first.watermark - timedelta(minutes=5)  # the overlap
    assert again.advanced and again.stats.applied == 1
    assert _types(platform)["appointment.cancelled"] == 1
    zoho.close()


def test_a_finished_backfill_starts_the_delta_sync_where_the_snapshot_ends(
    platform: Platform, fake: FakeZoho
) -> None:
    newest = T0 + timedelta(hours=3)
    fake.add_records("Appointments", [appointment(1), appointment(2, modified=newest)])
    zoho = ZohoService(
        platform.settings, platform.store, clock=platform.clock, client_factory=client_for(fake)
    )
    assert zoho.backfill("Appointments", poll_seconds=0).finished
    delta = zoho.delta_sync("Appointments")
    assert delta.since == newest - timedelta(minutes=5)  # not the whole module again
    assert delta.stats.applied == 0
    zoho.close()


def test_a_record_without_a_usable_modified_time_is_quarantined_and_the_sync_goes_on(
    platform: Platform, fake: FakeZoho
) -> None:
    fake.add_records("Appointments", [appointment(1), appointment(2)])
    fake.set_raw_field("Appointments", "52002", "Modified_Time", "yesterday")
    zoho = ZohoService(
        platform.settings, platform.store, clock=platform.clock, client_factory=client_for(fake)
    )
    result = zoho.delta_sync("Appointments")
    assert (result.stats.applied, result.stats.quarantined) == (1, 1)
    assert result.advanced
    [bad] = of_type(platform, "integration.record_quarantined")
    assert (bad.payload["record_id"], bad.payload["field"]) == ("52002", "Modified_Time")
    zoho.close()


# --- quarantine --------------------------------------------------------------------------------


def test_bad_records_are_quarantined_and_the_rest_of_the_batch_goes_on(
    platform: Platform, zoho: ZohoService
) -> None:
    batch = [
        _record("Contacts", contact(1)),
        _record("Deals", {"id": "63001", "Modified_Time": T0.isoformat(), "Amount": 1}),
        _record("Contacts", contact(2, Full_Name="")),  # a patient needs a name
        _record("Appointments", appointment(1, Appointment_Start="31/02/2026 10:00")),
        _record("Appointments", appointment(2)),
    ]
    ingestor = zoho.ingestor()
    stats = ingestor.ingest(batch, "backfill")
    assert (stats.applied, stats.quarantined) == (2, 3)
    assert _types(platform) == {"patient.registered": 1, "appointment.booked": 1}

    quarantined = {
        q.payload["record_id"]: q for q in of_type(platform, "integration.record_quarantined")
    }
    assert set(quarantined) == {"63001", "41002", "52001"}
    date_problem = quarantined["52001"]
    assert date_problem.payload["field"] == "start_at"
    assert "Appointment_Start" in date_problem.payload["reason"]
    assert "31/02" not in str(date_problem.payload)  # the value only in the personal part
    assert date_problem.personal is not None
    assert date_problem.personal["fields"]["Appointment_Start"] == "31/02/2026 10:00"
    assert "31/02" in date_problem.personal["detail"]
    assert date_problem.subject_id == "zoho:Appointments:52001"
    assert date_problem.branch_id == "*"
    assert quarantined["41002"].payload["field"] == "full_name"
    assert quarantined["41002"].payload["reason"].startswith("missing required field")
    assert quarantined["63001"].payload["reason"].startswith("unknown module")

    # Once per version: again, nothing new.
    head = zoho.store.head_position()
    assert ingestor.ingest(batch, "delta").duplicates == 5
    assert zoho.store.head_position() == head

    platform.catch_up()
    rows = {row["record_id"]: row for row in platform.warehouse.query("integration_quarantine")}
    assert set(rows) == {"63001", "41002", "52001"}
    row = rows["52001"]
    assert (row["tenant_id"], row["source"], row["module"], row["field"]) == (
        TENANT,
        "zoho",
        "Appointments",
        "start_at",
    )
    assert row["modified_time"] == T0 and row["resolved_at"] is None
    assert not any("31/02" in str(value) for row in rows.values() for value in row.values())

    # Fixed in Zoho: the next version is synced and resolves the quarantine.
    fixed = appointment(1, modified=T0 + timedelta(minutes=1))
    assert ingestor.ingest([_record("Appointments", fixed)], "webhook").applied == 1
    platform.catch_up()
    (row,) = platform.warehouse.query("integration_quarantine", {"record_id": "52001"})
    assert row["resolved_at"] is not None


def test_unreadable_bulk_rows_are_quarantined_as_they_are() -> None:
    from mymedic.integrations.zoho.backfill import row_item

    no_id = row_item("Contacts", {"Id": "", "Modified_Time": T0.isoformat()}, page=1, row_number=7)
    assert isinstance(no_id, Unreadable) and no_id.quarantined.record_id == "row-1-7"
    naive = row_item(
        "Contacts", {"Id": "41001", "Modified_Time": "2026-02-02 09:00"}, page=1, row_number=1
    )
    assert isinstance(naive, Unreadable) and naive.quarantined.field == "Modified_Time"
    good = row_item(
        "Contacts", {"Id": "41001", "Modified_Time": T0.isoformat(), "X": "y"}, page=1, row_number=1
    )
    assert isinstance(good, ZohoRecord) and good.fields["X"] == "y"


def test_unreadable_rows_are_quarantined_once(zoho: ZohoService, platform: Platform) -> None:
    from mymedic.integrations.zoho.backfill import row_item

    row = row_item("Contacts", {"Id": "41009", "Modified_Time": "yesterday"}, page=1, row_number=1)
    ingestor = zoho.ingestor()
    assert ingestor.ingest([row], "backfill").quarantined == 1
    assert ingestor.ingest([row], "backfill").duplicates == 1
    (event,) = of_type(platform, "integration.record_quarantined")
    assert event.payload["modified_time"] is None
    assert e.RecordQuarantined.model_validate(event.payload).field == "Modified_Time"
    platform.catch_up()
    (row,) = platform.warehouse.query("integration_quarantine")
    assert (row["record_id"], row["modified_time"], row["mapping_version"]) == ("41009", None, 1)


@pytest.mark.parametrize("column", ["Id", "id"])
def test_a_bulk_read_row_takes_its_id_from_either_spelling_of_the_column(column: str) -> None:
    from mymedic.integrations.zoho.backfill import row_item

    row = {column: "52001", "Modified_Time": "2026-02-02T09:00:00+05:30", "Status": "Scheduled"}
    record = row_item("Appointments", row, page=1, row_number=1)
    assert isinstance(record, ZohoRecord)
    assert record.record_id == "52001"
