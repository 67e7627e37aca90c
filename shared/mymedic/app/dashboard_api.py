"""``GET /dashboards/<dashboard>?tenant=T``: one dashboard of looker/dashboards rendered
from the warehouse for the caller's tenant, every page a section (``#<page>``), as the
local preview draws it (``dashboards.preview.render_dashboard``). Alert e-mails link
here when no Looker Studio report is configured.

Authenticated as the read API is (``Authorization: Bearer <JWT>``, refusals in its JSON
shape): the token must be the tenant's, of an analyst or an admin, for every branch (a
dashboard is tenant-wide). The tenant and role are checked before the dashboard is
looked up, so a refusal reads the same whether or not the tenant or the dashboard
exists. Answers: 200 HTML; 401, 403 and 503 as the read API; 400 ``invalid_query`` for
a repeated parameter, 422 ``validation_failed`` without ``tenant``; 404
``unknown_dashboard``; 405 for a method other than GET.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from mymedic.app.auth import AuthError, AuthUnavailable, Principal, Role, authorize_read
from mymedic.app.http import HttpResponse, error_response, single_segment
from mymedic.dashboards.html import SCRIPT
from mymedic.dashboards.model import load_dashboards
from mymedic.dashboards.preview import render_dashboard
from mymedic.ports import TransientBackendError, Warehouse

DASHBOARD_ROLES = frozenset({Role.ADMIN, Role.ANALYST})
# The page may run its own inline script and styles, and fetch nothing.
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
HTML_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{_SCRIPT_HASH}'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
_QUERY = ("tenant", "branch")  # branch: read by the page's own script


@dataclass(frozen=True)
class HtmlResponse:
    html: str
    headers: dict[str, str] = field(default_factory=lambda: dict(HTML_HEADERS))


def handle_dashboard_request(
    warehouse: Warehouse,
    authenticate: Callable[[str | None], Principal],
    *,
    method: str,
    path: str,
    args: Mapping[str, Sequence[str]],
    header: Callable[[str], str | None],
) -> HttpResponse | HtmlResponse:
    if method != "GET":
        return error_response(405, "method_not_allowed", "dashboards are read with GET")
    try:
        principal = authenticate(header("Authorization"))
    except AuthError as exc:
        challenge = {"WWW-Authenticate": exc.www_authenticate} if exc.www_authenticate else {}
        return HttpResponse(exc.status, exc.body(), challenge)
    except AuthUnavailable as exc:
        return error_response(503, "auth_unavailable", str(exc))
    repeated = sorted(key for key, values in args.items() if len(values) != 1)
    if repeated:
        return error_response(
            400, "invalid_query", f"{repeated[0]} is given more than once", field=repeated[0]
        )
    problem = _query_problem(args)
    if problem is not None:
        return error_response(422, "validation_failed", problem[1], field=problem[0])
    tenant = args["tenant"][0]
    try:
        _authorize(principal, tenant)
    except AuthError as exc:
        return HttpResponse(exc.status, exc.body())
    name = single_segment(path, "dashboards")
    dashboard = next((d for d in load_dashboards() if d.name == name), None)
    if dashboard is None:
        known = [d.name for d in load_dashboards()]
        return error_response(404, "unknown_dashboard", f"no dashboard {name!r}", known=known)
    try:
        return HtmlResponse(render_dashboard(warehouse, dashboard, tenant))
    except TransientBackendError as exc:
        return error_response(503, "unavailable", f"try again: {exc}")


def _query_problem(args: Mapping[str, Sequence[str]]) -> tuple[str, str] | None:
    unknown = sorted(set(args) - set(_QUERY))
    if unknown:
        return unknown[0], f"{unknown[0]}: not a parameter of a dashboard (tenant, branch)"
    if not args.get("tenant", [""])[0]:
        return "tenant", "tenant: name the tenant (?tenant=...)"
    return None


def _authorize(principal: Principal, tenant: str) -> None:
    """The tenant first, then the role, then every branch (as a tenant-wide read)."""
    if principal.tenant_id != tenant:
        authorize_read(principal, tenant_id=tenant)  # refuses: another tenant
    if principal.role not in DASHBOARD_ROLES:
        raise AuthError(403, "role_not_allowed", f"a {principal.role} may not read dashboards")
    authorize_read(principal, tenant_id=tenant)
