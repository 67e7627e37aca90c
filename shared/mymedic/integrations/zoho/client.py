"""Zoho CRM client: the REST records API (delta sync, fetch by id), the Bulk Read API
(backfill) and the Notifications API channels (``actions/watch``: the webhooks' feed),
on httpx with tenacity retries. Records are only read; the only writes are channel
subscriptions.

OAuth: an access token from the refresh token, cached until shortly before it
expires (Zoho issues at most 10 access tokens per 10 minutes per refresh token), and
refreshed once when the API answers ``401 INVALID_TOKEN``.

Failures: 429, 5xx and transport errors are retried with capped exponential backoff,
honouring ``Retry-After``; what still fails becomes :class:`ZohoUnavailable`. Bad
credentials are :class:`ZohoAuthError` at once (retrying cannot fix them); any other
refusal is :class:`ZohoError`. Secrets never reach messages or logs.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

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
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.records import ZohoRecord

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_PER_PAGE = 200  # the records API's per_page ceiling
# The Users API, not a records module: CRM users (clinicians, for most clinics) are
# listed at /users, with no Bulk Read. Its records carry Modified_Time and created_time.
USERS = "Users"
IDS_PER_REQUEST = 100  # the records API's ceiling for ids=
# Page numbers reach only the first 2,000 records of a listing; beyond, page_token.
PAGE_NUMBER_WINDOW = 2000
# A 429 from the Bulk Read download means about a minute's lock-out (10 per minute).
DOWNLOAD_LOCKOUT_SECONDS = 60.0
# Retry-After is honoured as given, up to this: a worker never parks longer per wait.
RETRY_AFTER_CEILING_SECONDS = 300.0
# Refresh this long before expiry (at most a tenth of the lifetime), so a token never
# expires in flight.
TOKEN_REFRESH_MARGIN_SECONDS = 60.0
DOWNLOAD_CHUNK_BYTES = 1 << 20

# Notifications API: a channel lives at most a week (v4 and later); Zoho silently turns
# a missing or longer channel_expiry into one hour, so a longer one is refused here.
MAX_CHANNEL_LIFETIME = timedelta(days=7)
MAX_CHANNEL_TOKEN_CHARS = 50  # Zoho answers INVALID_DATA beyond
MAX_CHANNEL_ID = 2**63 - 1  # channel_id is a Java long
WATCH_PER_PAGE = 200  # the listing's default and ceiling
CHANNEL_OPERATIONS = ("create", "edit", "delete")  # what "all" stands for

_NAME = re.compile(r"^[A-Za-z0-9_]+$")  # module API names and job ids go into paths
_EVENT = re.compile(r"^([A-Za-z0-9_]+)\.(create|edit|delete|all)$")
_AUTH_CODES = {"INVALID_TOKEN", "AUTHENTICATION_FAILURE", "OAUTH_SCOPE_MISMATCH"}


class ZohoError(Exception):
    """Zoho refused the request or answered something unusable."""


class ZohoAuthError(ZohoError):
    """Bad or insufficient credentials: not retried."""


class ZohoUnavailable(ZohoError):
    """A transient failure (429, 5xx, network) that persisted after the retries."""


class ZohoRequestError(ZohoError):
    """Zoho refused the request with a 4xx and an error code (not a credentials
    problem): retrying the same request cannot succeed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class WatchRequestInvalid(ZohoError, ValueError):
    """A Notifications API request refused before it was sent (a token over 50
    characters, an expiry more than a week ahead, ...): Zoho would refuse it, or worse,
    accept it and silently let the channel lapse within the hour."""


