"""The appointment audit through the HTTP functions: every step of an appointment's
life, straight from the event log, with who, why, what changed and what money moved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from functions_framework import create_app
from typer.testing import CliRunner

from mymedic.bootstrap import Platform
from mymedic.cli import app as cli
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking, registration

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
APPOINTMENT = {"tenant_id": TENANT, "branch_id": BRANCH, "appointment_id": "apt-1"}
# The test clock starts at 2026-03-02T08:00Z (13:30 in Pune): this start is ~19.5 h on.
TOMORROW_MORNING = "2026-03-03T09:00:00+05:30"


def staff() -> dict[str, str]:
    return bearer(role="staff", subject="desk-1", branches=frozenset({BRANCH}))


def patient() -> dict[str, str]:
    return bearer(role="patient", subject="pat-1", branches=frozenset({BRANCH}))


@pytest.fixture
def commands(platform: Platform) -> FlaskClient:
    return create_app("commands", MAIN).test_client()


@pytest.fixture
def audit(platform: Platform) -> FlaskClient:
    return create_app("audit", MAIN).test_client()


def send(
    client: FlaskClient, name: str, body: dict[str, Any], auth: dict[str, str], corr: str
) -> Any:
    return client.post(f"/{name}", json=body, headers={**auth, "X-Correlation-Id": corr})


def read_audit(
    client: FlaskClient,
    appointment_id: str = "apt-1",
    tenant_id: str = TENANT,
    auth: dict[str, str] | None = None,
) -> Any:
    url = f"/appointments/{appointment_id}?tenant_id={tenant_id}"
    return client.get(url, headers=auth if auth is not None else bearer())


def live_an_appointment(commands: FlaskClient) -> None:
    """Register, book, take a deposit, move it to tomorrow morning, set a policy,
    cancel late (half the deposit is forfeited) and refund the rest; with two refused
    commands on the way."""
    accepted = [
        ("register_patient", registration(), staff(), "corr-register-01"),
        ("book_appointment", booking(), bearer(), "corr-book-000001"),
        (
            "take_payment",
            {
                **APPOINTMENT,
                "payment_id": "pay-1",
                "kind": "deposit",
                "amount_minor": 200_000,
                "currency": "INR",
                "mode": "upi",
                "provider": "razorpay",
                "provider_reference": "pay_RZP0001",
            },
            staff(),
            "corr-deposit-001",
        ),
        (
            "reschedule_appointment",
            {
                **APPOINTMENT,
                "start_at": TOMORROW_MORNING,
                "clinician_id": "clin-2",
                "reason": "earlier slot wanted",
            },
            patient(),
            "corr-move-000001",
        ),
        (
            "set_cancellation_policy",
            {
                "tenant_id": TENANT,
                "branch_id": "*",
                "forfeit_within_hours": 24,
                "forfeit_percent": 50,
            },
            bearer(),
            "corr-policy-0001",
        ),
        (
            "cancel_appointment",
            {**APPOINTMENT, "reason": "travelling"},
            staff(),
            "corr-cancel-0001",
        ),
    ]
    for name, body, auth, corr in accepted:
        response = send(commands, name, body, auth, corr)
        assert response.status_code == 201, (name, response.get_json())
    refund = {
        **APPOINTMENT,
        "refund_id": "ref-1",
        "payment_id": "pay-1",
        "currency": "INR",
        "reason": "deposit less the forfeited half",
    }
    # Refused: half the deposit was forfeited and cannot go back.
    too_much = send(
        commands,
        "refund_appointment_payment",
        {**refund, "amount_minor": 100_001},
        bearer(),
        "corr-refused-001",
    )
    assert too_much.status_code == 422, too_much.get_json()
    # Refused: the front desk may not refund.
    not_allowed = send(
        commands,
        "refund_appointment_payment",
        {**refund, "amount_minor": 100_000},
        staff(),
        "corr-refused-002",
    )
    assert not_allowed.status_code == 403, not_allowed.get_json()
    done = send(
        commands,
        "refund_appointment_payment",
        {**refund, "amount_minor": 100_000},
        bearer(),
        "corr-refund-0001",
    )
    assert done.status_code == 201, done.get_json()


def test_the_audit_tells_every_step_in_order(commands: FlaskClient, audit: FlaskClient) -> None:
    live_an_appointment(commands)
    response = read_audit(audit)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert (body["tenant_id"], body["branch_id"], body["patient_id"]) == (TENANT, BRANCH, "pat-1")
    entries = body["entries"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    steps = [
        (e["event_type"], e["stream_id"], e["actor"], e["command"], e["correlation_id"])
        for e in entries
    ]
    book = ("admin:test-admin", "book_appointment", "corr-book-000001")
    deposit = ("staff:desk-1", "take_payment", "corr-deposit-001")
    move = ("patient:pat-1", "reschedule_appointment", "corr-move-000001")
    cancel = ("staff:desk-1", "cancel_appointment", "corr-cancel-0001")
    refund = ("admin:test-admin", "refund_appointment_payment", "corr-refund-0001")
    assert steps == [
        ("appointment.booked", "appointment:apt-1", *book),
        ("schedule.slot_reserved", "schedule:clinician:clin-1:2026-03-10", *book),
        ("schedule.slot_reserved", "schedule:room:room-1:2026-03-10", *book),
        ("appointment.payment_taken", "appointment:apt-1", *deposit),
        ("appointment.rescheduled", "appointment:apt-1", *move),
        ("schedule.slot_released", "schedule:clinician:clin-1:2026-03-10", *move),
        ("schedule.slot_reserved", "schedule:clinician:clin-2:2026-03-03", *move),
        ("schedule.slot_reserved", "schedule:room:room-1:2026-03-03", *move),
        ("schedule.slot_released", "schedule:room:room-1:2026-03-10", *move),
        ("appointment.cancelled", "appointment:apt-1", *cancel),
        ("appointment.deposit_forfeited", "appointment:apt-1", *cancel),
        ("schedule.slot_released", "schedule:clinician:clin-2:2026-03-03", *cancel),
        ("schedule.slot_released", "schedule:room:room-1:2026-03-03", *cancel),
        ("appointment.payment_refunded", "appointment:apt-1", *refund),
    ]
    appointment_versions = [
        e["stream_version"] for e in entries if e["stream_id"] == "appointment:apt-1"
    ]
    assert appointment_versions == [1, 2, 3, 4, 5, 6]
    recorded = [e["recorded_at"] for e in entries]
    assert recorded == sorted(recorded)

    # The refused commands left no trace.
    correlations = {e["correlation_id"] for e in entries}
    assert not {"corr-refused-001", "corr-refused-002"} & correlations

    by_type = {e["event_type"]: e for e in entries if e["stream_id"] == "appointment:apt-1"}
    booked = by_type["appointment.booked"]
    assert booked["changes"]["status"] == {"before": None, "after": "booked"}
    assert booked["changes"]["start_at"]["after"] == "2026-03-10T10:00:00+05:30"
    assert "MRI-BRAIN" in booked["summary"] and "INR 8,500.00" in booked["summary"]

    paid = by_type["appointment.payment_taken"]
    assert paid["changes"] == {"paid_minor": {"before": 0, "after": 200_000}}
    assert paid["money"] == {
        "movement": "deposit",
        "amount_minor": 200_000,
        "currency": "INR",
        "payment_id": "pay-1",
        "refund_id": None,
        "mode": "upi",
        "provider": "razorpay",
        "provider_reference": "pay_RZP0001",
        "reason": None,
    }

    moved = by_type["appointment.rescheduled"]
    assert moved["changes"] == {
        "start_at": {"before": "2026-03-10T10:00:00+05:30", "after": TOMORROW_MORNING},
        "clinician_id": {"before": "clin-1", "after": "clin-2"},
    }
    assert "earlier slot wanted" in moved["summary"]

    cancelled = by_type["appointment.cancelled"]
    assert cancelled["changes"] == {"status": {"before": "booked", "after": "cancelled"}}
    assert cancelled["money"] is None and cancelled["policy"] is None

    forfeited = by_type["appointment.deposit_forfeited"]
    assert forfeited["changes"] == {"forfeited_minor": {"before": 0, "after": 100_000}}
    assert forfeited["money"]["movement"] == "forfeiture"
    assert forfeited["money"]["amount_minor"] == 100_000
    policy = forfeited["policy"]
    assert (policy["trigger"], policy["forfeit_within_hours"], policy["forfeit_percent"]) == (
        "late_cancellation",
        24,
        50,
    )
    assert 19 < policy["hours_before_start"] < 20

    refunded = by_type["appointment.payment_refunded"]
    assert refunded["changes"] == {"refunded_minor": {"before": 0, "after": 100_000}}
    assert (refunded["money"]["refund_id"], refunded["money"]["payment_id"]) == ("ref-1", "pay-1")

    # A release names the interval it gave back.
    released = entries[5]["slot"]
    assert released == {
        "action": "released",
        "resource_kind": "clinician",
        "resource_id": "clin-1",
        "day": "2026-03-10",
        "start_at": "2026-03-10T10:00:00+05:30",
        "end_at": "2026-03-10T10:45:00+05:30",
    }

    assert body["summary"] == {
        "status": "cancelled",
        "patient_id": "pat-1",
        "clinician_id": "clin-2",
        "room_id": "room-1",
        "modality": "MRI",
        "procedure_code": "MRI-BRAIN",
        "start_at": TOMORROW_MORNING,
        "duration_minutes": 45,
        "price_minor": 850_000,
        "currency": "INR",
        "paid_minor": 200_000,
        "refunded_minor": 100_000,
        "forfeited_minor": 100_000,
        "net_held_minor": 100_000,
        "refundable_minor": 0,
        "balance_outstanding_minor": 0,
        "booked_by": "admin:test-admin",
        "booked_at": booked["occurred_at"],
        "booked_recorded_at": booked["recorded_at"],
        "booked_via": "command:book_appointment",
        "channel": "portal",
    }


def test_personal_data_never_appears(commands: FlaskClient, audit: FlaskClient) -> None:
    live_an_appointment(commands)
    raw = read_audit(audit).get_data(as_text=True)
    assert "Synthetic" not in raw and "personal" not in raw
    for value in registration()["personal"].values():
        assert orjson.dumps(value).decode() not in raw


def test_a_booked_appointment_shows_what_is_still_due(
    commands: FlaskClient, audit: FlaskClient
) -> None:
    booked = send(commands, "book_appointment", booking(), staff(), "corr-book-000002")
    assert booked.status_code == 201
    body = read_audit(audit, auth=staff()).get_json()
    summary = body["summary"]
    assert (summary["status"], summary["paid_minor"]) == ("booked", 0)
    assert summary["balance_outstanding_minor"] == 850_000
    assert [e["event_type"] for e in body["entries"]] == [
        "appointment.booked",
        "schedule.slot_reserved",
        "schedule.slot_reserved",
    ]


@pytest.mark.parametrize(
    ("tenant_id", "token", "error"),
    [
        (TENANT, {"tenant_id": "tenant-b"}, "wrong_tenant"),
        ("tenant-b", {}, "wrong_tenant"),
        (TENANT, {"role": "patient", "subject": "pat-2", "branches": {BRANCH}}, "not_own_record"),
        (TENANT, {"role": "staff", "subject": "d-9", "branches": {"b-9"}}, "branch_not_allowed"),
    ],
    ids=["token-of-another-tenant", "another-tenant-asked", "another-patient", "another-branch"],
)
def test_who_may_not_read_it(
    commands: FlaskClient, audit: FlaskClient, tenant_id: str, token: dict[str, Any], error: str
) -> None:
    booked = send(commands, "book_appointment", booking(), bearer(), "corr-book-000003")
    assert booked.status_code == 201
    claims = {**token, "branches": frozenset(token["branches"])} if "branches" in token else token
    response = read_audit(audit, tenant_id=tenant_id, auth=bearer(**claims))
    assert (response.status_code, response.get_json()["error"]) == (403, error)


def test_the_patient_reads_their_own(commands: FlaskClient, audit: FlaskClient) -> None:
    assert (
        send(commands, "book_appointment", booking(), bearer(), "corr-book-000004").status_code
        == 201
    )
    assert read_audit(audit, auth=patient()).status_code == 200


def test_unknown_appointment_bad_tenant_and_no_token(audit: FlaskClient) -> None:
    missing = read_audit(audit, appointment_id="apt-404")
    assert missing.status_code == 404
    assert missing.get_json() == {
        "error": "not_found",
        "message": "appointment apt-404 does not exist",
        "field": "appointment_id",
    }
    no_tenant = audit.get("/appointments/apt-1", headers=bearer())
    assert (no_tenant.status_code, no_tenant.get_json()["error"]) == (400, "missing_parameter")
    bad_tenant = read_audit(audit, tenant_id="bad%20tenant!")
    assert (bad_tenant.status_code, bad_tenant.get_json()["field"]) == (422, "tenant_id")
    anonymous = audit.get("/appointments/apt-1?tenant_id=tenant-a")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert audit.post("/appointments/apt-1?tenant_id=tenant-a", headers=bearer()).status_code == 405
    assert audit.get("/patients/pat-1?tenant_id=tenant-a", headers=bearer()).status_code == 404


def test_the_local_server_serves_it_under_audit(commands: FlaskClient, audit: FlaskClient) -> None:
    assert (
        send(commands, "book_appointment", booking(), bearer(), "corr-book-000005").status_code
        == 201
    )
    server = create_server().test_client()
    local = server.get(f"/audit/appointments/apt-1?tenant_id={TENANT}", headers=bearer())
    assert local.status_code == 200
    assert local.get_json() == read_audit(audit).get_json()


def test_the_cli_prints_the_trail(
    commands: FlaskClient, platform: Platform, tmp_path: Path
) -> None:
    live_an_appointment(commands)
    data = ["--data-dir", str(platform.settings.data_dir)]
    runner = CliRunner()
    table = runner.invoke(
        cli, ["audit", "apt-1", "--tenant", TENANT, *data], env={"COLUMNS": "250"}
    )
    assert table.exit_code == 0, table.output
    for text in (
        "appointment.deposit_forfeited",
        "patient:pat-1",
        "corr-cancel-0001",
        "INR 1,000.00",
    ):
        assert text in table.stdout
    as_json = runner.invoke(cli, ["audit", "apt-1", "--tenant", TENANT, "--format", "json", *data])
    assert as_json.exit_code == 0, as_json.output
    assert orjson.loads(as_json.stdout)["summary"]["forfeited_minor"] == 100_000
    unknown = runner.invoke(cli, ["audit", "apt-404", "--tenant", TENANT, *data])
    assert unknown.exit_code == 1
    nowhere = runner.invoke(
        cli, ["audit", "apt-1", "--tenant", TENANT, "--data-dir", str(tmp_path / "none")]
    )
    assert nowhere.exit_code == 1
