"""Zoho's webhooks, the scheduled Zoho jobs and ``mymedic zoho``, as Zoho, Cloud
Scheduler and an operator call them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from functions_framework import create_app
from typer.testing import CliRunner

from mymedic import entrypoints
from mymedic.bootstrap import Platform
from mymedic.cli import app
from mymedic.integrations.zoho.service import channel_id_for
from mymedic.integrations.zoho.webhook import SECRET_HEADER
from mymedic.server import create_server
from mymedic.settings import Settings
from mymedic.testing.zoho_fake import FakeZoho
from tests.conftest import TENANT
from tests.integrations.conftest import (
    CHANNEL_TOKEN,
    WORKFLOW_SECRET,
    appointment,
    canonical,
    contact,
    of_type,
    write_mapping,
)

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
runner = CliRunner()


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    return create_server().test_client()


def notification(ids: list[str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "server_time": 1767000000000,
        "query_params": {},
        "module": "Appointments",
        "resource_uri": "https://www.zohoapis.in/crm/v6/Appointments",
        "ids": ids,
        "affected_fields": [{"Appointments": ["Status"]}],
        "operation": "update",
        "channel_id": str(channel_id_for(TENANT)),
        "token": CHANNEL_TOKEN,
    }
    body.update(overrides)
    return body


def _workflow(client: FlaskClient, body: Any, module: str = "Appointments", **headers: str) -> Any:
    return client.post(
        f"/webhooks/zoho?module={module}",
        data=orjson.dumps(body),
        content_type="application/json",
        headers={SECRET_HEADER: WORKFLOW_SECRET, **headers},
    )


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (notification(["52001"], token="not-the-channel-token"), {}),  # noqa: S106 - synthetic
        ({k: v for k, v in notification(["52001"]).items() if k != "token"}, {}),
        (appointment(1), {SECRET_HEADER: "not-the-secret"}),
        (appointment(1), {SECRET_HEADER: ""}),
        (appointment(1), {}),  # a workflow body without the secret header
        (b"{not json", {}),
    ],
    ids=["wrong-token", "no-token", "wrong-secret", "empty-secret", "no-secret", "garbage"],
)
def test_a_wrong_or_missing_token_or_secret_is_401_and_writes_nothing(
    client: FlaskClient,
    platform: Platform,
    fake: FakeZoho,
    body: Any,
    headers: dict[str, str],
) -> None:
    fake.add_records("Appointments", [appointment(1)])
    head = platform.store.head_position()
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    answer = client.post(
        "/webhooks/zoho?module=Appointments",
        data=raw,
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert platform.store.head_position() == head
    assert fake.requests == []  # nothing was fetched either


def test_unconfigured_secrets_let_nothing_in(make_platform: Any, settings: Settings) -> None:
    instance = make_platform()
    bare = settings.model_copy(update={"zoho_webhook_token": None, "zoho_workflow_secret": None})
    instance.settings = bare
    entrypoints.use_platform(instance)
    try:
        client = create_server().test_client()
        assert _workflow(client, appointment(1)).status_code == 401
        answer = client.post("/webhooks/zoho", json=notification(["52001"], token=""))
        assert answer.status_code == 401
    finally:
        entrypoints.use_platform(None)
    assert canonical(instance) == []


# --- both shapes -------------------------------------------------------------------------------


def test_a_notification_fetches_the_records_it_names_and_ingests_them(
    client: FlaskClient, platform: Platform, fake: FakeZoho
) -> None:
    fake.add_records("Appointments", [appointment(1), appointment(2, Status="Cancelled")])
    answer = client.post("/webhooks/zoho", json=notification(["52001", "52002", "52999"]))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["shape"], body["received"], body["applied"]) == ("notification", 2, 2), str(body)
    assert sorted(e.event_type for e in canonical(platform)) == [
        "appointment.booked",
        "appointment.booked",
        "appointment.cancelled",
    ]
    # Ids only arrive: the records were read from Zoho by id.
    assert ("GET", "/crm/v6/Appointments") in fake.requests


def test_a_workflow_webhook_brings_the_record_itself(
    client: FlaskClient, platform: Platform, fake: FakeZoho
) -> None:
    one = _workflow(client, contact(1), module="Contacts")
    assert one.status_code == 200, one.get_json()
    assert one.get_json()["shape"] == "workflow"
    several = _workflow(
        client, {"module": "Appointments", "data": [appointment(1), appointment(2)]}, module=""
    )
    assert several.status_code == 200, several.get_json()
    assert several.get_json()["applied"] == 2
    assert len(of_type(platform, "appointment.booked")) == 2
    assert len(of_type(platform, "patient.registered")) == 1
    assert fake.requests == []  # nothing to fetch: the body is the record
    # Zoho retrying the same call changes nothing.
    again = _workflow(client, contact(1), module="Contacts")
    assert again.get_json()["duplicates"] == 1
    assert len(of_type(platform, "patient.registered")) == 1


@pytest.mark.parametrize(
    ("module", "body", "status", "error", "field"),
    [
        ("Appointments", b"{not json", 400, "invalid_json", None),
        ("Appointments", [1, 2], 400, "invalid_json", None),
        ("Appointments", {"id": "52001"}, 422, "invalid_record", "data[0].Modified_Time"),
        (
            "Appointments",
            {**appointment(1), "Modified_Time": "2026-02-02 09:00"},
            422,
            "invalid_record",
            "data[0].Modified_Time",
        ),
        ("Appointments", {**appointment(1), "id": "../52001"}, 422, "invalid_record", "data[0].id"),
        ("Appointments", {"data": []}, 422, "invalid_body", "data"),
        ("Bad/Module", appointment(1), 400, "invalid_module", "?module"),
    ],
)
def test_a_malformed_workflow_call_names_the_problem_and_writes_nothing(
    client: FlaskClient,
    platform: Platform,
    module: str,
    body: Any,
    status: int,
    error: str,
    field: str | None,
) -> None:
    head = platform.store.head_position()
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    answer = client.post(
        f"/webhooks/zoho?module={module}",
        data=raw,
        content_type="application/json",
        headers={SECRET_HEADER: WORKFLOW_SECRET},
    )
    assert answer.status_code == status, answer.get_json()
    assert (answer.get_json()["error"], answer.get_json().get("field")) == (error, field)
    assert platform.store.head_position() == head


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"ids": "52001"}, 422, "invalid_ids"),
        ({"ids": ["52001,52002"]}, 422, "invalid_ids"),
        ({"ids": [str(n) for n in range(101)]}, 422, "invalid_ids"),
    ],
)
def test_a_malformed_notification_names_the_problem(
    client: FlaskClient, platform: Platform, overrides: dict[str, Any], status: int, error: str
) -> None:
    answer = client.post("/webhooks/zoho", json={**notification(["52001"]), **overrides})
    assert (answer.status_code, answer.get_json()["error"]) == (status, error)


def test_records_of_a_module_not_mapped_are_quarantined_not_refused(
    client: FlaskClient, platform: Platform, fake: FakeZoho
) -> None:
    """A channel may still watch a module the mapping dropped, a workflow rule may post
    one: nothing is lost, the records are listed and taken up once the module is mapped."""
    answer = client.post("/webhooks/zoho", json=notification(["61001"], module="Deals"))
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["quarantined"], fake.requests) == (1, [])  # nothing fetched
    again = client.post("/webhooks/zoho", json=notification(["61001"], module="Deals"))
    assert again.get_json()["duplicates"] == 1
    workflow = _workflow(client, {**appointment(1), "id": "61002"}, module="Deals")
    assert workflow.get_json()["quarantined"] == 1
    platform.catch_up()
    rows = platform.warehouse.query("integration_quarantine")
    assert sorted((row["module"], row["record_id"], row["reason"]) for row in rows) == [
        ("Deals", "61001", "unknown module (not in mapping version 1)"),
        ("Deals", "61002", "unknown module (not in mapping version 1)"),
    ]


def test_a_notification_without_ids_is_accepted_and_does_nothing(client: FlaskClient) -> None:
    answer = client.post("/webhooks/zoho", json=notification([], operation="delete"))
    assert answer.status_code == 200
    assert answer.get_json()["received"] == 0


def test_the_webhook_answers_post_only(client: FlaskClient) -> None:
    assert client.get("/webhooks/zoho").status_code == 405


def test_the_cloud_function_serves_the_webhook(platform: Platform) -> None:
    function = create_app("zoho_webhook", MAIN).test_client()
    answer = function.post(
        "/?module=Appointments", json=appointment(1), headers={SECRET_HEADER: WORKFLOW_SECRET}
    )
    assert answer.status_code == 200, answer.get_json()
    assert len(of_type(platform, "appointment.booked")) == 1


# --- scheduled jobs ------------------------------------------------------------------------------


def test_the_zoho_jobs_backfill_and_sync_every_module(platform: Platform, fake: FakeZoho) -> None:
    fake.add_records("Contacts", [contact(1), contact(2)])
    fake.add_records("Appointments", [appointment(1), appointment(2)])
    jobs = create_app("jobs", MAIN).test_client()

    backfill = jobs.post("/jobs/zoho-backfill?module=Contacts")
    assert backfill.status_code == 200, backfill.get_json()
    body = backfill.get_json()
    assert body["modules"]["Contacts"]["finished"] is True
    assert body["modules"]["Contacts"]["applied"] == 2

    sync = jobs.post("/jobs/zoho-delta-sync")
    assert sync.status_code == 200, sync.get_json()
    modules = sync.get_json()["modules"]
    assert set(modules) == {"Contacts", "Appointments", "Referrals"}
    assert (modules["Contacts"]["duplicates"], modules["Appointments"]["applied"]) == (2, 2)
    assert modules["Appointments"]["advanced"] is True
    assert len(canonical(platform)) == 4

    unknown = jobs.post("/jobs/zoho-delta-sync?module=Deals")
    assert (unknown.status_code, unknown.get_json()["error"]) == (422, "unknown_module")
    assert jobs.get("/jobs/zoho-backfill").status_code == 405


# --- the command line ---------------------------------------------------------------------


def _flat(output: str) -> str:
    """The console's output without its line wrapping."""
    return " ".join(output.split())