class WatchRefused(ZohoError):
    """Zoho refused to enable, list or disable a notification channel."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code


class ChannelNotSubscribed(WatchRefused):
    """``NOT_SUBSCRIBED``: no such channel (never created, disabled, or expired): enable
    it again to receive notifications."""


class BulkReadFailed(ZohoError):
    """Zoho reports the Bulk Read job FAILED: a new job may succeed."""


class MalformedRecord(ZohoError):
    """A record without a usable id or ``Modified_Time``."""

    def __init__(self, module: str, record_id: object, reason: str) -> None:
        super().__init__(f"{module} {record_id}: {reason}")
        self.reason = reason


class _TokenRejected(Exception):
    """401 INVALID_TOKEN: the cached access token is no longer valid (internal)."""


@dataclass(frozen=True)
class BulkReadJob:
    job_id: str
    state: str  # ADDED, QUEUED, IN PROGRESS, COMPLETED, FAILED
    page: int
    count: int | None  # records in this page of the result, once completed
    more_records: bool  # another page (page + 1, a new job) holds more
    download_url: str | None


@dataclass(frozen=True)
class WatchChannel:
    """A Notifications API channel as Zoho reports it. Zoho keeps a subscription per
    module; ``events`` gathers them (a module's create, edit and delete read as
    ``Module.all``) and ``expires_at`` is the earliest module's expiry. The channel's
    token is never kept here."""

    channel_id: int
    events: tuple[str, ...]
    expires_at: datetime
    notify_url: str | None = None


class ZohoClient:
    def __init__(
        self,
        config: ZohoConfig,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock`` (monotonic) times tokens and polls; ``wall_clock`` is "now" for
        channel expiries, which Zoho measures from its own clock."""
        self._config = config
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=config.timeout_seconds, follow_redirects=True)
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock or _utc_now
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._api_domain = config.api_domain.rstrip("/") if config.api_domain else None

    # -- records API --------------------------------------------------------------

    def records(
        self,
        module: str,
        fields: Sequence[str],
        *,
        modified_since: datetime | None = None,
        per_page: int = 200,
        on_malformed: Callable[[str, dict[str, Any], str], None] | None = None,
    ) -> Iterator[ZohoRecord]:
        """Every record of ``module`` (modified after ``modified_since`` if given),
        oldest modification first, page by page. A record without a usable id or
        ``Modified_Time`` raises, unless ``on_malformed(module, record, reason)`` is
        given: then it is handed over there (to be quarantined) and the listing goes on,
        so one bad record cannot stop every sync."""
        _check_name(module, "module")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        headers: dict[str, str] = {}
        if modified_since is not None:
            if modified_since.tzinfo is None:
                raise ValueError("modified_since must be timezone-aware")
            headers["If-Modified-Since"] = modified_since.isoformat(timespec="seconds")
        if module == USERS:
            yield from self._users(headers, per_page, on_malformed)
            return
        base = {
            "fields": _field_list(fields),
            "per_page": str(per_page),
            "sort_by": "Modified_Time",
            "sort_order": "asc",
        }
        path = f"/crm/{self._config.api_version}/{module}"
        page, page_token = 1, None
        while True:
            params = dict(base)
            if page_token is None:
                params["page"] = str(page)
            else:
                params["page_token"] = page_token
            response = self._call("GET", path, params=params, headers=headers)
            if response.status_code == 204:  # no records (left)
                return
            body = _json_object(response)
            for item in _list(body.get("data")):
                try:
                    yield _to_record(module, item)
                except MalformedRecord as bad:
                    if on_malformed is None or not isinstance(item, dict):
                        raise
                    on_malformed(module, item, bad.reason)
            info = body.get("info") or {}
            if not info.get("more_records"):
                return
            if page_token is None and (page + 1) * per_page <= PAGE_NUMBER_WINDOW:
                page += 1
                continue
            page_token = info.get("next_page_token")
            if not isinstance(page_token, str) or not page_token:
                raise ZohoError(f"{module}: more records, but no next_page_token to reach them")

    def _users(
        self,
        headers: dict[str, str],
        per_page: int,
        on_malformed: Callable[[str, dict[str, Any], str], None] | None,
    ) -> Iterator[ZohoRecord]:
        """Every CRM user (active or not: a clinician who left still did past visits),
        page by page; the Users API takes no field list and no sort."""
        path = f"/crm/{self._config.api_version}/users"
        page = 1
        while True:
            params = {"type": "AllUsers", "page": str(page), "per_page": str(per_page)}
            response = self._call("GET", path, params=params, headers=headers)
            if response.status_code == 204:
                return
            body = _json_object(response)
            for item in _list(body.get("users")):
                try:
                    yield _to_record(USERS, _user_fields(item))
                except MalformedRecord as bad:
                    if on_malformed is None or not isinstance(item, dict):
                        raise
                    on_malformed(USERS, item, bad.reason)
            if not (body.get("info") or {}).get("more_records"):
                return
            page += 1

    def records_by_ids(
        self, module: str, ids: Sequence[str], fields: Sequence[str]
    ) -> list[ZohoRecord]:
        """The records with these ids (those that exist), 100 ids per request."""
        _check_name(module, "module")
        wanted = list(dict.fromkeys(ids))
        if any(not record_id or "," in record_id for record_id in wanted):
            raise ValueError("record ids must be non-empty and contain no comma")
        if module == USERS:
            return self._users_by_ids(wanted)
        path = f"/crm/{self._config.api_version}/{module}"
        field_list = _field_list(fields)
        found: list[ZohoRecord] = []
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            batch = wanted[start : start + IDS_PER_REQUEST]
            params = {"ids": ",".join(batch), "fields": field_list}
            response = self._call("GET", path, params=params)
            if response.status_code == 204:
                continue
            data = _list(_json_object(response).get("data"))
            found.extend(_to_record(module, item) for item in data)
        return found

    def _users_by_ids(self, ids: Sequence[str]) -> list[ZohoRecord]:
        found: list[ZohoRecord] = []
        for user_id in ids:
            _check_name(user_id, "user id")
            path = f"/crm/{self._config.api_version}/users/{user_id}"
            response = self._call("GET", path)
            if response.status_code == 204:
                continue
            found += [
                _to_record(USERS, _user_fields(item))
                for item in _list(_json_object(response).get("users"))
            ]
        return found

    # -- Bulk Read API ------------------------------------------------------------

    def start_bulk_read(
        self,
        module: str,
        fields: Sequence[str],
        *,
        page: int = 1,
        criteria: dict[str, Any] | None = None,
    ) -> str:
        """Create a Bulk Read job (CSV) for one 200,000-record page; returns its id.

        A retried create after a lost answer may leave an orphan job behind: harmless,
        jobs are read-only and only the id returned here is followed."""
        _check_name(module, "module")
        if page < 1:
            raise ValueError("page starts at 1")
        query: dict[str, Any] = {
            "module": {"api_name": module},
            "fields": _field_list(fields).split(","),
            "page": page,
        }
        if criteria:
            query["criteria"] = criteria
        response = self._call(
            "POST", self._bulk_path(), json_body={"query": query, "file_type": "csv"}
        )
        first = _first(_json_object(response), "Bulk Read create")
        details = first.get("details") or {}
        job_id = details.get("id")
        if first.get("status") != "success" or not job_id:
            code, message = first.get("code"), first.get("message")
            raise ZohoError(f"Bulk Read job not created: {code} {message}")
        return str(job_id)

    def bulk_read_job(self, job_id: str) -> BulkReadJob:
        _check_name(job_id, "job id")
        job = _first(_json_object(self._call("GET", self._bulk_path(job_id))), "Bulk Read job")
        result = job.get("result") or {}
        query = job.get("query") or {}
        count = result.get("count")
        url = result.get("download_url")
        return BulkReadJob(
            job_id=str(job.get("id") or job_id),
            state=str(job.get("state") or ""),
            page=int(result.get("page") or query.get("page") or 1),
            count=int(count) if count is not None else None,
            more_records=bool(result.get("more_records", False)),
            download_url=str(url) if url else None,
        )

    def wait_for_bulk_read(
        self, job_id: str, *, poll_seconds: float = 5.0, timeout_seconds: float = 3600.0
    ) -> BulkReadJob:
        """Poll until the job completes; ZohoError if it failed, ZohoUnavailable if it
        is still running after ``timeout_seconds``."""
        deadline = self._clock() + timeout_seconds
        while True:
            job = self.bulk_read_job(job_id)
            if job.state == "COMPLETED":
                return job
            if job.state == "FAILED":
                raise BulkReadFailed(f"Bulk Read job {job_id} failed")
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise ZohoUnavailable(
                    f"Bulk Read job {job_id} still {job.state} after {timeout_seconds:g} s"
                )
            self._sleep(min(poll_seconds, remaining))

    def download_bulk_read(self, job_id: str, destination: Path) -> Path:
        """Stream the job's ZIP to ``destination`` (a file, or a directory to hold
        ``{job_id}.zip``) chunk by chunk; returns the file's path."""
        _check_name(job_id, "job id")
        target = destination / f"{job_id}.zip" if destination.is_dir() else destination
        partial = target.with_name(f"{target.name}.part")
        url_path = self._bulk_path(job_id, "result")

        def attempt(auth: dict[str, str]) -> None:
            with self._http.stream("GET", self._url(url_path), headers=auth) as response:
                _raise_for_status(response)
                with partial.open("wb") as out:  # each attempt starts the file afresh
                    for chunk in response.iter_bytes(DOWNLOAD_CHUNK_BYTES):
                        out.write(chunk)

        try:
            self._authorized(attempt, lockout_429=DOWNLOAD_LOCKOUT_SECONDS)
            if not zipfile.is_zipfile(partial):
                raise ZohoError(f"Bulk Read job {job_id}: the download is not a ZIP file")
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return target

    # -- Notifications API (actions/watch) ----------------------------------------

    def now(self) -> datetime:
        """The current time by the clock channel expiries are checked against."""
        return self._wall_clock()

    def watch(
        self,
        channel_id: int,
        events: Sequence[str],
        notify_url: str,
        token: str,
        expires_at: datetime,
    ) -> WatchChannel:
        """Enable the channel, or enable it again: Zoho then renews the expiry and the
        subscriptions of the modules named in ``events`` (``Module.create|edit|delete|
        all``); an expired channel is simply created anew. Idempotent, so it is safe to
        retry. ``token`` (at most 50 characters) comes back in every callback;
        ``expires_at`` must be at most a week ahead (Zoho would make it one hour)."""
        wanted = _check_watch(channel_id, events, notify_url, token)
        expiry = self._check_expiry(expires_at)
        item: dict[str, Any] = {
            "channel_id": channel_id,
            "events": wanted,
            "notify_url": notify_url,
            "token": token,
            "channel_expiry": expiry.isoformat(),
        }
        body = _json_object(self._watch_call("POST", json_body={"watch": [item]}))
        result = _watch_item(body, "enable notifications")
        if result.get("status") != "success":
            raise _watch_error(result.get("code"), result.get("message"), result.get("details"))
        details = result.get("details") or {}
        expiries = [
            _channel_expiry(entry.get("channel_expiry"))
            for entry in _list(details.get("events") if isinstance(details, dict) else None)
            if isinstance(entry, dict)
        ]
        if not expiries:
            raise WatchRefused("", "Zoho enabled the channel but reported no expiry")
        log.info(
            "Zoho channel %d enabled for %s until %s",
            channel_id,
            ", ".join(wanted),
            min(expiries).isoformat(),
        )
        return WatchChannel(channel_id, _collapse_events(wanted), min(expiries), notify_url)

    def watched(
        self, channel_id: int | None = None, *, per_page: int = WATCH_PER_PAGE
    ) -> list[WatchChannel]:
        """The live channels (only ``channel_id`` if given), page by page; Zoho forgets
        an expired channel, so it is not among them."""
        if not 1 <= per_page <= WATCH_PER_PAGE:
            raise ValueError(f"per_page must be 1..{WATCH_PER_PAGE}")
        params = {"per_page": str(per_page)}
        if channel_id is not None:
            _check_channel_id(channel_id)
            params["channel_id"] = str(channel_id)
        found: dict[int, tuple[list[str], datetime, str | None]] = {}
        page = 1
        while True:
            response = self._watch_call("GET", params={**params, "page": str(page)})
            if response.status_code == 204:  # no channels (left)
                break
            body = _json_object(response)
            for entry in _list(body.get("watch")):
                if not isinstance(entry, dict):
                    raise ZohoError("notification details: an entry that is not an object")
                number, events, expiry, url = _watch_entry(entry)
                if number in found:
                    known, earliest, first_url = found[number]
                    known.extend(event for event in events if event not in known)
                    found[number] = (known, min(earliest, expiry), first_url or url)
                else:
                    found[number] = (list(dict.fromkeys(events)), expiry, url)
            info = body.get("info") or {}
            if not isinstance(info, dict) or not info.get("more_records"):
                break
            page += 1
        return [
            WatchChannel(number, _collapse_events(events), expiry, url)
            for number, (events, expiry, url) in found.items()
        ]

    def unwatch(self, channel_id: int) -> None:
        """Disable the channel (every module of it). A channel Zoho no longer knows
        (expired, or disabled already) counts as disabled."""
        _check_channel_id(channel_id)
        try:
            response = self._watch_call("DELETE", params={"channel_ids": str(channel_id)})
        except ChannelNotSubscribed:
            log.info("Zoho channel %d was not subscribed (expired or disabled)", channel_id)
            return
        if response.status_code == 204:
            return
        for result in _list(_json_object(response).get("watch")):
            if isinstance(result, dict) and result.get("status") != "success":
                error = _watch_error(result.get("code"), result.get("message"), None)
                if not isinstance(error, ChannelNotSubscribed):
                    raise error
        log.info("Zoho channel %d disabled", channel_id)

    def _check_expiry(self, expires_at: datetime) -> datetime:
        if expires_at.tzinfo is None or expires_at.utcoffset() is None:
            raise WatchRequestInvalid("expires_at must be timezone-aware")
        expiry = expires_at.replace(microsecond=0)  # Zoho takes seconds
        ahead = expiry - self.now()
        if ahead <= timedelta(0):
            raise WatchRequestInvalid(f"expires_at {expiry.isoformat()} is not in the future")
        if ahead > MAX_CHANNEL_LIFETIME:
            raise WatchRequestInvalid(
                f"expires_at {expiry.isoformat()} is more than {MAX_CHANNEL_LIFETIME.days} days "
                "ahead: Zoho would let the channel expire in one hour instead"
            )
        return expiry

    def _watch_call(
        self,
        method: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        path = f"/crm/{self._config.api_version}/actions/watch"
        try:
            return self._call(method, path, params=params, json_body=json_body)
        except ZohoRequestError as exc:
            raise _watch_error(exc.code, exc.message, None) from None

    # -- other Zoho APIs on this OAuth client ---------------------------------------

    def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        """GET ``path`` on the API domain with this client's token, retries and error
        handling: for other Zoho products the refresh token is scoped for (Books), so
        they share one token cache (Zoho issues few tokens per refresh token)."""
        if not path.startswith("/") or ".." in path:
            raise ValueError(f"an absolute API path is needed, not {path[:60]!r}")
        return self._call("GET", path, params=params)

    # -- lifecycle ----------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------

    def _bulk_path(self, *parts: str) -> str:
        return "/".join([f"/crm/bulk/{self._config.api_version}/read", *parts])

    def _url(self, path: str) -> str:
        if self._api_domain is None:
            raise ZohoError("no api_domain: not configured and not in the token response")
        return f"{self._api_domain}{path}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        def attempt(auth: dict[str, str]) -> httpx.Response:
            response = self._http.request(
                method,
                self._url(path),
                params=params,
                json=json_body,
                headers={**(headers or {}), **auth},
            )
            _raise_for_status(response)
            return response

        return self._authorized(attempt)

    def _authorized(
        self, attempt: Callable[[dict[str, str]], T], *, lockout_429: float | None = None
    ) -> T:
        """Run ``attempt`` with retries and the current token; when Zoho says the token
        is invalid (revoked, expired early), refresh once and run it again."""
        for may_refresh in (True, False):
            token = self._access_token()
            auth = {"Authorization": f"Zoho-oauthtoken {token}"}
            try:
                return self._with_retries(functools.partial(attempt, auth), lockout_429)
            except _TokenRejected:
                self._drop_token(token)
                if not may_refresh:
                    break
                log.info("Zoho rejected the cached access token; refreshing it")
        raise ZohoAuthError("Zoho rejected a freshly issued access token (INVALID_TOKEN)")

    def _with_retries(self, attempt: Callable[[], T], lockout_429: float | None = None) -> T:
        attempts = self._config.max_attempts
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=RetryAfterOrBackoff(
                self._config.max_backoff_seconds,
                ceiling=RETRY_AFTER_CEILING_SECONDS,
                lockout_429=lockout_429,
            ),
            retry=retry_if_exception_type((TransientHttpError, httpx.TransportError)),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except TransientHttpError as exc:
            raise ZohoUnavailable(f"Zoho still failing after {attempts} attempts: {exc}") from exc
        except httpx.TransportError as exc:
            raise ZohoUnavailable(
                f"Zoho unreachable after {attempts} attempts: {type(exc).__name__}"
            ) from exc

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is None or self._clock() >= self._token_expires_at:
                return self._refresh_token()
            return self._token

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:  # another thread may have refreshed already
                self._token = None

    def _refresh_token(self) -> str:
        started = self._clock()
        body = self._with_retries(self._request_token)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ZohoAuthError("the token endpoint answered without an access_token")
        lifetime = float(body.get("expires_in") or 3600)
        margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 10)
        self._token, self._token_expires_at = token, started + lifetime - margin
        if self._config.api_domain is None and isinstance(body.get("api_domain"), str):
            self._api_domain = str(body["api_domain"]).rstrip("/")
        log.info("Zoho access token refreshed (valid %.0f s)", lifetime)
        return token

    def _request_token(self) -> dict[str, Any]:
        config = self._config
        response = self._http.post(
            config.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": config.client_id,
                "client_secret": config.client_secret.get_secret_value(),
                "refresh_token": config.refresh_token.get_secret_value(),
            },
        )
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientHttpError(
                f"token endpoint HTTP {status}",
                status=status,
                retry_after=retry_after_seconds(response),
            )
        try:
            body = response.json()
        except ValueError:
            raise ZohoAuthError(f"token endpoint HTTP {status} without a JSON body") from None
        if not isinstance(body, dict):
            raise ZohoAuthError(f"token endpoint HTTP {status}: unexpected body")
        error = body.get("error")
        if error == "Access Denied":
            # Zoho's answer past 10 tokens per 10 minutes: retrying within seconds
            # would only prolong the block, so give up for this run.
            raise ZohoUnavailable("Zoho refused a new access token: too many token requests")
        if error or status != 200:
            raise ZohoAuthError(f"Zoho refused the OAuth credentials: {str(error)[:80]}")
        return body


