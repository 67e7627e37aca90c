"""``mymedic serve`` answers GET /dashboards/<dashboard>?tenant=T: the dashboard's pages
drawn from the warehouse for the caller's tenant, to an analyst or admin of that tenant
only, refusing alike whether or not the tenant or the dashboard exists. A seeded
synthetic chain of two tenants goes through the real command handler first."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from mymedic import entrypoints
from mymedic.bootstrap import Platform
from mymedic.dashboards.model import load_dashboards
from mymedic.server import create_server
from tests.conftest import bearer, push_demo

MINE, OTHER = "sunrise-imaging", "harbour-clinics"


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    push_demo(platform, seed=2, appointments=60)
    entrypoints.use_platform(platform)  # push_demo forgets it when done
    return create_server().test_client()


def _get(client: FlaskClient, path: str, **token: Any) -> Any:
    headers = bearer(**token) if token else {}
    return client.get(path, headers=headers)


def _paid(platform: Platform, tenant: str) -> str:
    rows = platform.warehouse.query("rpt_revenue_breakdown", {"tenant_id": tenant})
    assert {row["currency"] for row in rows} == {"INR"}
    return f"INR {Decimal(sum(row['paid_minor'] for row in rows)).scaleb(-2):,.2f}"


def test_an_analyst_sees_the_tenants_own_figures(client: FlaskClient, platform: Platform) -> None:
    for role in ("analyst", "admin"):
        answer = _get(client, f"/dashboards/revenue?tenant={MINE}", tenant_id=MINE, role=role)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        assert answer.mimetype == "text/html"
        assert answer.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    html = answer.get_data(as_text=True)
    revenue = next(d for d in load_dashboards() if d.name == "revenue")
    for page in revenue.pages:
        assert f'<section class="page" id="{page.id}">' in html
        assert f'href="#{page.id}"' in html
        for chart in page.charts:
            assert f'data-chart-id="{chart.id}"' in html
    card = re.search(r'data-chart-id="paid">.*?<div class="scorecard">([^<]+)<', html)
    assert card and card[1] == _paid(platform, MINE)
    assert _paid(platform, OTHER) != _paid(platform, MINE)
    assert OTHER not in html and _paid(platform, OTHER) not in html
    assert f'href="operations?tenant={MINE}"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the page fetches nothing"


def test_another_tenants_token_is_refused_alike_whether_or_not_it_exists(
    client: FlaskClient,
) -> None:
    answers = [
        _get(client, path, tenant_id=OTHER, role="analyst")
        for path in (
            f"/dashboards/revenue?tenant={MINE}",
            f"/dashboards/no-such-dashboard?tenant={MINE}",
            "/dashboards/revenue?tenant=no-such-tenant",
            "/dashboards/no-such-dashboard?tenant=no-such-tenant",
        )
    ]
    assert {(a.status_code, a.get_data()) for a in answers} == {
        (403, b'{"error":"wrong_tenant","message":"the token is not for this tenant"}')
    }
    anonymous = [
        _get(client, f"/dashboards/{name}?tenant={tenant}")
        for name in ("revenue", "no-such-dashboard")
        for tenant in (MINE, "no-such-tenant")
    ]
    assert {(a.status_code, a.get_json()["error"]) for a in anonymous} == {(401, "missing_token")}
    assert len({a.get_data() for a in anonymous}) == 1


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ({"role": "staff", "branches": frozenset({"pune-central"})}, "role_not_allowed"),
        ({"role": "marketing", "branches": frozenset({"pune-central"})}, "role_not_allowed"),
        ({"role": "patient", "branches": frozenset({"pune-central"})}, "role_not_allowed"),
        ({"role": "analyst", "branches": frozenset({"pune-central"})}, "branch_not_allowed"),
    ],
)
def test_only_analysts_and_admins_of_every_branch_see_a_dashboard(
    client: FlaskClient, token: dict[str, Any], error: str
) -> None:
    for name in ("revenue", "no-such-dashboard"):
        answer = _get(client, f"/dashboards/{name}?tenant={MINE}", tenant_id=MINE, **token)
        assert (answer.status_code, answer.get_json()["error"]) == (403, error)


def test_the_tenants_own_token_learns_what_is_wrong_with_the_request(
    client: FlaskClient,
) -> None:
    mine = {"tenant_id": MINE, "role": "analyst"}
    unknown = _get(client, f"/dashboards/no-such-dashboard?tenant={MINE}", **mine)
    assert (unknown.status_code, unknown.get_json()["error"]) == (404, "unknown_dashboard")
    assert "revenue" in unknown.get_json()["known"]
    missing = _get(client, "/dashboards/revenue", **mine)
    assert (missing.status_code, missing.get_json()["field"]) == (422, "tenant")
    twice = _get(client, f"/dashboards/revenue?tenant={MINE}&tenant={MINE}", **mine)
    assert (twice.status_code, twice.get_json()["error"]) == (400, "invalid_query")
    posted = client.post(f"/dashboards/revenue?tenant={MINE}", headers=bearer(MINE, "analyst"))
    assert posted.status_code == 405
