"""A Firestore client whose every RPC gives up after our deadline.

The client's transactions (begin, commit, rollback) take no per-call timeout or retry,
and their defaults retry an unreachable backend for a full minute: a function would
hang instead of answering 503. The client offers no public knob for this, so we
re-wrap the transport's methods with our own default deadline (the same
``gapic_v1.method.wrap_method`` the client uses itself).
"""

from __future__ import annotations

from google.api_core import gapic_v1
from google.cloud import firestore

from mymedic.adapters.gcp.errors import short_retry


def firestore_client(
    project: str, database: str = "(default)", timeout: float = 10.0
) -> firestore.Client:
    client = firestore.Client(project=project, database=database)
    transport = client._firestore_api._transport
    retry = short_retry(timeout)
    transport._wrapped_methods = {
        method: gapic_v1.method.wrap_method(  # type: ignore[no-untyped-call]
            method,
            default_retry=retry,
            default_timeout=timeout,
            client_info=client._client_info,
        )
        for method in transport._wrapped_methods
    }
    return client
