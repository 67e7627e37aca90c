"""The whole GCP path on the emulators: HTTP command → Firestore event store → Pub/Sub
push subscriptions → projection functions served by functions-framework on loopback →
Firestore read model and BigQuery fact; poison messages end on the dead-letter topic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

from mymedic import entrypoints
from mymedic.bootstrap import Platform, bootstrap
from mymedic.devstack import Stack, functions_source, start_stack
from mymedic.settings import Settings
from tests.conftest import (
    BRANCH,
    TENANT,
    TEST_JWT_SECRET,
    StepClock,
    as_admin,
    booking,
    registration,
    seed_directory,
)

pytestmark = pytest.mark.emulator


@pytest.fixture
def stack(
    pubsub_emulator: Any,
    firestore_emulator: Any,
    bigquery_emulator: Any,
    gcp_project: str,
    tmp_path: Path,
) -> Iterator[tuple[Stack, Platform]]:
    emulators = {**pubsub_emulator.env, **firestore_emulator.env, **bigquery_emulator.env}
    dataset = "d_" + gcp_project.replace("-", "_")
    running = start_stack(gcp_project, dataset, emulators, tmp_path / "functions")
    settings = Settings(
        backend="gcp",
        gcp_project=gcp_project,
        bigquery_dataset=dataset,
        bigquery_endpoint=bigquery_emulator.env["MYMEDIC_BIGQUERY_ENDPOINT"],
        jwt_secret=TEST_JWT_SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = bootstrap(settings, clock=StepClock())
    seed_directory(platform)
    entrypoints.use_platform(platform)
    yield running, platform
    entrypoints.use_platform(None)
    platform.close()
    running.stop()


def _eventually(check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def _calendar_status(platform: Platform, appointment_id: str) -> str | None:
    entry = platform.documents.get("calendar", TENANT, appointment_id)
    return str(entry["status"]) if entry else None


def _fact_status(platform: Platform, appointment_id: str) -> str | None:
    rows = platform.warehouse.query(
        "fct_appointment", {"tenant_id": TENANT, "appointment_id": appointment_id}
    )
    return str(rows[0]["status"]) if rows else None


def test_a_command_reaches_the_read_model_and_the_warehouse(
    stack: tuple[Stack, Platform],
) -> None:
    _, platform = stack
    client = as_admin(create_app("commands", str(functions_source())).test_client())
    assert client.post("/register_patient", json=registration()).status_code == 201
    assert client.post("/book_appointment", json=booking()).status_code == 201
    ref = {"tenant_id": TENANT, "branch_id": BRANCH, "appointment_id": "apt-1"}
    assert client.post("/complete_appointment", json=ref).status_code == 201
    assert platform.store.pending_outbox() == []

    assert _eventually(lambda: _calendar_status(platform, "apt-1") == "completed")
    assert _eventually(lambda: _fact_status(platform, "apt-1") == "completed")
    [patient] = platform.warehouse.query("dim_patient", {"tenant_id": TENANT})
    assert patient["patient_id"] == "pat-1"


def test_a_poison_message_is_dead_lettered_and_the_rest_still_flows(
    stack: tuple[Stack, Platform],
) -> None:
    running, platform = stack
    publisher = PublisherClient()
    publisher.publish(running.topic, b"not an event", tenant_id=TENANT, source="test").result(
        timeout=10
    )
    client = as_admin(create_app("commands", str(functions_source())).test_client())
    assert client.post("/book_appointment", json=booking("apt-2")).status_code == 201
    assert _eventually(lambda: _calendar_status(platform, "apt-2") == "booked")

    subscriber = SubscriberClient()

    def dead_lettered() -> list[Any]:
        response = subscriber.pull(
            subscription=running.dead_letter_subscription, max_messages=10, timeout=5
        )
        return [m.message for m in response.received_messages]

    letters = _eventually(dead_lettered, timeout=120)
    assert letters, "the poison message never reached the dead-letter topic"
    assert {m.data for m in letters} == {b"not an event"}
    assert letters[0].attributes["tenant_id"] == TENANT
    subscriber.close()
