"""Connecting a tenant's Zoho org (``mymedic zoho connect``): the OAuth authorization
code flow, checked at each step, ending with the client secret and refresh token in
the tenant's secret store and ``<tenant>.connection.toml`` beside its mapping.

The steps: the authorization URL on the data centre's accounts server (every scope
MyMedic needs, ``access_type=offline`` and ``prompt=consent`` so that a refresh token
is issued, a random ``state``); the browser's answer (``authorize``: the caller's I/O,
a loopback server in the command line, a test's thread in tests) checked for the state
and for the data centre it names; the code exchanged at that accounts server; the
granted scopes checked. Only then is anything stored: a refused step stores nothing,
and a refresh token already issued for a refused grant is revoked (Zoho keeps at most
20 per user and client, dropping the oldest, which may be another tenant's).

A self client's code (``--code``) skips the browser: it is exchanged directly.
Secrets are :class:`~pydantic.SecretStr` and never reach messages or logs.
"""

from __future__ import annotations

import hmac
import logging
import secrets as random_tokens
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr, TypeAdapter, ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from mymedic.domain.types import Identifier
from mymedic.integrations.http_retry import (
    RetryAfterOrBackoff,
    TransientHttpError,
    retry_after_seconds,
)
from mymedic.integrations.zoho.client import MAX_CHANNEL_TOKEN_CHARS
from mymedic.integrations.zoho.config import ACCOUNTS_URLS, DataCentre
from mymedic.integrations.zoho.connection import (
    CHANNEL_TOKEN,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    WORKFLOW_SECRET,
    ZohoConnection,
    save_connection,
)
from mymedic.ports import SecretStore

log = logging.getLogger(__name__)

# What MyMedic asks each tenant's Zoho org for (read-only, but for the channel):
CRM_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.READ",  # records API: the delta sync and the webhooks' fetches by id
    "ZohoCRM.bulk.READ",  # Bulk Read jobs: the backfill
    "ZohoCRM.notifications.ALL",  # Notifications API: enable, list and disable the channel
    "ZohoCRM.settings.modules.READ",  # metadata: the org's modules (`mapping init`)
    "ZohoCRM.settings.fields.READ",  # metadata: fields, picklists, lookups, formulas
    "ZohoCRM.users.READ",  # Users API: CRM users, read as clinicians
)
# With --books: Zoho Books invoices and customer payments, on the same OAuth client.
BOOKS_SCOPES: tuple[str, ...] = ("ZohoBooks.invoices.READ", "ZohoBooks.customerpayments.READ")
# The ``location`` Zoho's redirect names for each data centre.
LOCATIONS: dict[DataCentre, str] = {
    "com": "us",
    "eu": "eu",
    "in": "in",
    "com.au": "au",
    "jp": "jp",
    "ca": "ca",
    "com.cn": "cn",
}
DATA_CENTRES: dict[str, DataCentre] = {location: dc for dc, location in LOCATIONS.items()}
CODE_LIFETIME_SECONDS = 120  # Zoho: an authorization code is valid for two minutes
TOKEN_ATTEMPTS = 3
TOKEN_BACKOFF_SECONDS = 5.0
RANDOM_TOKEN_BYTES = 32  # 43 URL-safe characters: within the channel token's 50
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
_TOKEN_ERRORS = {
    "invalid_code": "the authorization code is invalid, used already or expired (a code "
    "lives {lifetime} seconds; a code from another data centre is invalid here too)",
    "invalid_client": "Zoho does not know this client id with this client secret (a "
    "Multi-DC client has a secret per data centre: use the one of this data centre)",
    "invalid_redirect_uri": "the redirect URI is not the one the code was issued for, "
    "or not among the client's Authorized Redirect URIs",
    "invalid_client_secret": "the client secret is wrong",
}


class OnboardingError(Exception):
    """A step of the connection failed; the message says what to do, and nothing was
    stored."""


