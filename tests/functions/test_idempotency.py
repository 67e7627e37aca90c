"""Idempotency-Key: a retried request gets the first answer and writes nothing new."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from mymedic.bootstrap import Platform
from tests.conftest import BRANCH, TENANT, as_admin, booking

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    return as_admin(create_app("commands", MAIN).test_client())


def _post(client: FlaskClient, name: str, body: dict[str, Any], key: str) -> Any:
    return client.post(f"/{name}", json=body, headers={"Idempotency-Key": key})


def test_a_retry_gets_the_first_answer_and_writes_nothing(
    client: FlaskClient, platform: Platform
) -> None:
    first = _post(client, "book_appointment", booking(), "key-0001")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    written = len(platform.store.read_all())
    again = _post(client, "book_appointment", booking(), "key-0001")
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(platform.store.read_all()) == written


def test_a_late_retry_after_later_changes_still_gets_the_first_answer(
    client: FlaskClient, platform: Platform
) -> None:
    first = _post(client, "book_appointment", booking(), "key-0002")
    ref = {"tenant_id": TENANT, "branch_id": BRANCH, "appointment_id": "apt-1"}
    assert _post(client, "complete_appointment", ref, "key-0003").status_code == 201
    late = _post(client, "book_appointment", booking(), "key-0002")
    assert (late.status_code, late.get_json()) == (201, first.get_json())
    assert platform.store.stream_version(TENANT, "appointment:apt-1") == 2


def test_a_key_reused_for_another_request_is_refused(
    client: FlaskClient, platform: Platform
) -> None:
    assert _post(client, "book_appointment", booking(), "key-0004").status_code == 201
    elsewhere = booking("apt-2", clinician_id="clin-2", room_id="room-2")
    other = _post(client, "book_appointment", elsewhere, "key-0004")
    assert other.status_code == 422
    assert other.get_json()["error"] == "idempotency_key_reused"
    assert platform.store.stream_version(TENANT, "appointment:apt-2") == 0


def test_identical_requests_racing_write_once(client: FlaskClient, platform: Platform) -> None:
    answers: list[Any] = []

    def send() -> None:
        local = as_admin(create_app("commands", MAIN).test_client())
        response = _post(local, "book_appointment", booking("apt-9"), "key-race")
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert len(platform.store.read_stream(TENANT, "appointment:apt-9")) == 1


def test_a_malformed_key_is_a_400(client: FlaskClient) -> None:
    response = _post(client, "book_appointment", booking(), "key with spaces")
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_header")
