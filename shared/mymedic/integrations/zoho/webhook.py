"""Zoho's webhooks, independent of the web framework: both shapes Zoho sends.

(a) Notifications API channel callbacks: a JSON object ``{server_time, query_params,
    module, resource_uri, ids, affected_fields, operation, channel_id, token}``. The
    ``token`` set when the channel was created is echoed back in every callback and is
    the only authenticity check Zoho offers (no signature): the channel id names the
    tenant (each tenant's channel id is its own) and the token is compared, in constant
    time, with that tenant's channel token. Only ids arrive, so the records are fetched
    (``records_by_ids``) with that tenant's credentials and ingested.

(b) Workflow-rule webhooks: the record itself. Configure the webhook in Zoho with
    - URL ``.../webhooks/zoho?module=<module API name>&tenant=<tenant id>`` (the
      tenant may be left out when the deployment serves one Zoho org; the module may
      be a ``module`` key in the body), method POST, body type raw JSON;
    - a custom header ``X-Zoho-Webhook-Secret: <the shared secret>``;
    - a body holding the record's fields by API name, with at least ``id`` and
      ``Modified_Time`` (ISO 8601 with an offset): either the fields at the top level,
      or under ``data`` (an object, or a list of objects for several records).
    The secret header is compared, in constant time, with the tenant's secret.

A wrong or missing token or secret answers 401 and writes nothing; an unknown module
or a malformed body answers 400 or 422 naming the problem; an accepted call answers
200 with what the ingestion made of it. Notifications repeated by Zoho (the same
channel, operation, ids and server time) need no bookkeeping of their own: the record
versions they bring are recognised as already ingested.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson

from mymedic.app.http import HttpResponse, error_response
from mymedic.integrations.zoho.client import ZohoAuthError, ZohoError, ZohoUnavailable
from mymedic.integrations.zoho.ingest import IngestStats, Unreadable, ZohoIngestor
from mymedic.integrations.zoho.mapping import mapping_fields
from mymedic.integrations.zoho.records import Quarantined, ZohoRecord
from mymedic.ports import ConcurrencyConflict, EventIdReused, TransientBackendError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Zoho-Webhook-Secret"  # noqa: S105 - a header name, not a secret
MAX_BODY_BYTES = 1024 * 1024
MAX_RECORDS = 100  # per call, either shape (a notification carries at most 100 ids)
_MODULE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_RECORD_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")
_NOTIFICATION_KEYS = frozenset({"channel_id", "ids", "module", "token"})


class ZohoNotConfigured(RuntimeError):
    """A setting the call needs is missing (HTTP 503)."""


class RecordFetcher(Protocol):
    def records_by_ids(
        self, module: str, ids: Sequence[str], fields: Sequence[str]
    ) -> list[ZohoRecord]: ...


class ZohoOrgs(Protocol):
    """The Zoho tenants of the deployment, as the webhook needs them: which tenant a
    channel or a URL names, its tokens, and (once authenticated) its ingestion."""

    def tenant_of_channel(self, channel_id: str) -> str | None: ...

    def default_tenant(self) -> str | None: ...

    def is_tenant(self, tenant_id: str) -> bool: ...

    def channel_token(self, tenant_id: str) -> str | None: ...

    def workflow_secret(self, tenant_id: str) -> str | None: ...

    def ingestor(self, tenant_id: str) -> ZohoIngestor: ...

    def fetcher(self, tenant_id: str) -> RecordFetcher: ...


class _Rejected(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.body.get("message"))
        self.response = response


def _reject(status: int, error: str, message: str, field: str | None = None) -> _Rejected:
    return _Rejected(error_response(status, error, message, field=field))


def _unauthorized(message: str) -> _Rejected:
    return _reject(401, "unauthorized", message)


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; nothing configured or nothing given never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def handle_zoho_webhook(
    *,
    method: str,
    body: bytes,
    query: Callable[[str], str | None],
    header: Callable[[str], str | None],
    orgs: ZohoOrgs,
) -> HttpResponse:
    """The tenant is decided by the call itself, never by a setting: a notification's
    channel id (each tenant's channel has its own), a workflow webhook's ``?tenant=``
    (needed when the deployment serves several Zoho orgs). An unknown channel or tenant
    is refused exactly as a wrong token is, so that a caller learns nothing of which
    tenants exist. The ingestion and the Zoho client are built only once the caller is
    authenticated."""
    if method != "POST":
        return error_response(405, "method_not_allowed", "Zoho webhooks are sent with POST")
    if len(body) > MAX_BODY_BYTES:
        return error_response(413, "body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    try:
        secret = header(SECRET_HEADER)
        if secret is not None:
            shape = "workflow"
            tenant = query("tenant") or orgs.default_tenant()
            known = tenant is not None and orgs.is_tenant(tenant)
            expected = orgs.workflow_secret(tenant) if known and tenant else None
            if not same_secret(secret, expected) or tenant is None:
                raise _unauthorized(f"{SECRET_HEADER} is wrong")
            stats, received = _workflow(body, query, orgs.ingestor(tenant))
        else:
            shape = "notification"
            tenant, payload = _notification_tenant(body, orgs)
            stats, received = _notification(payload, orgs.ingestor(tenant), orgs.fetcher(tenant))
    except _Rejected as rejected:
        return rejected.response
    except ZohoNotConfigured as exc:
        return error_response(503, "not_configured", str(exc))
    except ZohoUnavailable as exc:
        return error_response(503, "zoho_unavailable", f"try again: {exc}")
    except ZohoAuthError:
        log.error("Zoho refused our credentials while answering a notification")
        return error_response(502, "zoho_auth_failed", "Zoho refused the platform's credentials")
    except ZohoError as exc:
        return error_response(502, "zoho_error", str(exc))
    except (ConcurrencyConflict, EventIdReused, TransientBackendError) as exc:
        return error_response(503, "unavailable", f"try again: {type(exc).__name__}")
    return HttpResponse(
        200, {"shape": shape, "tenant_id": tenant, "received": received, **stats.to_dict()}
    )


def _notification_tenant(body: bytes, orgs: ZohoOrgs) -> tuple[str, dict[str, Any]]:
    """The authenticated tenant of a channel callback, and the callback."""
    try:
        payload = _json_object(body)
    except _Rejected:
        raise _unauthorized(f"neither {SECRET_HEADER} nor a channel token") from None
    token = payload.get("token")
    channel = payload.get("channel_id")
    tenant = orgs.tenant_of_channel(str(channel)) if isinstance(channel, str | int) else None
    expected = orgs.channel_token(tenant) if tenant is not None else None
    if not isinstance(token, str) or not same_secret(token, expected) or tenant is None:
        raise _unauthorized("the channel token is missing or wrong")
    return tenant, payload


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _reject(400, "invalid_json", f"the body is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise _reject(400, "invalid_json", "the body must be a JSON object")
    return raw


def _module_name(module: Any, where: str) -> str:
    """A module API name (mapped or not: the records of a module the mapping does not
    know are quarantined, so that they are listed and taken up once it is mapped)."""
    if not isinstance(module, str) or not _MODULE.match(module):
        raise _reject(400, "invalid_module", "module must be a Zoho module API name", where)
    return module


def _notification(
    payload: dict[str, Any], ingestor: ZohoIngestor, fetcher: RecordFetcher
) -> tuple[IngestStats, int]:
    missing = sorted(_NOTIFICATION_KEYS - set(payload))
    if missing:
        raise _reject(400, "invalid_notification", f"missing {', '.join(missing)}", missing[0])
    module = _module_name(payload["module"], "module")
    ids = payload["ids"]
    if not isinstance(ids, list) or len(ids) > MAX_RECORDS:
        raise _reject(422, "invalid_ids", f"ids must be a list of at most {MAX_RECORDS}", "ids")
    wanted = [str(value) for value in ids]
    if any(not _RECORD_ID.match(value) for value in wanted):
        raise _reject(422, "invalid_ids", "ids must be Zoho record ids", "ids")
    if not wanted:
        return IngestStats(), 0
    if module not in ingestor.mapping.modules:
        # Not mapped: no fields to ask for. Each record is quarantined by its id alone.
        unknown = [_unmapped(ingestor, module, record_id) for record_id in wanted]
        return ingestor.ingest(unknown, "webhook"), len(unknown)
    fields = mapping_fields(ingestor.mapping, module)
    records = fetcher.records_by_ids(module, wanted, fields)
    return ingestor.ingest(records, "webhook"), len(records)


def _unmapped(ingestor: ZohoIngestor, module: str, record_id: str) -> Unreadable:
    reason = f"unknown module (not in mapping version {ingestor.mapping.version})"
    return Unreadable(Quarantined(module, record_id, None, reason), {"id": record_id})


def _workflow(
    body: bytes, query: Callable[[str], str | None], ingestor: ZohoIngestor
) -> tuple[IngestStats, int]:
    payload = _json_object(body)
    named = query("module") or None
    module = _module_name(
        named if named is not None else payload.get("module"),
        "module" if named is None else "?module",
    )
    data = payload.get("data", payload)
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_RECORDS:
        raise _reject(422, "invalid_body", f"1 to {MAX_RECORDS} records per call", "data")
    records = [_workflow_record(module, item, index) for index, item in enumerate(items)]
    return ingestor.ingest(records, "webhook"), len(records)


def _workflow_record(module: str, item: Any, index: int) -> ZohoRecord:
    where = f"data[{index}]"
    if not isinstance(item, dict):
        raise _reject(422, "invalid_record", "a record must be a JSON object", where)
    fields = {key: value for key, value in item.items() if key not in ("module", "tenant")}
    record_id = str(fields.get("id") or fields.get("Id") or "")
    if not _RECORD_ID.match(record_id):
        raise _reject(422, "invalid_record", "the record has no valid id", f"{where}.id")
    modified = fields.get("Modified_Time")
    try:
        when = datetime.fromisoformat(modified) if isinstance(modified, str) else None
    except ValueError:
        when = None
    if when is None or when.utcoffset() is None:
        raise _reject(
            422,
            "invalid_record",
            "Modified_Time must be an ISO 8601 date-time with an offset",
            f"{where}.Modified_Time",
        )
    return ZohoRecord(module=module, record_id=record_id, modified_time=when, fields=fields)
