"""The command HTTP function through functions-framework's own app and test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from mymedic.app.calendar import calendar_day
from mymedic.bootstrap import Platform
from tests.conftest import BRANCH, TENANT, as_admin, bearer, booking, registration, written

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    return as_admin(create_app("commands", MAIN).test_client())


def test_a_booking_is_accepted_with_its_event_ids(client: FlaskClient, platform: Platform) -> None:
    response = client.post(
        "/book_appointment", json=booking(), headers={"X-Correlation-Id": "corr-12345678"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["stream_id"] == "appointment:apt-1"
    assert body["stream_version"] == 1
    assert body["correlation_id"] == "corr-12345678"
    [stored] = platform.store.read_stream(TENANT, "appointment:apt-1")
    assert [stored.event_id] == body["event_ids"]
    assert stored.correlation_id == "corr-12345678"
    assert stored.source == "command:book_appointment"
    # The in-process bus delivered it to the calendar right after the commit.
    day = calendar_day(platform.documents, TENANT, BRANCH, "2026-03-10")
    assert [a["appointment_id"] for a in day["appointments"]] == ["apt-1"]
    assert day["counts"] == {"booked": 1}


def test_personal_data_never_reaches_the_payload(client: FlaskClient, platform: Platform) -> None:
    assert client.post("/register_patient", json=registration()).status_code == 201
    [event] = platform.store.read_stream(TENANT, "patient:pat-1")
    assert event.personal is not None and event.personal["full_name"] == "Synthetic Patient"
    assert "Synthetic" not in str(event.payload)


@pytest.mark.parametrize(
    ("body", "status", "error", "field"),
    [
        (b"{not json", 400, "invalid_json", None),
        (b"[1, 2]", 400, "invalid_json", None),
        (booking(duration_minutes=2), 422, "validation_failed", "duration_minutes"),
        (booking(start_at="2026-03-10T10:00:00"), 422, "validation_failed", "start_at"),
        (booking(currency="rupees"), 422, "validation_failed", "currency"),
        (booking(surprise=True), 422, "validation_failed", "surprise"),
        (booking(tenant_id="bad tenant!"), 422, "validation_failed", "tenant_id"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_problem(
    client: FlaskClient, platform: Platform, body: Any, status: int, error: str, field: str | None
) -> None:
    if isinstance(body, bytes):
        response = client.post("/book_appointment", data=body, content_type="application/json")
    else:
        response = client.post("/book_appointment", json=body)
    assert response.status_code == status
    payload = response.get_json()
    assert payload["error"] == error
    if field:
        assert field in [f["field"] for f in payload["fields"]]
    assert written(platform) == []


def test_unknown_command_and_wrong_method(client: FlaskClient) -> None:
    response = client.post("/teleport_patient", json={})
    assert response.status_code == 404
    assert "book_appointment" in response.get_json()["known"]
    assert client.put("/book_appointment", json=booking()).status_code == 405


def test_rules_conflicts_and_missing_aggregates(client: FlaskClient, platform: Platform) -> None:
    assert client.post("/book_appointment", json=booking()).status_code == 201
    again = client.post("/book_appointment", json=booking())
    assert (again.status_code, again.get_json()["error"]) == (409, "already_exists")
    missing = client.post(
        "/complete_appointment",
        json={"tenant_id": TENANT, "branch_id": BRANCH, "appointment_id": "x"},
    )
    assert (missing.status_code, missing.get_json()["error"]) == (404, "not_found")
    stale = client.post(
        "/cancel_appointment",
        json={
            "tenant_id": TENANT,
            "branch_id": BRANCH,
            "appointment_id": "apt-1",
            "reason": "travel",
            "expected_version": 0,
        },
    )
    assert stale.status_code == 409
    assert stale.get_json()["actual_version"] == 1
    other_branch = client.post(
        "/complete_appointment",
        json={"tenant_id": TENANT, "branch_id": "branch-2", "appointment_id": "apt-1"},
    )
    assert (other_branch.status_code, other_branch.get_json()["field"]) == (422, "branch_id")
    assert platform.store.stream_version(TENANT, "appointment:apt-1") == 1


def test_openapi_describes_every_command(client: FlaskClient) -> None:
    from openapi_spec_validator import validate

    document = client.get("/openapi.json").get_json()
    validate(document)  # a valid OpenAPI 3.1 document
    assert document["openapi"] == "3.1.0"
    assert "/commands/book_appointment" in document["paths"]
    schema = document["components"]["schemas"]["BookAppointment"]
    assert "start_at" in schema["required"]
    operation = document["paths"]["/commands/book_appointment"]["post"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert {p["name"] for p in operation["parameters"]} == {"Idempotency-Key", "X-Correlation-Id"}
    assert {"401", "403", "409", "503"} <= set(operation["responses"])
    slots = document["paths"]["/read/portal_slots"]["get"]
    assert {p["name"] for p in slots["parameters"]} == {
        "tenant_id",
        "branch_id",
        "city",
        "clinician_id",
        "procedure_code",
        "date",
        "step_minutes",
    }
    assert "/audit/appointments/{appointment_id}" in document["paths"]


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, "missing_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "invalid_token"),
        ({"Authorization": "Bearer not.a.token"}, 401, "invalid_token"),
        (bearer(tenant_id="tenant-b"), 403, "wrong_tenant"),
        (bearer(role="staff", branches=frozenset({"branch-9"})), 403, "branch_not_allowed"),
        (bearer(role="analyst"), 403, "role_not_allowed"),
        (
            bearer(role="patient", subject="pat-2", branches=frozenset({BRANCH})),
            403,
            "not_own_record",
        ),
    ],
)
def test_commands_need_a_token_for_the_tenant_branch_and_role(
    platform: Platform, headers: dict[str, str], status: int, error: str
) -> None:
    client = create_app("commands", MAIN).test_client()
    response = client.post("/book_appointment", json=booking(), headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (status, error)
    assert written(platform) == []


def test_the_actor_is_the_token_s_subject(platform: Platform) -> None:
    client = create_app("commands", MAIN).test_client()
    patient = bearer(role="patient", subject="pat-1", branches=frozenset({BRANCH}))
    assert client.post("/book_appointment", json=booking(), headers=patient).status_code == 201
    [event] = platform.store.read_stream(TENANT, "appointment:apt-1")
    assert event.actor == "patient:pat-1"


def test_a_patient_may_cancel_their_own_appointment_only(platform: Platform) -> None:
    client = create_app("commands", MAIN).test_client()
    assert client.post("/book_appointment", json=booking(), headers=bearer()).status_code == 201
    cancel = {"tenant_id": TENANT, "branch_id": BRANCH, "appointment_id": "apt-1", "reason": "ill"}
    branches = frozenset({BRANCH})
    other = bearer(role="patient", subject="pat-2", branches=branches)
    refused = client.post("/cancel_appointment", json=cancel, headers=other)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "not_own_record")
    owner = bearer(role="patient", subject="pat-1", branches=branches)
    assert client.post("/cancel_appointment", json=cancel, headers=owner).status_code == 201


def test_a_booking_in_the_past_is_refused(client: FlaskClient, platform: Platform) -> None:
    response = client.post(
        "/book_appointment", json=booking(occurred_at="2026-03-11T09:00:00+05:30")
    )
    assert response.status_code == 422
    assert (response.get_json()["error"], response.get_json()["field"]) == (
        "rule_violated",
        "start_at",
    )
    assert written(platform) == []