# -- helpers ----------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_name(value: str, what: str) -> None:
    if not _NAME.match(value):
        raise ValueError(f"invalid Zoho {what}: {value!r}")


def _field_list(fields: Sequence[str]) -> str:
    """Field API names, comma-separated, with Modified_Time always among them: every
    :class:`ZohoRecord` needs it."""
    names = list(dict.fromkeys([*fields, "Modified_Time"]))
    for name in names:
        if not name or "," in name:
            raise ValueError(f"invalid field API name: {name!r}")
    return ",".join(names)


def _to_record(module: str, data: Any) -> ZohoRecord:
    if not isinstance(data, dict):
        raise ZohoError(f"{module}: a record that is not a JSON object")
    record_id, modified = data.get("id"), data.get("Modified_Time")
    if record_id is None or not isinstance(modified, str):
        raise MalformedRecord(module, record_id, "a record without id or Modified_Time")
    try:
        when = datetime.fromisoformat(modified)
    except ValueError:
        raise MalformedRecord(module, record_id, "unparsable Modified_Time") from None
    if when.tzinfo is None:
        raise MalformedRecord(module, record_id, "Modified_Time without an offset")
    return ZohoRecord(module=module, record_id=str(record_id), modified_time=when, fields=data)


def _user_fields(data: Any) -> Any:
    """A user as a record: the Users API spells the creation time ``created_time``."""
    if isinstance(data, dict) and "Created_Time" not in data and "created_time" in data:
        return {**data, "Created_Time": data["created_time"]}
    return data


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ZohoError(f"HTTP {response.status_code}: the body is not JSON") from None
    if not isinstance(body, dict):
        raise ZohoError(f"HTTP {response.status_code}: the body is not a JSON object")
    return body


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first(body: dict[str, Any], what: str) -> dict[str, Any]:
    data = _list(body.get("data"))
    if not data or not isinstance(data[0], dict):
        raise ZohoError(f"{what}: no data in the answer")
    return data[0]


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429 or status >= 500:
        raise TransientHttpError(
            f"HTTP {status}", status=status, retry_after=retry_after_seconds(response)
        )
    response.read()  # a streamed error body
    code, message = _error_code(response)
    if status == 401 and code == "INVALID_TOKEN":
        raise _TokenRejected
    if status == 403 or code in _AUTH_CODES:
        raise ZohoAuthError(f"HTTP {status} {code}: {message}")
    raise ZohoRequestError(status, code, message)


