"""A raw Pub/Sub push body (what terraform/'s push subscriptions send: no ``ce-*``
headers, just ``{"message": ..., "subscription": ...}``) reaches a cloud_event
function: functions-framework converts it into a CloudEvent whose data keeps the
message, so the projection functions need no Eventarc trigger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from functions_framework import create_app

from mymedic.app.pubsub import encode_pubsub_message
from mymedic.bootstrap import Platform
from tests.contract.events import appointment_events

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
SUBSCRIPTION = "projects/example-clinics-prod/subscriptions/mymedic-calendar"


def _push(target: str, message: dict[str, Any]) -> int:
    client = create_app(target=target, source=MAIN, signature_type="cloudevent").test_client()
    # Exactly a push delivery: JSON body, no CloudEvent headers.
    response = client.post(
        "/",
        json={"message": message, "subscription": SUBSCRIPTION},
        headers={"Content-Type": "application/json"},
    )
    return response.status_code


def test_a_raw_push_body_is_converted_and_projected(platform: Platform) -> None:
    events = appointment_events()
    platform.store.append("t1", events[0].stream_id, 0, events)
    for event in events:
        message = {**encode_pubsub_message(event), "publishTime": "2026-03-02T08:00:00Z"}
        status = _push("project_calendar", message)
        assert 200 <= status < 300
    [entry] = platform.documents.query("calendar", "t1")
    assert entry["status"] == "completed"


def test_a_raw_push_of_a_poison_message_fails_so_it_is_redelivered(platform: Platform) -> None:
    status = _push("project_calendar", {"data": "bm90IGpzb24=", "messageId": "m-9"})
    assert status >= 500
    assert platform.documents.query("calendar", "t1") == []


def test_the_decorator_fixes_the_signature_type_of_a_function_deployed_without_trigger(
    platform: Platform,
) -> None:
    """A gen2 function without an event trigger is started with the http signature type;
    the @cloud_event decorator still wins, so the push body is converted."""
    [first, *_] = appointment_events()
    platform.store.append("t1", first.stream_id, 0, [first])
    client = create_app(target="project_calendar", source=MAIN, signature_type="http")
    response = client.test_client().post(
        "/", json={"message": encode_pubsub_message(first), "subscription": SUBSCRIPTION}
    )
    assert 200 <= response.status_code < 300
    assert len(platform.documents.query("calendar", "t1")) == 1