@pytest.fixture
def zoho_env(monkeypatch: pytest.MonkeyPatch, fake: FakeZoho, tmp_path: Path) -> Path:
    mapping = write_mapping(tmp_path / "cli-mappings")
    for name, value in {
        "ZOHO_TENANT_ID": TENANT,
        "ZOHO_CLIENT_ID": fake.client_id,
        "ZOHO_CLIENT_SECRET": fake.client_secret,
        "ZOHO_REFRESH_TOKEN": fake.refresh_token,
        "ZOHO_ACCOUNTS_URL": fake.base_url,
        "ZOHO_API_DOMAIN": fake.base_url,
        "ZOHO_MAPPING_DIR": str(mapping.parent),
    }.items():
        monkeypatch.setenv(f"MYMEDIC_{name}", value)
    return mapping


def test_the_cli_backfills_syncs_and_lists_the_quarantine(
    zoho_env: Path, fake: FakeZoho, tmp_path: Path
) -> None:
    fake.add_records(
        "Appointments",
        [appointment(1), appointment(2, Appointment_Start="31/02/2026 10:00"), appointment(3)],
    )
    data = ["--data-dir", str(tmp_path / "cli-data")]
    backfill = runner.invoke(
        app, ["zoho", "backfill", "--module", "Appointments", "--poll-seconds", "0", *data]
    )
    assert backfill.exit_code == 0, backfill.output
    assert "finished after 1 page(s), 3 rows" in _flat(backfill.output)
    assert "quarantined 1" in _flat(backfill.output)

    again = runner.invoke(app, ["zoho", "backfill", "--module", "Appointments", *data])
    assert "finished already" in _flat(again.output)

    sync = runner.invoke(app, ["zoho", "sync", "--module", "Appointments", *data])
    assert sync.exit_code == 0, sync.output
    assert "duplicates 3" in _flat(sync.output)

    listed = runner.invoke(app, ["zoho", "quarantine", "--format", "json", *data])
    assert listed.exit_code == 0, listed.output
    (row,) = orjson.loads(listed.stdout)
    assert (row["module"], row["record_id"], row["field"]) == ("Appointments", "52002", "start_at")
    assert "unparsable value" in row["reason"]
    table = runner.invoke(app, ["zoho", "quarantine", *data])
    assert "52002" in table.stdout
    assert "31/02" not in listed.stdout + table.stdout  # never the raw value

    unknown = runner.invoke(app, ["zoho", "backfill", "--module", "Deals", *data])
    assert unknown.exit_code == 2