@dataclass(frozen=True)
class ConnectRequest:
    tenant_id: str
    data_centre: DataCentre
    client_id: str
    client_secret: SecretStr
    scopes: tuple[str, ...] = CRM_SCOPES
    # An accounts server other than the data centre's (a proxy, a test's fake).
    accounts_url: str | None = None

    def __post_init__(self) -> None:
        try:
            _IDENTIFIER.validate_python(self.tenant_id)
        except ValidationError:
            raise OnboardingError(f"{self.tenant_id!r} is not a tenant id") from None
        if self.data_centre not in ACCOUNTS_URLS:
            raise OnboardingError(
                f"{self.data_centre!r} is not a Zoho data centre ({', '.join(ACCOUNTS_URLS)})"
            )
        if not 1 <= len(self.client_id) <= 200 or not self.client_id.isprintable():
            raise OnboardingError("the client id is empty, too long or not printable")
        if not self.client_secret.get_secret_value().strip():
            raise OnboardingError("the client secret is empty")
        if self.accounts_url is not None and not self.accounts_url.startswith(
            ("https://", "http://")
        ):
            raise OnboardingError("the accounts URL must be an http(s) URL")

    @property
    def accounts_server(self) -> str:
        """The accounts server to authorize at and exchange codes with."""
        return (self.accounts_url or ACCOUNTS_URLS[self.data_centre]).rstrip("/")

    def command(self, data_centre: str | None = None) -> str:
        """The command that connects this tenant (in ``data_centre``, if given)."""
        return (
            f"mymedic zoho connect --tenant {self.tenant_id} "
            f"--data-centre {data_centre or self.data_centre} --client-id {self.client_id}"
        )


@dataclass(frozen=True)
class Grant:
    """What the code was exchanged for (the access token is not kept)."""

    refresh_token: SecretStr
    api_domain: str | None
    scopes: tuple[str, ...] | None  # None: Zoho's answer did not list them


@dataclass(frozen=True)
class Connected:
    connection: ZohoConnection
    path: Path  # the connection file
    stored: tuple[str, ...]  # the names of the secrets written (never their values)
    scopes_reported: bool  # False: Zoho did not list the granted scopes


def new_state() -> str:
    return random_tokens.token_urlsafe(24)


def authorization_url(request: ConnectRequest, redirect_uri: str, state: str) -> str:
    params = {
        "scope": ",".join(request.scopes),
        "client_id": request.client_id,
        "response_type": "code",
        "access_type": "offline",
        "redirect_uri": redirect_uri,
        "prompt": "consent",
        "state": state,
    }
    return f"{request.accounts_server}/oauth/v2/auth?{urlencode(params)}"


def code_from_redirect(request: ConnectRequest, params: Mapping[str, str], state: str) -> str:
    """The authorization code of Zoho's answer, once the answer is known to be the one
    to this request and of the chosen data centre."""
    error = params.get("error")
    if error:
        raise OnboardingError(
            f"Zoho did not grant access ({_shown(error)}): nothing was stored; run "
            f"`{request.command()}` again and accept"
        )
    if not hmac.compare_digest(params.get("state", "").encode(), state.encode()):
        raise OnboardingError(
            "the answer's state does not match this request's: it is not the answer to "
            "this connection (an older tab, or a link from elsewhere); nothing was stored"
        )
    _check_data_centre(request, params.get("location"), params.get("accounts-server"))
    code = params.get("code")
    if not code:
        raise OnboardingError("Zoho's answer holds no authorization code; nothing was stored")
    return code


def _check_data_centre(request: ConnectRequest, location: str | None, server: str | None) -> None:
    """The code is redeemable only at the accounts server of the user's data centre, and
    the client secret goes nowhere but the chosen one's."""
    asked = f"{request.data_centre} ({request.accounts_server})"
    if location is not None and location != LOCATIONS[request.data_centre]:
        other = DATA_CENTRES.get(location)
        where = f"{other or _shown(location)} ({_shown(server or '?')})"
        instead = (
            f"run `{request.command(other)}` instead"
            if other is not None
            else "MyMedic does not support that data centre"
        )
        raise OnboardingError(
            f"the Zoho account that consented is in data centre {where}, not {asked} as "
            f"asked: {instead}. Nothing was stored."
        )
    if server is not None and server.rstrip("/") != request.accounts_server:
        raise OnboardingError(
            f"Zoho's answer names the accounts server {_shown(server)}, not {asked}: the "
            "code is not exchanged there and nothing was stored"
        )


