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
    # An aborted transaction must be restarted from its reads (the transactional
    # wrapper does that), never by resending the same RPC.
    return isinstance(exc, TRANSIENT) and not isinstance(exc, gexc.RetryError | gexc.Aborted)


def _transient_in_chain(exc: BaseException) -> BaseException | None:
    """The transient failure behind ``exc``, if any: the Firestore client, for one,
    masks a failed transaction begin with the ValueError of its own rollback."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TRANSIENT):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


@contextmanager
def transient_errors(what: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        cause = _transient_in_chain(exc)
        if cause is None:
            raise
        raise TransientBackendError(f"{what}: {type(cause).__name__}: {cause}") from exc


def call(what: str, fn: Callable[[], T]) -> T:
    with transient_errors(what):
        return fn()


def run_transaction(db: Any, what: str, body: Callable[[Any], T]) -> T:
    """Run ``body(transaction)`` in a Firestore transaction, retried on contention by
    the client, with Google's errors turned into the ports' typed ones."""
    from google.cloud import firestore

    wrapped = firestore.transactional(body)
    return cast(T, call(what, lambda: wrapped(db.transaction())))
