"""Turning Google API failures into the ports' typed errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry

from mymedic.ports import TransientBackendError

T = TypeVar("T")

TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.InternalServerError,
    gexc.TooManyRequests,
    gexc.Aborted,
    gexc.RetryError,
    gexc.GatewayTimeout,
    gexc.BadGateway,
    gexc.Unknown,
    ConnectionError,
    TimeoutError,
)


def short_retry(timeout: float) -> Retry:
    """Retry transient failures, but never for longer than one call's deadline."""
    return Retry(predicate=_is_transient, initial=0.1, maximum=1.0, timeout=timeout)


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT) and not isinstance(exc, gexc.RetryError)


@contextmanager
def transient_errors(what: str) -> Iterator[None]:
    try:
        yield
    except TRANSIENT as exc:
        raise TransientBackendError(f"{what}: {type(exc).__name__}: {exc}") from exc


def call(what: str, fn: Callable[[], T]) -> T:
    with transient_errors(what):
        return fn()


def run_transaction(db: Any, what: str, body: Callable[[Any], T]) -> T:
    """Run ``body(transaction)`` in a Firestore transaction, retried on contention by
    the client, with Google's errors turned into the ports' typed ones."""
    from google.cloud import firestore

    wrapped = firestore.transactional(body)
    return cast(T, call(what, lambda: wrapped(db.transaction())))
