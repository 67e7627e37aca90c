"""Projection functions receiving Pub/Sub push deliveries as CloudEvents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from functions_framework import create_app

from mymedic.app.pubsub import encode_pubsub_message
from mymedic.bootstrap import Platform
from mymedic.domain.envelope import EventEnvelope
from tests.contract.events import appointment_events

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")


def _deliver(target: str, message: dict[str, Any]) -> int:
    client = create_app(target, MAIN, "cloudevent").test_client()
    response = client.post(
        "/",
        json={"message": message, "subscription": "projects/p/subscriptions/s"},
        headers={
            "ce-id": message.get("messageId", "m-1"),
            "ce-specversion": "1.0",
            "ce-source": "//pubsub.googleapis.com/projects/p/topics/mymedic-events",
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        },
    )
    return response.status_code


def _store(platform: Platform, events: list[EventEnvelope]) -> None:
    platform.store.append("t1", events[0].stream_id, 0, events)


def test_calendar_function_applies_a_delivery_once(platform: Platform) -> None:
    events = appointment_events()
    _store(platform, events)
    for event in [*events, *events]:
        assert _deliver("project_calendar", encode_pubsub_message(event)) == 200
    [entry] = platform.documents.query("calendar", "t1")
    assert entry["status"] == "completed"


def test_warehouse_function_fills_gaps_from_the_store(platform: Platform) -> None:
    events = appointment_events()
    _store(platform, events)
    assert _deliver("project_warehouse", encode_pubsub_message(events[2])) == 200
    [row] = platform.warehouse.query("fct_appointment")
    assert (row["status"], row["reschedule_count"], row["clinician_id"]) == ("completed", 1, "c2")


def test_a_poison_message_fails_so_pub_sub_retries_and_dead_letters_it(
    platform: Platform,
) -> None:
    assert _deliver("project_calendar", {"data": "bm90IGpzb24=", "messageId": "m-2"}) == 500
    assert _deliver("project_calendar", {"data": "***", "messageId": "m-3"}) == 500
    assert platform.documents.query("calendar", "t1") == []
