"""The bodies of the Cloud Functions, shared by functions/main.py and ``mymedic serve``.

Each is a few lines: parse, call the application, map the outcome to a status. The
platform is built on first use (never at import) and kept for the instance's life.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
from flask import Request, Response

from mymedic.app.command_api import handle_command_request, openapi_document
from mymedic.app.pubsub import PoisonMessage, decode_pubsub_event
from mymedic.bootstrap import Platform, bootstrap

log = logging.getLogger(__name__)

_platform: Platform | None = None
_platform_lock = threading.Lock()


def platform() -> Platform:
    global _platform
    with _platform_lock:
        if _platform is None:
            _platform = bootstrap()
        return _platform


def use_platform(instance: Platform | None) -> None:
    """Install (or with None, forget) the platform the entry points use."""
    global _platform
    with _platform_lock:
        _platform = instance


def json_response(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def commands(request: Request) -> Response:
    if request.method == "GET" and request.path.rstrip("/").endswith("openapi.json"):
        return json_response(200, openapi_document())
    result = handle_command_request(
        platform().commands,
        request.method,
        request.path,
        request.get_data(cache=False),
        request.headers.get,
    )
    return json_response(result.status, result.body)


def project(projection: str, cloud_event: Any) -> None:
    """Apply one Pub/Sub-delivered event. Raising makes Pub/Sub redeliver (and, past the
    subscription's attempt limit, dead-letter); a poison message is logged with its
    reason and raised too, so it lands in the dead-letter topic rather than vanishing.

    A live projection applies the event itself. A batch projection (the warehouse)
    takes the delivery as a trigger and follows the store from its own position, so
    that the warehouse gets few large MERGEs instead of one per event."""
    try:
        envelope = decode_pubsub_event(cloud_event.data)
    except PoisonMessage as exc:
        log.error("poison message for %s: %s", projection, exc)
        raise
    current = platform()
    if projection in current.live_runners:
        current.live_runners[projection](envelope)
    elif projection in current.batch_runners:
        current.catch_up()
    else:
        raise KeyError(f"no projection named {projection}")
