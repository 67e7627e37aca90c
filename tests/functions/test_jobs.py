"""The scheduled-jobs HTTP function through functions-framework."""

from __future__ import annotations

from pathlib import Path

from functions_framework import create_app

from mymedic.bootstrap import Platform
from tests.contract.events import appointment_events

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")


def test_outbox_relay_job_publishes_what_is_left_and_is_idempotent(platform: Platform) -> None:
    # Appended without the after-commit dispatch, as if the process died right after commit.
    platform.store.append("t1", "appointment:a1", 0, appointment_events())
    client = create_app("jobs", MAIN).test_client()
    first = client.post("/jobs/outbox-relay")
    assert first.status_code == 200
    assert first.get_json() == {
        "job": "outbox-relay",
        "published": 3,
        "failed": 0,
        "dead_lettered": 0,
    }
    assert platform.documents.get("calendar", "t1", "a1")["status"] == "completed"  # type: ignore[index]
    again = client.post("/jobs/outbox-relay").get_json()
    assert again["published"] == 0


def test_catch_up_job_brings_the_warehouse_to_the_end_of_the_store(platform: Platform) -> None:
    seeded = platform.store.head_position()  # the test directory
    platform.store.append("t1", "appointment:a1", 0, appointment_events())
    client = create_app("jobs", MAIN).test_client()
    body = client.post("/jobs/projection-catch-up").get_json()
    assert (body["events"], body["position"]) == (seeded + 3, seeded + 3)
    [row] = platform.warehouse.query("fct_appointment")
    assert row["status"] == "completed"
    assert client.post("/jobs/projection-catch-up").get_json()["events"] == 0


def test_unknown_job_and_wrong_method(platform: Platform) -> None:
    client = create_app("jobs", MAIN).test_client()
    assert client.post("/jobs/make-coffee").status_code == 404
    assert client.get("/jobs/outbox-relay").status_code == 405