def test_the_cli_without_zoho_settings_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MYMEDIC_ZOHO_TENANT_ID", TENANT)
    monkeypatch.setenv("MYMEDIC_ZOHO_MAPPING_DIR", str(write_mapping(tmp_path / "m").parent))
    result = runner.invoke(
        app, ["zoho", "sync", "--module", "Contacts", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    assert "MYMEDIC_ZOHO_CLIENT_ID" in result.output


def test_check_mapping_reports_what_does_not_fit(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "m")
    good = tmp_path / "samples.json"
    good.write_bytes(orjson.dumps({"Contacts": [contact(1), contact(2)]}))
    ok = runner.invoke(
        app, ["zoho", "check-mapping", "--mapping", str(mapping), "--samples", str(good)]
    )
    assert ok.exit_code == 0, ok.output
    assert "Contacts -> patient: 2 sample record(s), 0 would be quarantined" in ok.stdout

    rows = [
        {**appointment(1), "Patient_Name": "41001", "Status": "Rescheduled"},
        {**appointment(2), "Patient_Name": "41002"},
    ]
    bulk = tmp_path / "appointments.csv"
    with bulk.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bad = runner.invoke(
        app,
        [
            "zoho",
            "check-mapping",
            "--mapping",
            str(mapping),
            "--samples",
            str(bulk),
            "--module",
            "Appointments",
            "--format",
            "json",
        ],
    )
    assert bad.exit_code == 1, bad.output
    report = orjson.loads(bad.stdout)
    assert report["ok"] is False
    assert report["modules"]["Appointments"]["unmapped_values"] == {"status": ["Rescheduled"]}

    needs_module = runner.invoke(
        app, ["zoho", "check-mapping", "--mapping", str(mapping), "--samples", str(bulk)]
    )
    assert needs_module.exit_code == 2
