"""Where cost and clicks come from: the ``AdsSource`` protocol and its production
implementation on the official client (``GoogleAdsService.search_stream``).

Each query is read to its end inside one attempt: a stream broken midway is asked
again from the start, so a retried query never yields a row twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple, Protocol

from google.ads.googleads.errors import GoogleAdsException
from google.api_core import exceptions as core_exceptions
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from mymedic.domain.events import AdClick, AdCostRow
from mymedic.integrations.google_ads import mapping, queries
from mymedic.integrations.google_ads.config import API_VERSION, GoogleAdsConfig

log = logging.getLogger(__name__)

_TRANSIENT_CORE = (
    core_exceptions.ServiceUnavailable,
    core_exceptions.DeadlineExceeded,
    core_exceptions.ResourceExhausted,
)
_TRANSIENT_INTERNAL = frozenset({"INTERNAL_ERROR", "TRANSIENT_ERROR", "DEADLINE_EXCEEDED"})
_TRANSIENT_QUOTA = frozenset({"RESOURCE_TEMPORARILY_EXHAUSTED"})


class Account(NamedTuple):
    currency: str
    time_zone: str | None


class AdsSourceError(Exception):
    """Google Ads refused a query (authentication, permission, a bad query): HTTP 502."""


class AdsSourceUnavailable(AdsSourceError):
    """Google Ads kept failing transiently (or the quota is spent): retry later (503)."""


class AdsSource(Protocol):
    def account(self, customer_id: str) -> Account: ...

    def cost_rows(self, customer_id: str, start: date, end: date) -> dict[date, list[AdCostRow]]:
        """Each day's cost rows, for the days of the range that had any."""
        ...

    def clicks(self, customer_id: str, day: date) -> list[AdClick]: ...


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT_CORE):
        return True
    if isinstance(exc, GoogleAdsException):
        errors = list(getattr(exc.failure, "errors", None) or [])
        return bool(errors) and all(
            error.error_code.internal_error.name in _TRANSIENT_INTERNAL
            or error.error_code.quota_error.name in _TRANSIENT_QUOTA
            for error in errors
        )
    return False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, GoogleAdsException):
        messages = [str(error.message) for error in getattr(exc.failure, "errors", None) or []]
        return f"request {exc.request_id}: {'; '.join(messages) or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    failure = outcome.exception() if outcome is not None else None
    log.info(
        "google ads query failed transiently (attempt %d): %s",
        state.attempt_number,
        _describe(failure) if failure else "?",
    )


class GoogleAdsApiSource:
    """``service``: a ``GoogleAdsService`` client; by default one is built from the
    configuration on first use."""

    def __init__(
        self,
        config: GoogleAdsConfig,
        *,
        service: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._service = service
        self._sleep = sleep

    def _ads_service(self) -> Any:
        if self._service is None:
            from google.ads.googleads.client import GoogleAdsClient

            client = GoogleAdsClient.load_from_dict(self._config.client_dict(), API_VERSION)
            self._service = client.get_service("GoogleAdsService", version=API_VERSION)
        return self._service

    def search(self, customer_id: str, query: str) -> list[Any]:
        """Every row the query yields, with transient failures retried."""
        service = self._ads_service()

        def attempt() -> list[Any]:
            stream = service.search_stream(customer_id=customer_id, query=query)
            return [row for batch in stream for row in batch.results]

        retrying = Retrying(
            stop=stop_after_attempt(self._config.max_attempts),
            wait=wait_exponential_jitter(initial=1, max=self._config.max_backoff_seconds),
            retry=retry_if_exception(is_transient),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except (GoogleAdsException, core_exceptions.GoogleAPIError) as exc:
            unavailable = is_transient(exc) or isinstance(exc, core_exceptions.TooManyRequests)
            kind = AdsSourceUnavailable if unavailable else AdsSourceError
            raise kind(f"customer {customer_id}: {_describe(exc)}") from exc

    def account(self, customer_id: str) -> Account:
        rows = self.search(customer_id, queries.CUSTOMER_QUERY)
        if not rows:
            raise AdsSourceError(f"customer {customer_id}: no customer row")
        customer = rows[0].customer
        return Account(customer.currency_code, customer.time_zone or None)

    def cost_rows(self, customer_id: str, start: date, end: date) -> dict[date, list[AdCostRow]]:
        return mapping.cost_rows(
            self.search(customer_id, queries.keyword_cost_query(start, end)),
            self.search(customer_id, queries.ad_group_cost_query(start, end)),
            self.search(customer_id, queries.campaign_cost_query(start, end)),
        )

    def clicks(self, customer_id: str, day: date) -> list[AdClick]:
        return mapping.clicks(self.search(customer_id, queries.clicks_query(day)))
