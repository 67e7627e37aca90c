"""A fake Zoho CRM on a local port: the accounts token endpoint, the records API, the
Bulk Read API and the Notifications API (``actions/watch``: enable, list, disable), in
their documented formats, with fault injection.

One werkzeug server on 127.0.0.1 (a free port) serves as both accounts server and API
domain. It keeps a virtual clock (:meth:`FakeZoho.clock`, moved by
:meth:`FakeZoho.advance`; :meth:`FakeZoho.now` is the matching wall-clock time) for
token expiry, the download rate limit and channel expiry, so tests need no real
waiting: hand ``clock=fake.clock, sleep=fake.advance, wall_clock=fake.now`` to the
client.

Notification channels behave as Zoho documents them: one subscription per channel and
module, each with its expiry; ``channel_expiry`` at most a week ahead, a missing (or
longer) one meaning one hour; a token of at most 50 characters (INVALID_DATA beyond);
an expired channel is gone (not listed, NOT_SUBSCRIBED when disabled) and enabling it
again creates it anew. :meth:`FakeZoho.channels` shows the live ones and
:meth:`FakeZoho.callback` builds the body Zoho would POST to a channel's notify URL.

Onboarding (``mymedic zoho connect``, ``mymedic zoho mapping init``): the consent screen
``/oauth/v2/auth`` agrees at once and redirects with a code (:meth:`FakeZoho.set_consent`
makes the user one of another data centre, or withholds scopes), the token endpoint
exchanges a code once within two minutes for a refresh token that then works like the
configured one, and ``/settings/modules`` and ``/settings/fields`` serve the metadata
set with :meth:`FakeZoho.set_metadata`.

Synthetic data only; the credentials are random per instance.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

from pydantic import SecretStr
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from mymedic.integrations.zoho.config import ZohoConfig

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

TOKENS_PER_WINDOW = 10  # Zoho: 10 access tokens per 10 minutes per refresh token
TOKEN_WINDOW_SECONDS = 600.0
PAGE_NUMBER_WINDOW = 2000  # page/per_page reach this many records; page_token beyond
DOWNLOAD_WINDOW_SECONDS = 60.0
DOWNLOAD_LOCKOUT_SECONDS = 60.0
# Notifications API (v4 and later).
CHANNEL_MAX_LIFETIME = timedelta(days=7)
CHANNEL_DEFAULT_LIFETIME = timedelta(hours=1)  # channel_expiry missing or too far ahead
CHANNEL_TOKEN_MAX_CHARS = 50
CHANNEL_MAX_ID = 2**63 - 1
ORG_TIMEZONE = timezone(timedelta(hours=5, minutes=30))  # Zoho answers in the org's zone
_EVENT = re.compile(r"^([A-Za-z0-9_]+)\.(create|edit|delete|all)$")
_OPERATIONS = ("edit", "create", "delete")  # the order Zoho lists them in
_CALLBACK_OPERATIONS = {"create": "insert", "edit": "update", "delete": "delete"}
# Accounts OAuth (onboarding): a grant code lives two minutes; the redirect names the
# consenting user's data centre (``location``) and its accounts server.
CODE_LIFETIME_SECONDS = 120.0
ACCOUNTS_SERVERS = {
    "us": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "au": "https://accounts.zoho.com.au",
    "jp": "https://accounts.zoho.jp",
    "ca": "https://accounts.zohocloud.ca",
    "cn": "https://accounts.zoho.com.cn",
}

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


@dataclass
class _Job:
    job_id: str
    module: str
    fields: list[str]
    page: int
    matches: Predicate
    created_time: str
    state: str = "ADDED"
    polls: int = 0
    fail: bool = False
    result: dict[str, Any] | None = None
    zip_path: Path | None = None


@dataclass
class _Fault:
    status: int
    retry_after: float | None


@dataclass
class _Store:
    records: dict[str, dict[str, Row]] = field(default_factory=dict)  # module -> id -> row
    modified: dict[str, dict[str, datetime]] = field(default_factory=dict)  # parsed times


@dataclass
class _Subscription:
    """One module of a notification channel (Zoho keeps them apart)."""

    channel_id: int
    module: str
    operations: list[str]  # create, edit, delete
    expires_at: datetime
    notify_url: str
    token: str | None
    resource_uri: str
    resource_id: str
    return_affected_field_values: bool = False
    notify_on_related_action: bool = True


@dataclass
class _Code:
    """An authorization code (grant token) not yet exchanged."""

    location: str  # the data centre of the user who consented
    redirect_uri: str | None  # None: a self client's code, exchanged without one
    scopes: tuple[str, ...]
    offline: bool  # access_type=offline: the exchange also issues a refresh token
    issued_at: float  # virtual clock


@dataclass(frozen=True)
class FakeChannel:
    """A live notification channel as the fake holds it (for assertions)."""

    channel_id: int
    events: tuple[str, ...]  # Module.operation, "all" spelled out
    expires_at: datetime  # the earliest of its modules'
    notify_url: str
    token: str | None


class _Invalid(Exception):
    """One watch item Zoho would refuse (internal)."""

    def __init__(self, code: str, message: str, api_name: str, json_path: str) -> None:
        super().__init__(message)
        self.item = {
            "code": code,
            "details": {"api_name": api_name, "json_path": json_path},
            "message": message,
            "status": "error",
        }


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log: tests make thousands of requests."""


