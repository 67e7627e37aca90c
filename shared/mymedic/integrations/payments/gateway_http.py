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
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from mymedic.integrations.http_retry import (
    RetryAfterOrBackoff,
    TransientHttpError,
    retry_after_seconds,
)

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
            wait=RetryAfterOrBackoff(self._max_backoff, ceiling=RETRY_AFTER_CEILING_SECONDS),
            retry=retry_if_exception_type(TransientHttpError),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, params)
        except TransientHttpError as exc:
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
            raise TransientHttpError(type(exc).__name__) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientHttpError(f"HTTP {status}", retry_after=retry_after_seconds(response))
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
