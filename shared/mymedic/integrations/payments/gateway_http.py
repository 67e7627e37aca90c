"""GET JSON from a gateway's REST API with retries.

429, 5xx and transport errors are retried with capped exponential backoff, honouring
``Retry-After``; what still fails becomes :class:`GatewayUnavailable`. 401/403 are
:class:`GatewayAuthError` at once (retrying cannot fix credentials); any other 4xx is
:class:`GatewayRequestError`. Messages carry the status and the gateway's error code,
never its error text (Stripe's echoes part of the key) nor a credential.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

log = logging.getLogger(__name__)

RETRY_AFTER_CEILING_SECONDS = 120.0
Params = Sequence[tuple[str, str]]


class GatewayApiError(Exception):
    """The gateway refused a request or answered something unusable."""


class GatewayAuthError(GatewayApiError):
    """The gateway rejected the credentials (401/403): not retried."""


class GatewayRequestError(GatewayApiError):
    """A 4xx other than 401/403/429: the same request cannot succeed."""


class GatewayUnavailable(GatewayApiError):
    """A transient failure (429, 5xx, network) that persisted after the retries."""


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _RetryAfterOrBackoff(wait_base):
    """The wait the server asked for (``Retry-After``), else jittered backoff."""

    def __init__(self, max_backoff: float) -> None:
        self._backoff = wait_exponential_jitter(initial=1, max=max_backoff, jitter=1)

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return min(failure.retry_after, RETRY_AFTER_CEILING_SECONDS)
        return float(self._backoff(retry_state))


class GatewayHttp:
    """One gateway's API: its name (for messages), credentials and retry policy."""

    def __init__(
        self,
        http: httpx.Client,
        provider: str,
        *,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        attempts: int = 5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http
        self.provider = provider
        self._auth = auth
        self._headers = headers or {}
        self._attempts = attempts
        self._max_backoff = max_backoff
        self._sleep = sleep

    def get_json(self, url: str, params: Params) -> dict[str, Any]:
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=_RetryAfterOrBackoff(self._max_backoff),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, params)
        except _Transient as exc:
            raise GatewayUnavailable(
                f"{self.provider} still failing after {self._attempts} attempts: {exc}"
            ) from exc

    def _attempt(self, url: str, params: Params) -> dict[str, Any]:
        try:
            response = self._http.get(
                url,
                params=list(params),
                headers=self._headers,
                auth=self._auth or httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as exc:
            raise _Transient(type(exc).__name__) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}", _retry_after(response))
        if status >= 400:
            reason = f"{self.provider} answered HTTP {status} {_error_code(response)}".rstrip()
            if status in (401, 403):
                raise GatewayAuthError(f"{reason}: check the API credentials")
            raise GatewayRequestError(reason)
        try:
            body = response.json()
        except ValueError:
            raise GatewayApiError(f"{self.provider} answered a body that is not JSON") from None
        if not isinstance(body, dict):
            raise GatewayApiError(f"{self.provider} answered JSON that is not an object")
        return body

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s API: %s (attempt %d); retrying", self.provider, failure, state.attempt_number
        )


def _error_code(response: httpx.Response) -> str:
    """The gateway's error code or type: Razorpay's ``error.code``, Stripe's
    ``error.code`` or ``error.type``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    code = error.get("code") or error.get("type")
    return str(code)[:100] if code else ""


def _retry_after(response: httpx.Response) -> float | None:
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