class FakeZoho:
    def __init__(
        self,
        *,
        token_lifetime_seconds: int = 3600,
        bulk_page_size: int = 200_000,
        polls_until_complete: int = 2,
        downloads_per_minute: int = 10,
    ) -> None:
        self.client_id = f"1000.{secrets.token_hex(12).upper()}"
        self.client_secret = secrets.token_hex(20)
        self.refresh_token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        self.token_lifetime_seconds = token_lifetime_seconds
        self.bulk_page_size = bulk_page_size
        self.polls_until_complete = polls_until_complete
        self.downloads_per_minute = downloads_per_minute
        self.requests: list[tuple[str, str]] = []
        self.tokens_issued = 0
        self._lock = threading.RLock()
        self._offset = 0.0
        self._tokens: dict[str, float] = {}  # access token -> expiry (virtual clock)
        self._token_times: deque[float] = deque()
        self._store = _Store()
        self._page_tokens: dict[str, tuple[tuple[Any, ...], int]] = {}
        self._faults: deque[_Fault] = deque()
        self._jobs: dict[str, _Job] = {}
        self._job_ids = itertools.count(4_150_868_000_004_717_002)
        self._downloads: deque[float] = deque()
        self._locked_until = 0.0
        self._subscriptions: dict[tuple[int, str], _Subscription] = {}
        self._resource_ids: dict[str, str] = {}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._workdir: Path | None = None
        self._base_url = ""
        # Onboarding: the data centre this fake's accounts server stands for, what the
        # next consent grants, the codes issued and the refresh tokens they gave.
        self.home_location = "in"
        self._consent_location: str | None = None
        self._withheld_scopes: frozenset[str] = frozenset()
        self._codes: dict[str, _Code] = {}
        self._granted: dict[str, tuple[str, ...]] = {}  # refresh token -> scopes
        self._meta_modules: list[dict[str, Any]] = []
        self._meta_fields: dict[str, list[dict[str, Any]]] = {}
        self._routes = Map(
            [
                Rule("/oauth/v2/auth", methods=["GET"], endpoint="auth"),
                Rule("/oauth/v2/token/revoke", methods=["POST"], endpoint="revoke"),
                Rule("/oauth/v2/token", methods=["POST"], endpoint="token"),
                Rule(
                    "/crm/<version>/settings/modules", methods=["GET"], endpoint="settings_modules"
                ),
                Rule("/crm/<version>/settings/fields", methods=["GET"], endpoint="settings_fields"),
                Rule("/crm/bulk/<version>/read", methods=["POST"], endpoint="bulk_create"),
                Rule("/crm/bulk/<version>/read/<job_id>", methods=["GET"], endpoint="bulk_job"),
                Rule(
                    "/crm/bulk/<version>/read/<job_id>/result",
                    methods=["GET"],
                    endpoint="bulk_result",
                ),
                Rule(
                    "/crm/<version>/actions/watch",
                    methods=["GET", "POST", "DELETE"],
                    endpoint="watch",
                ),
                Rule("/crm/<version>/users", methods=["GET"], endpoint="users"),
                Rule("/crm/<version>/users/<user_id>", methods=["GET"], endpoint="user"),
                Rule("/crm/<version>/<module>", methods=["GET"], endpoint="records"),
            ]
        )

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free local port; returns the base URL (accounts and API)."""
        if self._server is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="fake-zoho-"))
            server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_QuietHandler)
            self._server = server
            self._base_url = f"http://127.0.0.1:{server.server_port}"
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self._base_url

    def stop(self) -> None:
        """Stop serving (later requests are refused at the socket); idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._base_url

    def config(self, **overrides: Any) -> ZohoConfig:
        """A ZohoConfig pointing at this fake (start it first)."""
        values: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": SecretStr(self.client_secret),
            "refresh_token": SecretStr(self.refresh_token),
            "accounts_url": self._base_url,
            "api_domain": self._base_url,
        }
        values.update(overrides)
        return ZohoConfig(**values)

    # -- test controls ------------------------------------------------------------

    def clock(self) -> float:
        """The fake's monotonic clock: real time plus what :meth:`advance` added."""
        return time.monotonic() + self._offset

    def now(self) -> datetime:
        """The wall-clock time on the virtual clock (UTC): what channel expiries are
        measured against."""
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> None:
        """Move the virtual clock on (token expiry, download lock-out, Modified_Time,
        channel expiry)."""
        with self._lock:
            self._offset += max(0.0, seconds)

    def channels(self) -> list[FakeChannel]:
        """The live (unexpired) notification channels, by channel id."""
        with self._lock:
            by_channel: dict[int, list[_Subscription]] = {}
            for sub in self._live_subscriptions():
                by_channel.setdefault(sub.channel_id, []).append(sub)
        return [
            FakeChannel(
                channel_id=channel_id,
                events=tuple(f"{sub.module}.{op}" for sub in subs for op in sub.operations),
                expires_at=min(sub.expires_at for sub in subs),
                notify_url=subs[0].notify_url,
                token=subs[0].token,
            )
            for channel_id, subs in sorted(by_channel.items())
        ]

    def callback(
        self, channel_id: int, module: str, ids: Iterable[str], operation: str = "edit"
    ) -> dict[str, Any]:
        """The body Zoho would POST to the channel's notify URL when ``operation``
        (create, edit or delete) happens to the records ``ids`` of ``module``; a
        LookupError if the channel (live) does not watch that."""
        with self._lock:
            live = {(sub.channel_id, sub.module): sub for sub in self._live_subscriptions()}
        sub = live.get((channel_id, module))
        if sub is None or operation not in sub.operations:
            raise LookupError(f"channel {channel_id} does not watch {module}.{operation}")
        return {
            "server_time": int(self.now().timestamp() * 1000),
            "query_params": {},
            "module": module,
            "resource_uri": sub.resource_uri,
            "ids": [str(record_id) for record_id in ids],
            "affected_fields": [],
            "operation": _CALLBACK_OPERATIONS[operation],
            "channel_id": str(channel_id),
            "token": sub.token,
        }

    def add_records(self, module: str, records: Iterable[dict[str, Any]]) -> None:
        """Store records: each has ``id`` and ``Modified_Time`` (ISO 8601 with offset)."""
        with self._lock:
            rows = self._store.records.setdefault(module, {})
            times = self._store.modified.setdefault(module, {})
            for record in records:
                row = dict(record)
                record_id = str(row["id"])
                row["id"] = record_id
                times[record_id] = _parse_time(row["Modified_Time"])
                rows[record_id] = row

    def set_raw_field(self, module: str, record_id: str, name: str, value: Any) -> None:
        """Overwrite one field as served, leaving the record's place in Modified_Time
        order alone: for serving what Zoho should not send (a bad Modified_Time)."""
        with self._lock:
            self._store.records[module][record_id][name] = value

    def update_record(self, module: str, record_id: str, **fields: Any) -> None:
        """Change fields and bump Modified_Time (past the previous one, in its offset)."""
        with self._lock:
            row = self._store.records[module][record_id]
            previous = self._store.modified[module][record_id]
            now = (datetime.now(UTC) + timedelta(seconds=self._offset)).replace(microsecond=0)
            bumped = max(now, previous + timedelta(seconds=1)).astimezone(previous.tzinfo)
            row.update(fields)
            row["Modified_Time"] = bumped.isoformat()
            self._store.modified[module][record_id] = bumped

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """The next ``times`` CRM API requests (not the token endpoint) answer ``status``."""
        with self._lock:
            self._faults.extend(_Fault(status, retry_after) for _ in range(times))

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (the API answers INVALID_TOKEN)."""
        with self._lock:
            self._tokens.clear()

    def fail_bulk_read(self, job_id: str) -> None:
        """The job's next status poll reports FAILED."""
        with self._lock:
            self._jobs[job_id].fail = True

    def set_consent(self, *, location: str | None = None, withhold: Iterable[str] = ()) -> None:
        """What the next consents grant: as a user of data centre ``location`` (a Zoho
        location: us, eu, in, au, jp, ca, cn; default this fake's own), and every scope
        asked for but those in ``withhold``."""
        if location is not None and location not in ACCOUNTS_SERVERS:
            raise ValueError(f"not a Zoho location: {location!r}")
        with self._lock:
            self._consent_location = location
            self._withheld_scopes = frozenset(withhold)

    def self_client_code(self, scopes: Iterable[str]) -> str:
        """A code as a self client's console generates it: no redirect URI, offline."""
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        with self._lock:
            self._codes[code] = _Code(self.home_location, None, tuple(scopes), True, self.clock())
        return code

    def granted_refresh_tokens(self) -> int:
        """How many refresh tokens issued for grants are still valid (not revoked)."""
        with self._lock:
            return len(self._granted)

    def set_metadata(
        self,
        modules: Iterable[dict[str, Any]],
        fields: Mapping[str, Iterable[dict[str, Any]]] | None = None,
    ) -> None:
        """The org's metadata, in Zoho's shapes: ``/settings/modules`` items (api_name,
        module_name, singular_label, plural_label, generated_type, api_supported, id)
        and, per module API name, ``/settings/fields`` items (api_name, field_label,
        data_type, json_type, pick_list_values, lookup, formula, custom_field, ...)."""
        with self._lock:
            self._meta_modules = [dict(module) for module in modules]
            self._meta_fields = {
                name: [dict(item) for item in items] for name, items in (fields or {}).items()
            }

    # -- WSGI ---------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._dispatch(Request(environ))(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append((request.method, request.path))
        try:
            endpoint, args = self._routes.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return _error(exc.code or 404, "INVALID_URL_PATTERN", "Please check the URL")
        if endpoint == "token":
            return self._token(request)
        if endpoint in ("auth", "revoke"):
            accounts: Callable[[Request], Response] = getattr(self, f"_{endpoint}")
            return accounts(request)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            return _fault_response(fault)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        handler: Callable[..., Response] = getattr(self, f"_{endpoint}")
        return handler(request, **args)

    # -- accounts -----------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(request)
        if form.get("grant_type") != "refresh_token":
            return _json({"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id or (
            form.get("client_secret") != self.client_secret
        ):
            return _json({"error": "invalid_client"})
        if form.get("refresh_token") != self.refresh_token and (
            form.get("refresh_token") not in self._granted
        ):
            return _json({"error": "invalid_code"})
        with self._lock:
            now = self.clock()
            while self._token_times and now - self._token_times[0] >= TOKEN_WINDOW_SECONDS:
                self._token_times.popleft()
            if len(self._token_times) >= TOKENS_PER_WINDOW:
                return _json(
                    {
                        "error_description": "You have made too many requests continuously. "
                        "Please try again after some time.",
                        "error": "Access Denied",
                        "status": "failure",
                    },
                    400,
                )
            token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            self._tokens[token] = now + self.token_lifetime_seconds
            self._token_times.append(now)
            self.tokens_issued += 1
        return _json(
            {
                "access_token": token,
                "scope": "ZohoCRM.modules.ALL ZohoCRM.bulk.read ZohoCRM.notifications.ALL",
                "api_domain": self._base_url,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_seconds,
            }
        )

    def _authenticate(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not token:
            return _error(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        with self._lock:
            expiry = self._tokens.get(token)
            if expiry is None or expiry <= self.clock():
                return _error(401, "INVALID_TOKEN", "invalid oauth token")
        return None

    # -- accounts: authorization code grant (onboarding) ---------------------------

    def _auth(self, request: Request) -> Response:
        """The consent screen, agreed to at once: 302 to the redirect URI with the code,
        the state, and the consenting user's location and accounts server. What Zoho
        would refuse shows as an error page, without a redirect."""
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        scopes = tuple(scope.strip() for scope in args.get("scope", "").split(",") if scope.strip())
        problem = None
        if args.get("client_id") != self.client_id:
            problem = "Invalid Client"
        elif args.get("response_type") != "code":
            problem = "Invalid Response Type"
        elif not re.match(r"^https?://[^/\s]+", redirect_uri):
            problem = "Invalid Redirect Uri"
        elif not scopes:
            problem = "Invalid OAuth Scope"
        if problem is not None:
            page = f"<html><body><h1>{problem}</h1></body></html>"
            return Response(page, status=400, mimetype="text/html")
        with self._lock:
            location = self._consent_location or self.home_location
            granted = tuple(scope for scope in scopes if scope not in self._withheld_scopes)
            code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            offline = args.get("access_type") == "offline"
            self._codes[code] = _Code(location, redirect_uri, granted, offline, self.clock())
        server = self._base_url if location == self.home_location else ACCOUNTS_SERVERS[location]
        answer = {"code": code, "location": location, "accounts-server": server}
        if args.get("state") is not None:
            answer = {"state": args["state"], **answer}
        separator = "&" if "?" in redirect_uri else "?"
        response = Response(status=302)
        response.headers["Location"] = f"{redirect_uri}{separator}{urlencode(answer)}"
        return response

    def _code_grant(self, request: Request) -> Response:
        """grant_type=authorization_code: a code once, within two minutes, with the
        redirect URI it was issued for; errors as Zoho answers them (HTTP 200)."""
        form = request.form
        if form.get("client_id") != self.client_id or (
            form.get("client_secret") != self.client_secret
        ):
            return _json({"error": "invalid_client"})
        with self._lock:
            now = self.clock()
            key = form.get("code", "")
            code = self._codes.get(key)
            # A code of another data centre is redeemable only at that one's server.
            if code is None or code.location != self.home_location:
                return _json({"error": "invalid_code"})
            if now - code.issued_at > CODE_LIFETIME_SECONDS:
                del self._codes[key]
                return _json({"error": "invalid_code"})
            if code.redirect_uri is not None and form.get("redirect_uri") != code.redirect_uri:
                return _json({"error": "invalid_redirect_uri"})
            del self._codes[key]
            token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            self._tokens[token] = now + self.token_lifetime_seconds
            body: dict[str, Any] = {"access_token": token}
            if code.offline:
                refresh = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
                self._granted[refresh] = code.scopes
                body["refresh_token"] = refresh
        body.update(
            {
                "scope": " ".join(code.scopes),
                "api_domain": self._base_url,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_seconds,
            }
        )
        return _json(body)

    def _revoke(self, request: Request) -> Response:
        """``POST /oauth/v2/token/revoke?token=``: the refresh token no longer works."""
        token = request.args.get("token") or request.form.get("token") or ""
        with self._lock:
            self._granted.pop(token, None)
        return _json({"status": "success"})

    # -- metadata API ---------------------------------------------------------------

    def _settings_modules(self, request: Request, version: str) -> Response:
        with self._lock:
            modules = [dict(module) for module in self._meta_modules]
        return _json({"modules": modules})

    def _settings_fields(self, request: Request, version: str) -> Response:
        module = request.args.get("module")
        if not module:
            return _error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param": "module"},
            )
        with self._lock:
            known = {str(item.get("api_name")) for item in self._meta_modules}
            fields = [dict(item) for item in self._meta_fields.get(module, [])]
        if module not in known:
            return _error(
                400,
                "INVALID_MODULE",
                "the module name given seems to be invalid",
                {"param": "module"},
            )
        return _json({"fields": fields})

    # -- records API --------------------------------------------------------------

    def _records(self, request: Request, version: str, module: str) -> Response:
        args = request.args
        fields = [name for name in args.get("fields", "").split(",") if name]
        if not fields:
            return _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
        per_page = _int(args.get("per_page"), 200)
        if per_page is None or not 1 <= per_page <= 200:
            return _error(400, "INVALID_DATA", "invalid per_page")
        sort_by = args.get("sort_by", "id")
        sort_order = args.get("sort_order", "desc")
        if sort_by not in {"id", "Modified_Time", "Created_Time"} or sort_order not in {
            "asc",
            "desc",
        }:
            return _error(400, "INVALID_DATA", "invalid sort_by or sort_order")
        ids = [value for value in args.get("ids", "").split(",") if value]
        if len(ids) > 100:
            return _error(400, "LIMIT_EXCEEDED", "at most 100 ids")
        since_header = request.headers.get("If-Modified-Since")
        since = None
        if since_header:
            try:
                since = _parse_time(since_header)
            except ValueError:
                return _error(400, "INVALID_DATA", "invalid If-Modified-Since")

        with self._lock:
            rows = list(self._store.records.get(module, {}).values())
            times = dict(self._store.modified.get(module, {}))
        if ids:
            wanted = set(ids)
            rows = [row for row in rows if row["id"] in wanted]
        if since is not None:
            rows = [row for row in rows if times[row["id"]] > since]
        rows.sort(key=_sort_key(sort_by, times), reverse=sort_order == "desc")

        query = (module, tuple(fields), per_page, sort_by, sort_order, tuple(ids), since_header)
        page_token = args.get("page_token")
        if page_token:
            with self._lock:
                known = self._page_tokens.get(page_token)
            if known is None or known[0] != query:
                return _error(400, "INVALID_DATA", "invalid page_token")
            offset = known[1]
        else:
            page = _int(args.get("page"), 1)
            if page is None or page < 1:
                return _error(400, "INVALID_DATA", "invalid page")
            if page * per_page > PAGE_NUMBER_WINDOW:
                return _error(
                    400,
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "cannot fetch more than 2000 records with page; use page_token",
                )
            offset = (page - 1) * per_page
        chunk = rows[offset : offset + per_page]
        if not chunk:
            return Response(status=204)
        more = offset + per_page < len(rows)
        next_token = None
        if more:
            next_token = secrets.token_hex(24)
            with self._lock:
                self._page_tokens[next_token] = (query, offset + per_page)
        expiry = datetime.now(UTC) + timedelta(seconds=self._offset, days=1)
        info = {
            "per_page": per_page,
            "count": len(chunk),
            "page": offset // per_page + 1,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "more_records": more,
            "next_page_token": next_token,
            "previous_page_token": None,
            "page_token_expiry": expiry.replace(microsecond=0).isoformat() if more else None,
        }
        data = [{"id": row["id"], **{f: row.get(f) for f in fields if f != "id"}} for row in chunk]
        return _json({"data": data, "info": info})

    # -- Users API ------------------------------------------------------------------
    # CRM users are kept as the records of module "Users" (add_records("Users", ...)):
    # each with id, full_name, email, role, profile, status, Modified_Time and
    # created_time, plus the org's custom user fields.

    def _users(self, request: Request, version: str) -> Response:
        args = request.args
        kind = args.get("type", "AllUsers")
        if kind not in ("AllUsers", "ActiveUsers", "DeactiveUsers", "AdminUsers"):
            return _error(400, "INVALID_DATA", "invalid type")
        page, per_page = _int(args.get("page"), 1), _int(args.get("per_page"), 200)
        if page is None or page < 1 or per_page is None or not 1 <= per_page <= 200:
            return _error(400, "INVALID_DATA", "invalid page or per_page")
        since = None
        if request.headers.get("If-Modified-Since"):
            try:
                since = _parse_time(request.headers["If-Modified-Since"])
            except ValueError:
                return _error(400, "INVALID_DATA", "invalid If-Modified-Since")
        with self._lock:
            users = list(self._store.records.get("Users", {}).values())
            times = dict(self._store.modified.get("Users", {}))
        if kind == "ActiveUsers":
            users = [user for user in users if user.get("status", "active") == "active"]
        elif kind == "DeactiveUsers":
            users = [user for user in users if user.get("status") == "disabled"]
        if since is not None:
            users = [user for user in users if times[user["id"]] > since]
        users.sort(key=_id_key)
        chunk = users[(page - 1) * per_page : page * per_page]
        if not chunk:
            return Response(status=204)
        info = {
            "per_page": per_page,
            "count": len(chunk),
            "page": page,
            "more_records": page * per_page < len(users),
        }
        return _json({"users": chunk, "info": info})

    def _user(self, request: Request, version: str, user_id: str) -> Response:
        with self._lock:
            user = self._store.records.get("Users", {}).get(user_id)
        if user is None:
            return _error(400, "INVALID_DATA", "the user does not exist", {"id": user_id})
        return _json({"users": [user]})

    # -- Bulk Read API ------------------------------------------------------------

    def _bulk_create(self, request: Request, version: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
            return _error(400, "INVALID_DATA", "a JSON body with query is required")
        query: dict[str, Any] = body["query"]
        module_ref = query.get("module")
        module = module_ref.get("api_name") if isinstance(module_ref, dict) else None
        if not isinstance(module, str) or not module:
            return _error(400, "INVALID_DATA", "query.module.api_name is required")
        if module == "Users":
            return _error(400, "INVALID_MODULE", "the module is not supported for Bulk Read")
        if body.get("file_type", "csv") != "csv":
            return _error(400, "INVALID_DATA", "only csv is supported for this module")
        page = _int(query.get("page"), 1)
        if page is None or page < 1:
            return _error(400, "INVALID_DATA", "invalid page")
        try:
            matches = _criteria(query.get("criteria"))
        except (ValueError, TypeError, KeyError) as exc:
            return _error(400, "INVALID_QUERY", f"invalid criteria: {exc}")
        with self._lock:
            fields = query.get("fields") or self._all_fields(module)
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                return _error(400, "INVALID_DATA", "fields must be a list of API names")
            job = _Job(
                job_id=str(next(self._job_ids)),
                module=module,
                fields=[f for f in fields if f not in {"id", "Id"}],
                page=page,
                matches=matches,
                created_time=self._wall_time(),
            )
            self._jobs[job.job_id] = job
        details = {
            "id": job.job_id,
            "operation": "read",
            "state": "ADDED",
            "created_by": {"id": "4150868000000225013", "name": "Fake Admin"},
            "created_time": job.created_time,
        }
        return _json(
            {
                "data": [
                    {
                        "status": "success",
                        "code": "ADDED_SUCCESSFULLY",
                        "message": "Added successfully.",
                        "details": details,
                    }
                ],
                "info": {},
            },
            201,
        )

    def _bulk_job(self, request: Request, version: str, job_id: str) -> Response:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return _error(400, "INVALID_DATA", "the job id given seems to be invalid")
            if job.state not in {"COMPLETED", "FAILED"}:
                job.polls += 1
                if job.fail:
                    job.state = "FAILED"
                elif job.polls >= self.polls_until_complete:
                    self._complete(job, version)  # under the lock: one completion per job
                else:
                    job.state = "IN PROGRESS"
        item: dict[str, Any] = {
            "id": job.job_id,
            "operation": "read",
            "state": job.state,
            "query": {"module": {"api_name": job.module}, "page": job.page, "fields": job.fields},
            "created_by": {"id": "4150868000000225013", "name": "Fake Admin"},
            "created_time": job.created_time,
            "file_type": "csv",
        }
        if job.result is not None:
            item["result"] = job.result
        return _json({"data": [item]})

    def _bulk_result(self, request: Request, version: str, job_id: str) -> Response:
        with self._lock:
            now = self.clock()
            if now < self._locked_until:
                return _error(429, "TOO_MANY_REQUESTS", "locked for a minute: too many downloads")
            while self._downloads and now - self._downloads[0] >= DOWNLOAD_WINDOW_SECONDS:
                self._downloads.popleft()
            if len(self._downloads) >= self.downloads_per_minute:
                self._locked_until = now + DOWNLOAD_LOCKOUT_SECONDS
                return _error(429, "TOO_MANY_REQUESTS", "too many download requests")
            self._downloads.append(now)
            job = self._jobs.get(job_id)
        if job is None or job.state != "COMPLETED" or job.zip_path is None:
            return _error(400, "INVALID_REQUEST", "the job is not completed")
        handle = job.zip_path.open("rb")
        response = Response(
            wrap_file(request.environ, handle),
            mimetype="application/zip",
            direct_passthrough=True,
        )
        response.headers["Content-Length"] = str(job.zip_path.stat().st_size)
        response.headers["Content-Disposition"] = f'attachment; filename="{job_id}.zip"'
        return response

    def _complete(self, job: _Job, version: str) -> None:
        """Export the job's page of matching rows (ordered by id) into its ZIP."""
        rows = [row for row in self._store.records.get(job.module, {}).values() if job.matches(row)]
        rows.sort(key=_id_key)
        start = (job.page - 1) * self.bulk_page_size
        page_rows = rows[start : start + self.bulk_page_size]
        workdir = self._workdir or Path(tempfile.mkdtemp(prefix="fake-zoho-"))
        job.zip_path = workdir / f"{job.job_id}.zip"
        _write_zip(job.zip_path, job.job_id, job.fields, page_rows)
        job.result = {
            "page": job.page,
            "per_page": self.bulk_page_size,
            "count": len(page_rows),
            "download_url": f"/crm/bulk/{version}/read/{job.job_id}/result",
            "more_records": len(rows) > start + self.bulk_page_size,
        }
        job.state = "COMPLETED"

    def _all_fields(self, module: str) -> list[str]:
        names: dict[str, None] = {}
        for row in self._store.records.get(module, {}).values():
            names.update(dict.fromkeys(row))
        return list(names)

    def _wall_time(self) -> str:
        return self.now().replace(microsecond=0).isoformat()

    # -- Notifications API --------------------------------------------------------

    def _watch(self, request: Request, version: str) -> Response:
        if request.method == "POST":
            return self._watch_enable(request, version)
        if request.method == "DELETE":
            return self._watch_disable(request)
        return self._watch_details(request)

    def _live_subscriptions(self) -> list[_Subscription]:
        """Forget expired channels (Zoho does), then the rest in creation order."""
        now = self.now()
        for key in [key for key, sub in self._subscriptions.items() if sub.expires_at <= now]:
            del self._subscriptions[key]
        return list(self._subscriptions.values())

    def _watch_enable(self, request: Request, version: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "INVALID_DATA", "the body must be a JSON object")
        items = body.get("watch")
        if not isinstance(items, list) or not items:
            return _error(
                400,
                "MANDATORY_NOT_FOUND",
                "required field not found",
                {"api_name": "watch", "json_path": "$.watch"},
            )
        parsed: list[list[_Subscription]] = []
        errors: list[dict[str, Any]] = []
        with self._lock:
            now = self.now()
            for index, item in enumerate(items):
                try:
                    parsed.append(self._watch_item(item, index, now, version))
                except _Invalid as invalid:
                    errors.append(invalid.item)
            if errors:  # nothing is subscribed unless every item is valid
                return _json({"watch": errors}, 400)
            for subs in parsed:
                for sub in subs:
                    self._subscriptions[(sub.channel_id, sub.module)] = sub
        results = [
            {
                "code": "SUCCESS",
                "details": {
                    "events": [
                        {
                            "channel_expiry": _org_time(sub.expires_at),
                            "resource_uri": sub.resource_uri,
                            "resource_id": sub.resource_id,
                            "resource_name": sub.module,
                            "channel_id": str(sub.channel_id),
                        }
                        for sub in subs
                    ]
                },
                "message": "Successfully subscribed for actions-watch of the given module",
                "status": "success",
            }
            for subs in parsed
        ]
        return _json({"watch": results})

    def _watch_item(
        self, item: Any, index: int, now: datetime, version: str
    ) -> list[_Subscription]:
        path = f"$.watch[{index}]"
        if not isinstance(item, dict):
            raise _Invalid("INVALID_DATA", "invalid data", "watch", path)
        for key in ("channel_id", "events", "notify_url"):
            if key not in item or item[key] is None:
                raise _Invalid(
                    "MANDATORY_NOT_FOUND", "required field not found", key, f"{path}.{key}"
                )
        channel_id = _long(item["channel_id"])
        if channel_id is None:
            raise _Invalid("INVALID_DATA", "invalid data", "channel_id", f"{path}.channel_id")
        events = item["events"]
        if not isinstance(events, list) or not events:
            raise _Invalid("INVALID_DATA", "invalid data", "events", f"{path}.events")
        operations: dict[str, list[str]] = {}
        for position, event in enumerate(events):
            match = _EVENT.match(event) if isinstance(event, str) else None
            if match is None:
                raise _Invalid(
                    "INVALID_DATA", "invalid data", "events", f"{path}.events[{position}]"
                )
            module, operation = match.groups()
            wanted = _OPERATIONS if operation == "all" else (operation,)
            known = operations.setdefault(module, [])
            known.extend(op for op in wanted if op not in known)
        notify_url = item["notify_url"]
        if not isinstance(notify_url, str) or not re.match(r"^https?://[^/\s]+", notify_url):
            raise _Invalid("INVALID_DATA", "invalid data", "notify_url", f"{path}.notify_url")
        token = item.get("token")
        if token is not None and (
            not isinstance(token, str) or len(token) > CHANNEL_TOKEN_MAX_CHARS
        ):
            raise _Invalid("INVALID_DATA", "invalid data", "token", f"{path}.token")
        expires_at = (now + CHANNEL_DEFAULT_LIFETIME).replace(microsecond=0)
        if item.get("channel_expiry") is not None:
            try:
                asked = _parse_time(str(item["channel_expiry"]))
            except ValueError:
                raise _Invalid(
                    "INVALID_DATA", "invalid data", "channel_expiry", f"{path}.channel_expiry"
                ) from None
            if now < asked <= now + CHANNEL_MAX_LIFETIME:
                expires_at = asked.astimezone(UTC)
        flags: dict[str, bool] = {}
        for key in ("return_affected_field_values", "notify_on_related_action"):
            if key in item:
                if not isinstance(item[key], bool):
                    raise _Invalid("INVALID_DATA", "invalid data", key, f"{path}.{key}")
                flags[key] = item[key]
        return [
            _Subscription(
                channel_id=channel_id,
                module=module,
                operations=[op for op in _OPERATIONS if op in ops],
                expires_at=expires_at,
                notify_url=notify_url,
                token=token,
                resource_uri=f"{self._base_url}/crm/{version}/{module}",
                resource_id=self._resource_id(module),
                **flags,
            )
            for module, ops in operations.items()
        ]

    def _resource_id(self, module: str) -> str:
        return self._resource_ids.setdefault(
            module, str(4_150_868_000_000_000_125 + 2 * len(self._resource_ids))
        )

    def _watch_details(self, request: Request) -> Response:
        args = request.args
        page, per_page = _int(args.get("page"), 1), _int(args.get("per_page"), 200)
        if page is None or page < 1 or per_page is None or not 1 <= per_page <= 200:
            return _error(400, "INVALID_DATA", "invalid page or per_page")
        channel_id = _long(args["channel_id"]) if args.get("channel_id") else None
        if args.get("channel_id") and channel_id is None:
            return _error(400, "INVALID_DATA", "invalid channel_id", {"param": "channel_id"})
        module = args.get("module")
        with self._lock:
            subs = sorted(self._live_subscriptions(), key=lambda sub: sub.channel_id)
        subs = [
            sub
            for sub in subs
            if (channel_id is None or sub.channel_id == channel_id)
            and (not module or sub.module == module)
        ]
        chunk = subs[(page - 1) * per_page : page * per_page]
        if not chunk:
            return Response(status=204)
        entries = [
            {
                "notify_on_related_action": sub.notify_on_related_action,
                "channel_expiry": _org_time(sub.expires_at),
                "return_affected_field_values": sub.return_affected_field_values,
                "resource_uri": sub.resource_uri,
                "resource_id": sub.resource_id,
                "notify_url": sub.notify_url,
                "resource_name": sub.module,
                "fields": None,
                "notification_condition": None,
                "channel_id": str(sub.channel_id),
                "events": [f"{sub.module}.{op}" for op in sub.operations],
                "token": sub.token,
            }
            for sub in chunk
        ]
        info = {
            "per_page": per_page,
            "count": len(chunk),
            "page": page,
            "more_records": page * per_page < len(subs),
        }
        return _json({"watch": entries, "info": info})

    def _watch_disable(self, request: Request) -> Response:
        raw = [value for value in request.args.get("channel_ids", "").split(",") if value]
        if not raw:
            return _error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param": "channel_ids"},
            )
        channel_ids = [_long(value) for value in raw]
        if any(channel_id is None for channel_id in channel_ids):
            return _error(400, "INVALID_DATA", "invalid channel_ids", {"param": "channel_ids"})
        results: list[dict[str, Any]] = []
        with self._lock:
            live = self._live_subscriptions()
            for channel_id in dict.fromkeys(channel_ids):
                mine = [sub for sub in live if sub.channel_id == channel_id]
                if not mine:
                    results.append(
                        {
                            "code": "NOT_SUBSCRIBED",
                            "details": {"channel_id": str(channel_id)},
                            "message": "the channel is not subscribed",
                            "status": "error",
                        }
                    )
                for sub in mine:
                    del self._subscriptions[(sub.channel_id, sub.module)]
                    results.append(
                        {
                            "code": "SUCCESS",
                            "details": {
                                "resource_uri": sub.resource_uri,
                                "resource_id": sub.resource_id,
                                "channel_id": str(sub.channel_id),
                            },
                            "message": "Successfully un-subscribed from actions-watch",
                            "status": "success",
                        }
                    )
        failed = sum(1 for result in results if result["status"] != "success")
        status = 200 if not failed else 400 if failed == len(results) else 207
        return _json({"watch": results}, status)


# -- helpers ----------------------------------------------------------------------


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    return _json(
        {"code": code, "details": details or {}, "message": message, "status": "error"}, status
    )


def _long(value: Any) -> int | None:
    """A channel id: a positive long, as a JSON number or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 1 <= value <= CHANNEL_MAX_ID:
        return value
    return None


def _org_time(moment: datetime) -> str:
    return moment.astimezone(ORG_TIMEZONE).replace(microsecond=0).isoformat()


def _fault_response(fault: _Fault) -> Response:
    codes = {401: "INVALID_TOKEN", 429: "TOO_MANY_REQUESTS"}
    response = _error(fault.status, codes.get(fault.status, "INTERNAL_ERROR"), "injected fault")
    if fault.retry_after is not None:
        response.headers["Retry-After"] = f"{fault.retry_after:g}"
    return response


def _int(value: Any, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed


def _id_key(row: Row) -> tuple[int, str]:
    return len(row["id"]), row["id"]  # numeric order for digit strings


def _sort_key(sort_by: str, times: dict[str, datetime]) -> Callable[[Row], Any]:
    if sort_by == "Modified_Time":
        return lambda row: (times[row["id"]], _id_key(row))
    if sort_by == "Created_Time":
        return lambda row: (str(row.get("Created_Time") or ""), _id_key(row))
    return _id_key


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equal": lambda a, b: a == b,
    "not_equal": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "greater_than": lambda a, b: a is not None and a > b,
    "greater_equal": lambda a, b: a is not None and a >= b,
    "less_than": lambda a, b: a is not None and a < b,
    "less_equal": lambda a, b: a is not None and a <= b,
    "between": lambda a, b: a is not None and b[0] <= a <= b[1],
}


def _criteria(spec: Any) -> Predicate:
    """A predicate from Bulk Read criteria: a ``{field, comparator, value}`` leaf or a
    ``{group_operator, group}`` node. Times compare as instants, the rest as given."""
    if spec is None:
        return lambda row: True
    if "group" in spec:
        parts = [_criteria(item) for item in spec["group"]]
        combine = {"and": all, "or": any}[str(spec.get("group_operator", "and")).lower()]
        return lambda row: combine(part(row) for part in parts)
    name = spec["field"]["api_name"]
    compare = _COMPARATORS[spec["comparator"]]
    is_time = name.endswith("_Time")

    def coerce(value: Any) -> Any:
        if isinstance(value, list):
            return [coerce(item) for item in value]
        if is_time and isinstance(value, str):
            return _parse_time(value)
        return value["id"] if isinstance(value, dict) and "id" in value else value

    expected = coerce(spec["value"])
    return lambda row: compare(coerce(row.get(name)), expected)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # a lookup exports as its id
        return str(value.get("id", ""))
    if isinstance(value, list):
        return ";".join(_csv_value(item) for item in value)
    return str(value)


def _write_zip(path: Path, job_id: str, fields: list[str], rows: list[Row]) -> None:
    """Stream ``{job_id}.csv`` (an ``Id`` column, then the fields) into a ZIP on disk."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        io.TextIOWrapper(
            archive.open(f"{job_id}.csv", "w", force_zip64=True), encoding="utf-8", newline=""
        ) as text,
    ):
        writer = csv.writer(text)
        writer.writerow(["Id", *fields])
        writer.writerows([row["id"], *(_csv_value(row.get(f)) for f in fields)] for row in rows)