def exchange_code(
    request: ConnectRequest,
    code: str,
    *,
    redirect_uri: str | None,
    http: httpx.Client,
    sleep: Callable[[float], None] = time.sleep,
) -> Grant:
    """``grant_type=authorization_code`` at the accounts server. A code is single-use,
    so only failures that never reached Zoho (connecting) or that Zoho asks to retry
    (429, 5xx) are tried again."""
    form = {
        "grant_type": "authorization_code",
        "client_id": request.client_id,
        "client_secret": request.client_secret.get_secret_value(),
        "code": code,
    }
    if redirect_uri is not None:
        form["redirect_uri"] = redirect_uri
    url = f"{request.accounts_server}/oauth/v2/token"

    def attempt() -> dict[str, Any]:
        response = http.post(url, data=form)
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientHttpError(
                f"token endpoint HTTP {response.status_code}",
                status=response.status_code,
                retry_after=retry_after_seconds(response),
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise OnboardingError(f"the token endpoint answered HTTP {response.status_code}")
        return body

    retrying = Retrying(
        stop=stop_after_attempt(TOKEN_ATTEMPTS),
        wait=RetryAfterOrBackoff(TOKEN_BACKOFF_SECONDS, ceiling=TOKEN_BACKOFF_SECONDS * 6),
        retry=retry_if_exception_type(
            (TransientHttpError, httpx.ConnectError, httpx.ConnectTimeout)
        ),
        sleep=sleep,
        reraise=True,
    )
    try:
        body = retrying(attempt)
    except TransientHttpError as exc:
        raise OnboardingError(f"Zoho's accounts server keeps failing ({exc}): try again") from None
    except httpx.HTTPError as exc:
        raise OnboardingError(
            f"cannot reach {request.accounts_server} ({type(exc).__name__}): nothing was stored"
        ) from None
    return _grant(request, body)


def _grant(request: ConnectRequest, body: dict[str, Any]) -> Grant:
    error = body.get("error")
    if error:
        reason = _TOKEN_ERRORS.get(str(error), "Zoho refused the exchange").format(
            lifetime=CODE_LIFETIME_SECONDS
        )
        raise OnboardingError(
            f"{reason} ({_shown(str(error))}); nothing was stored: run `{request.command()}` again"
        )
    refresh = body.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise OnboardingError(
            "Zoho issued no refresh token (it issues one only for access_type=offline, and "
            "again only with prompt=consent); nothing was stored: run "
            f"`{request.command()}` again"
        )
    domain = body.get("api_domain")
    if domain is not None and (
        not isinstance(domain, str) or not domain.startswith(("https://", "http://"))
    ):
        domain = None
    scope = body.get("scope")
    scopes = (
        tuple(part for part in str(scope).replace(",", " ").split() if part)
        if scope is not None
        else None
    )
    return Grant(SecretStr(refresh), domain.rstrip("/") if domain else None, scopes)


def covers(granted: str, needed: str) -> bool:
    """Whether scope ``granted`` allows what ``needed`` does: the same scope, or one
    above it (``ZohoCRM.settings.ALL`` covers ``ZohoCRM.settings.fields.READ``) with the
    same operation or ALL. Zoho's scope names are compared without regard to case."""
    have, want = granted.lower().split("."), needed.lower().split(".")
    if len(have) < 3 or len(want) < 3 or have[0] != want[0]:
        return False
    path, operation = have[1:-1], have[-1]
    return want[1 : 1 + len(path)] == path and operation in (want[-1], "all")


def missing_scopes(needed: Sequence[str], granted: Sequence[str]) -> list[str]:
    return [scope for scope in needed if not any(covers(have, scope) for have in granted)]


def revoke(request: ConnectRequest, refresh_token: SecretStr, http: httpx.Client) -> None:
    """Best effort: a refresh token of a refused grant should not linger. The token goes
    in the body, not the query string, which HTTP clients log."""
    try:
        http.post(
            f"{request.accounts_server}/oauth/v2/token/revoke",
            data={"token": refresh_token.get_secret_value()},
        )
    except httpx.HTTPError as exc:
        log.warning("could not revoke the refused grant's refresh token (%s)", type(exc).__name__)


def store_connection(
    request: ConnectRequest,
    grant: Grant,
    *,
    secrets: SecretStore,
    folder: Path,
    now: Callable[[], datetime],
) -> Connected:
    """The secrets in the tenant's store (webhook tokens only if it has none: a channel
    already enabled keeps working), then the connection file."""
    scopes = grant.scopes if grant.scopes is not None else request.scopes
    connection = ZohoConnection(
        tenant_id=request.tenant_id,
        data_centre=request.data_centre,
        client_id=request.client_id,
        api_domain=grant.api_domain,
        accounts_url=request.accounts_url.rstrip("/") if request.accounts_url else None,
        scopes=list(scopes),
        connected_at=now(),
    )
    tenant = request.tenant_id
    secrets.put(tenant, CLIENT_SECRET, request.client_secret.get_secret_value())
    secrets.put(tenant, REFRESH_TOKEN, grant.refresh_token.get_secret_value())
    stored = [CLIENT_SECRET, REFRESH_TOKEN]
    for name in (CHANNEL_TOKEN, WORKFLOW_SECRET):
        if secrets.get(tenant, name) is None:
            value = random_tokens.token_urlsafe(RANDOM_TOKEN_BYTES)
            assert len(value) <= MAX_CHANNEL_TOKEN_CHARS  # noqa: S101 - Zoho's limit
            secrets.put(tenant, name, value)
            stored.append(name)
    path = save_connection(folder, connection)
    return Connected(connection, path, tuple(stored), grant.scopes is not None)


def connect(
    request: ConnectRequest,
    *,
    redirect_uri: str,
    authorize: Callable[[str], Mapping[str, str]],
    secrets: SecretStore,
    folder: Path,
    http: httpx.Client | None = None,
    now: Callable[[], datetime] | None = None,
) -> Connected:
    """The browser flow: ``authorize`` gets the authorization URL and returns the query
    parameters Zoho redirected the browser to ``redirect_uri`` with."""
    state = new_state()
    params = authorize(authorization_url(request, redirect_uri, state))
    code = code_from_redirect(request, params, state)
    return _finish(request, code, redirect_uri, secrets=secrets, folder=folder, http=http, now=now)


def connect_with_code(
    request: ConnectRequest,
    code: str,
    *,
    secrets: SecretStore,
    folder: Path,
    redirect_uri: str | None = None,
    http: httpx.Client | None = None,
    now: Callable[[], datetime] | None = None,
) -> Connected:
    """A code pasted from a self client (Zoho API console): no browser, no state."""
    if not code.strip():
        raise OnboardingError("the code is empty")
    return _finish(
        request, code.strip(), redirect_uri, secrets=secrets, folder=folder, http=http, now=now
    )


def _finish(
    request: ConnectRequest,
    code: str,
    redirect_uri: str | None,
    *,
    secrets: SecretStore,
    folder: Path,
    http: httpx.Client | None,
    now: Callable[[], datetime] | None,
) -> Connected:
    client = http or httpx.Client(timeout=30)
    try:
        grant = exchange_code(request, code, redirect_uri=redirect_uri, http=client)
        if grant.scopes is not None:
            missing = missing_scopes(request.scopes, grant.scopes)
            if missing:
                revoke(request, grant.refresh_token, client)
                raise OnboardingError(
                    f"Zoho granted only part of what MyMedic needs; missing: "
                    f"{', '.join(missing)}. Nothing was stored. Run `{request.command()}` "
                    "again and grant every scope asked for (a self client's code: generate "
                    f"it with the scopes {','.join(request.scopes)})"
                )
        else:
            log.warning("Zoho did not list the granted scopes: assuming those asked for")
    finally:
        if http is None:
            client.close()
    return store_connection(
        request, grant, secrets=secrets, folder=folder, now=now or (lambda: datetime.now(UTC))
    )


def _shown(text: str) -> str:
    """A value from a redirect or an error, safe to show: short and printable."""
    cleaned = "".join(char if char.isprintable() else "?" for char in text)
    return cleaned[:100]
