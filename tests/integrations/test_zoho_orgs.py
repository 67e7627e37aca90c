"""Several Zoho orgs on one deployment: each tenant's org, credentials, mapping and
channel are its own, and the tenant of a webhook or a job is decided by the call (its
channel, its ?tenant=), never by a setting. Two fake orgs, synthetic data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from mymedic import entrypoints
from mymedic.bootstrap import Platform, bootstrap
from mymedic.integrations.zoho.connection import (
    CHANNEL_TOKEN,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    WORKFLOW_SECRET,
    ZohoConnection,
    save_connection,
)
from mymedic.integrations.zoho.mapping import EXAMPLE_MAPPING
from mymedic.integrations.zoho.service import channel_id_for
from mymedic.server import create_server
from mymedic.settings import Settings
from mymedic.testing.zoho_fake import FakeZoho
from tests.conftest import TEST_JWT_SECRET
from tests.integrations.conftest import appointment, contact

TENANTS = ("clinic-a", "clinic-b")
TOKENS = {"clinic-a": "channel-token-a-0123456789", "clinic-b": "channel-token-b-9876543210"}
SECRETS = {"clinic-a": "workflow-secret-a-0123456789", "clinic-b": "workflow-secret-b-987654"}


@pytest.fixture
def orgs(tmp_path: Path) -> Iterator[tuple[Platform, dict[str, FakeZoho]]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        jwt_secret=TEST_JWT_SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = bootstrap(settings)
    folder = settings.zoho_dir
    folder.mkdir(parents=True)
    fakes = {tenant: FakeZoho() for tenant in TENANTS}
    for tenant, fake in fakes.items():
        fake.start()
        text = EXAMPLE_MAPPING.read_text(encoding="utf-8")
        text = text.replace('tenant_id = "example-clinic"', f'tenant_id = "{tenant}"')
        (folder / f"{tenant}.toml").write_text(text, encoding="utf-8")
        connection = ZohoConnection(
            tenant_id=tenant,
            data_centre="in" if tenant == "clinic-a" else "eu",
            client_id=fake.client_id,
            accounts_url=fake.base_url,
            api_domain=fake.base_url,
        )
        save_connection(folder, connection)
        platform.secrets.put(tenant, CLIENT_SECRET, fake.client_secret)
        platform.secrets.put(tenant, REFRESH_TOKEN, fake.refresh_token)
        platform.secrets.put(tenant, CHANNEL_TOKEN, TOKENS[tenant])
        platform.secrets.put(tenant, WORKFLOW_SECRET, SECRETS[tenant])
    # The same record ids in both orgs (each org numbers its own records).
    fakes["clinic-a"].add_records("Contacts", [contact(1)])
    fakes["clinic-a"].add_records("Appointments", [appointment(1)])
    fakes["clinic-b"].add_records("Contacts", [contact(1, Full_Name="Synthetic Patient B")])
    fakes["clinic-b"].add_records("Appointments", [appointment(1, Status="Cancelled")])
    entrypoints.use_platform(platform)
    try:
        yield platform, fakes
    finally:
        entrypoints.use_platform(None)
        for fake in fakes.values():
            fake.stop()
        platform.close()


def notification(tenant: str, module: str, ids: list[str], token: str) -> dict[str, Any]:
    return {
        "server_time": 1767000000000,
        "query_params": {},
        "module": module,
        "resource_uri": f"https://www.zohoapis.in/crm/v6/{module}",
        "ids": ids,
        "affected_fields": [],
        "operation": "insert",
        "channel_id": str(channel_id_for(tenant)),
        "token": token,
    }


def statuses(platform: Platform, tenant: str) -> list[str]:
    return [
        stored.envelope.event_type
        for stored in platform.store.read_all(limit=10_000)
        if stored.envelope.tenant_id == tenant and stored.envelope.category == "appointment"
    ]


def test_each_notification_lands_in_its_channel_s_tenant(
    orgs: tuple[Platform, dict[str, FakeZoho]],
) -> None:
    platform, fakes = orgs
    client: FlaskClient = create_server().test_client()
    for tenant in TENANTS:
        for module, ids in (("Contacts", ["41001"]), ("Appointments", ["52001"])):
            body = notification(tenant, module, ids, TOKENS[tenant])
            answer = client.post("/webhooks/zoho", json=body)
            assert answer.status_code == 200, answer.get_json()
            assert answer.get_json()["tenant_id"] == tenant
    assert statuses(platform, "clinic-a") == ["appointment.booked"]
    assert statuses(platform, "clinic-b") == ["appointment.booked", "appointment.cancelled"]
    # Each read its own org with its own credentials.
    for fake in fakes.values():
        assert ("GET", "/crm/v6/Appointments") in fake.requests


def test_a_token_of_another_tenant_or_an_unknown_channel_is_refused_alike(
    orgs: tuple[Platform, dict[str, FakeZoho]],
) -> None:
    platform, fakes = orgs
    client: FlaskClient = create_server().test_client()
    head = platform.store.head_position()
    answers = [
        client.post("/webhooks/zoho", json=body)
        for body in (
            notification("clinic-a", "Appointments", ["52001"], TOKENS["clinic-b"]),
            notification("clinic-zzz", "Appointments", ["52001"], TOKENS["clinic-a"]),
            {**notification("clinic-a", "Appointments", ["52001"], TOKENS["clinic-a"]),
             "channel_id": "42"},
        )
    ]  # fmt: skip
    assert {(a.status_code, a.get_json()["message"]) for a in answers} == {
        (401, "the channel token is missing or wrong")
    }
    workflow = [
        client.post(
            f"/webhooks/zoho?module=Appointments&tenant={tenant}",
            json=appointment(1),
            headers={"X-Zoho-Webhook-Secret": secret},
        )
        for tenant, secret in (
            ("clinic-a", SECRETS["clinic-b"]),
            ("clinic-zzz", SECRETS["clinic-a"]),
            ("", SECRETS["clinic-a"]),  # two orgs: a call must name its tenant
        )
    ]
    assert {(a.status_code, a.get_json()["message"]) for a in workflow} == {
        (401, "X-Zoho-Webhook-Secret is wrong")
    }
    assert platform.store.head_position() == head
    assert all(fake.requests == [] for fake in fakes.values())
    accepted = client.post(
        "/webhooks/zoho?module=Appointments&tenant=clinic-b",
        json=appointment(1),
        headers={"X-Zoho-Webhook-Secret": SECRETS["clinic-b"]},
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["tenant_id"] == "clinic-b"


def test_a_job_runs_for_the_tenant_named_or_every_zoho_tenant(
    orgs: tuple[Platform, dict[str, FakeZoho]],
) -> None:
    platform, _ = orgs
    one = entrypoints.run_job("zoho-delta-sync", {"tenant": "clinic-b"}.get)
    assert one.status == 200, one.body
    assert one.body["tenant_id"] == "clinic-b"
    assert statuses(platform, "clinic-a") == []
    every = entrypoints.run_job("zoho-delta-sync", {}.get)
    assert every.status == 200, every.body
    assert sorted(every.body["tenants"]) == list(TENANTS)
    assert statuses(platform, "clinic-a") == ["appointment.booked"]
    unknown = entrypoints.run_job("zoho-delta-sync", {"tenant": "clinic-zzz"}.get)
    assert (unknown.status, unknown.body["error"]) == (404, "unknown_tenant")
