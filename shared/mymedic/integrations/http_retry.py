"""What the HTTP clients of the integrations share about retrying: a transient failure
that may carry the wait the server asked for, and the tenacity wait that honours it.

Tenacity's waits know nothing of the failed response, so this small strategy reads the
wait the server asked for (``Retry-After``, or a known lock-out after a 429) and falls
back to jittered exponential backoff capped at ``max_backoff``."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.wait import wait_base


class TransientHttpError(Exception):
    """One attempt failed in a way a later attempt may not."""

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


class RetryAfterOrBackoff(wait_base):
    def __init__(
        self, max_backoff: float, *, ceiling: float, lockout_429: float | None = None
    ) -> None:
        self._backoff = wait_exponential_jitter(initial=1, max=max_backoff, jitter=1)
        self._ceiling = ceiling
        self._lockout_429 = lockout_429

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(failure, TransientHttpError):
            if failure.retry_after is not None:
                return min(failure.retry_after, self._ceiling)
            if failure.status == 429 and self._lockout_429 is not None:
                return self._lockout_429
        return float(self._backoff(retry_state))


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), if present."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