def _error_code(response: httpx.Response) -> tuple[str, str]:
    """Zoho's error code and message: top level, or in the first ``data`` (``watch``
    for the Notifications API) item, with the JSON path of the culprit if given."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    for key in ("data", "watch"):
        if isinstance(body, dict) and isinstance(body.get(key), list) and body[key]:
            body = body[key][0]
            break
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("code") or ""), _message(body.get("message"), body.get("details"))


def _message(message: Any, details: Any) -> str:
    """Zoho's message and the JSON path it blames (never a value: that could be a
    token)."""
    text = str(message or "")[:200]
    path = None
    if isinstance(details, dict):
        path = details.get("json_path") or details.get("api_name")
    return f"{text} ({str(path)[:100]})" if path else text


# -- Notifications API helpers ------------------------------------------------------


def _check_channel_id(channel_id: int) -> None:
    if (
        not isinstance(channel_id, int)
        or isinstance(channel_id, bool)
        or not 1 <= channel_id <= MAX_CHANNEL_ID
    ):
        raise WatchRequestInvalid(f"channel_id must be a positive long, not {channel_id!r}")


def _check_watch(channel_id: int, events: Sequence[str], notify_url: str, token: str) -> list[str]:
    """The events to send, once every argument is one Zoho accepts. The token's value
    never appears in a message."""
    _check_channel_id(channel_id)
    wanted = list(dict.fromkeys(events))
    if not wanted:
        raise WatchRequestInvalid("a channel needs at least one event")
    bad = [event for event in wanted if not isinstance(event, str) or not _EVENT.match(event)]
    if bad:
        raise WatchRequestInvalid(
            f"events are Module.create|edit|delete|all, not {', '.join(map(repr, bad[:3]))}"
        )
    try:
        url = httpx.URL(notify_url) if isinstance(notify_url, str) else None
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise WatchRequestInvalid("notify_url must be an absolute http(s) URL")
    if not isinstance(token, str) or not token:
        raise WatchRequestInvalid("a channel needs a token (the callbacks' only credential)")
    if len(token) > MAX_CHANNEL_TOKEN_CHARS:
        raise WatchRequestInvalid(
            f"the channel token has {len(token)} characters; Zoho takes at most "
            f"{MAX_CHANNEL_TOKEN_CHARS}"
        )
    return wanted


def _watch_item(body: dict[str, Any], what: str) -> dict[str, Any]:
    items = _list(body.get("watch"))
    if not items or not isinstance(items[0], dict):
        raise ZohoError(f"{what}: no watch result in the answer")
    return items[0]


def _watch_error(code: Any, message: Any, details: Any) -> WatchRefused:
    text = _message(message, details) if details is not None else str(message or "")[:300]
    kind = ChannelNotSubscribed if code == "NOT_SUBSCRIBED" else WatchRefused
    return kind(str(code or ""), text)


def _channel_expiry(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ZohoError("a notification channel without channel_expiry")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ZohoError(f"unparsable channel_expiry {value[:40]!r}") from None
    if when.utcoffset() is None:
        raise ZohoError(f"channel_expiry {value[:40]!r} has no offset")
    return when


def _watch_entry(entry: dict[str, Any]) -> tuple[int, list[str], datetime, str | None]:
    """One module's subscription in the notification details (its token is ignored)."""
    raw_id = entry.get("channel_id")
    try:
        number = int(str(raw_id))
    except ValueError:
        raise ZohoError(f"notification details: channel_id {str(raw_id)[:30]!r}") from None
    events = [str(event) for event in _list(entry.get("events"))]
    url = entry.get("notify_url")
    return (
        number,
        events,
        _channel_expiry(entry.get("channel_expiry")),
        (str(url) if isinstance(url, str) else None),
    )


def _collapse_events(events: Sequence[str]) -> tuple[str, ...]:
    """Zoho lists ``Module.all`` as the module's create, edit and delete: read it back
    as ``Module.all``, so a listing compares with what was enabled."""
    by_module: dict[str, list[str]] = {}
    for event in events:
        module, _, operation = event.rpartition(".")
        by_module.setdefault(module, []).append(operation)
    collapsed: list[str] = []
    for module, operations in by_module.items():
        if "all" in operations or set(CHANNEL_OPERATIONS) <= set(operations):
            collapsed.append(f"{module}.all")
        else:
            collapsed.extend(f"{module}.{operation}" for operation in operations)
    return tuple(collapsed)


def _log_retry(state: RetryCallState) -> None:
    failure = state.outcome.exception() if state.outcome else None
    reason = str(failure) if isinstance(failure, TransientHttpError) else type(failure).__name__
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning(
        "Zoho call failed (%s), attempt %d; retrying in %.1f s", reason, state.attempt_number, wait
    )
