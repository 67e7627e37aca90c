"""The Notifications API channel kept alive: ``POST /jobs/zoho-renew-channels`` (as
Cloud Scheduler calls it daily) and ``mymedic zoho renew-channels`` against the fake
Zoho, and the webhook accepting the callbacks of that channel (synthetic data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from functions_framework import create_app
from pydantic import SecretStr
from typer.testing import CliRunner

from mymedic import entrypoints
from mymedic.bootstrap import Platform
from mymedic.cli import app
from mymedic.integrations.zoho.client import ZohoClient
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.service import ZohoService, ZohoTenants, channel_id_for
from mymedic.server import create_server
from mymedic.settings import Settings
from mymedic.testing.zoho_fake import FakeZoho
from tests.conftest import TENANT
from tests.integrations.conftest import CHANNEL_TOKEN, appointment, of_type, write_mapping

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
JOB = "/jobs/zoho-renew-channels"
NOTIFY_URL = "https://asia-south1-mymedic-test.cloudfunctions.net/zoho_webhook"
MAPPED = ["Contacts.all", "Appointments.all", "Referrals.all"]  # the test mapping's modules
WEEK_LESS_SLACK = timedelta(days=7) - timedelta(minutes=1)
runner = CliRunner()

Install = Callable[..., ZohoService]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The integration settings, with the webhook function's public URL."""
    return settings.model_copy(update={"zoho_notify_url": NOTIFY_URL})


@pytest.fixture
def install(
    platform: Platform, fake: FakeZoho, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Install]:
    """Make the entry points' Zoho service one whose client runs on the fake's clocks
    (its "now" for channel expiries included), with these settings changes."""
    made: list[ZohoTenants] = []

    def use(wall_clock: Callable[[], datetime] | None = None, **changes: Any) -> ZohoService:
        def client(config: ZohoConfig) -> ZohoClient:
            return ZohoClient(
                config, sleep=fake.advance, clock=fake.clock, wall_clock=wall_clock or fake.now
            )

        tenants = ZohoTenants(
            platform.settings.model_copy(update=changes),
            platform.store,
            clock=platform.clock,
            after_commit=platform.relay.drain,
            client_factory=client,
        )
        made.append(tenants)
        monkeypatch.setattr(entrypoints, "_zoho", (platform, tenants))
        return tenants.service(TENANT)

    yield use
    for tenants in made:
        tenants.close()


@pytest.fixture
def jobs() -> FlaskClient:
    """The jobs Cloud Function, as Cloud Scheduler calls it."""
    return create_app("jobs", MAIN).test_client()


def renew(jobs: FlaskClient) -> tuple[int, dict[str, Any]]:
    answer = jobs.post(JOB)
    return answer.status_code, answer.get_json()


def watch_requests(fake: FakeZoho) -> list[tuple[str, str]]:
    return [request for request in fake.requests if request[1].endswith("/actions/watch")]


# --- the job -------------------------------------------------------------------------------


def test_the_job_subscribes_every_mapped_module_for_a_week(
    install: Install, jobs: FlaskClient, fake: FakeZoho
) -> None:
    install()
    status, body = renew(jobs)
    assert status == 200, body
    channel_id = channel_id_for(TENANT)
    assert body["job"] == "zoho-renew-channels"
    assert (body["tenant_id"], body["channel_id"], body["events"]) == (TENANT, channel_id, MAPPED)
    assert (body["created"], body["previous_expires_at"]) == (True, None)
    assert CHANNEL_TOKEN not in orjson.dumps(body).decode()

    (channel,) = fake.channels()
    assert (channel.channel_id, channel.token, channel.notify_url) == (
        channel_id,
        CHANNEL_TOKEN,
        NOTIFY_URL,
    )
    expected = (fake.now() + WEEK_LESS_SLACK).replace(microsecond=0)
    assert abs(channel.expires_at - expected) <= timedelta(seconds=2)
    assert datetime.fromisoformat(body["expires_at"]) == channel.expires_at


def test_running_it_again_keeps_one_channel_with_a_later_expiry(
    install: Install, jobs: FlaskClient, fake: FakeZoho
) -> None:
    install()
    _, first = renew(jobs)
    fake.advance(timedelta(days=1).total_seconds())  # the next daily run
    status, second = renew(jobs)
    assert status == 200, second
    assert second["channel_id"] == first["channel_id"]
    assert (second["created"], second["previous_expires_at"]) == (False, first["expires_at"])
    later = datetime.fromisoformat(second["expires_at"]) - datetime.fromisoformat(
        first["expires_at"]
    )
    assert later == timedelta(days=1)
    (channel,) = fake.channels()
    assert channel.expires_at == datetime.fromisoformat(second["expires_at"])
    # Each run: list the channel, then enable it again; nothing else.
    assert (
        watch_requests(fake)
        == [("GET", "/crm/v6/actions/watch"), ("POST", "/crm/v6/actions/watch")] * 2
    )


def test_daily_runs_keep_the_channel_alive_past_a_week(
    install: Install, jobs: FlaskClient, fake: FakeZoho
) -> None:
    install()
    for _ in range(10):
        assert renew(jobs)[0] == 200
        fake.advance(timedelta(days=1).total_seconds())
        assert [c.channel_id for c in fake.channels()] == [channel_id_for(TENANT)]
    fake.advance(timedelta(days=7).total_seconds())  # the job stopped: the channel lapses
    assert fake.channels() == []
    status, body = renew(jobs)  # and the next run creates it anew
    assert (status, body["created"]) == (200, True)
    assert len(fake.channels()) == 1


def test_callbacks_with_the_channel_token_are_accepted_and_others_are_401(
    install: Install, jobs: FlaskClient, fake: FakeZoho, platform: Platform
) -> None:
    install()
    assert renew(jobs)[0] == 200
    fake.add_records("Appointments", [appointment(1)])
    webhook = create_server().test_client()

    callback = fake.callback(channel_id_for(TENANT), "Appointments", ["52001"], "create")
    accepted = webhook.post("/webhooks/zoho", json=callback)
    assert accepted.status_code == 200, accepted.get_json()
    assert (accepted.get_json()["shape"], accepted.get_json()["applied"]) == ("notification", 1)
    assert len(of_type(platform, "appointment.booked")) == 1

    head = platform.store.head_position()
    forged = {**callback, "token": "not-the-channel-token"}
    refused = webhook.post("/webhooks/zoho", json=forged)
    assert (refused.status_code, refused.get_json()["error"]) == (401, "unauthorized")
    assert platform.store.head_position() == head


def test_modules_no_longer_mapped_are_reported(
    install: Install, jobs: FlaskClient, fake: FakeZoho
) -> None:
    service = install()
    expiry = (fake.now() + timedelta(days=3)).replace(microsecond=0)
    service.client().watch(
        channel_id_for(TENANT), ["Deals.all", "Contacts.all"], NOTIFY_URL, CHANNEL_TOKEN, expiry
    )
    status, body = renew(jobs)
    assert status == 200, body
    assert (body["created"], body["unmapped_modules"]) == (False, ["Deals"])
    assert datetime.fromisoformat(body["previous_expires_at"]) == expiry


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"zoho_webhook_token": None}, "MYMEDIC_ZOHO_WEBHOOK_TOKEN"),
        ({"zoho_webhook_token": SecretStr("t" * 51)}, "has 51 characters"),
        ({"zoho_notify_url": None}, "MYMEDIC_ZOHO_NOTIFY_URL"),
        ({"zoho_notify_url": "/zoho_webhook"}, "MYMEDIC_ZOHO_NOTIFY_URL"),
        ({"zoho_client_id": None}, "MYMEDIC_ZOHO_CLIENT_ID"),
        ({"zoho_tenant_id": "another-tenant"}, "zoho connect --tenant tenant-a"),
    ],
    ids=["no-token", "long-token", "no-url", "relative-url", "no-client", "not-the-default"],
)
def test_the_job_refuses_clearly_when_not_configured(
    install: Install, jobs: FlaskClient, fake: FakeZoho, changes: dict[str, Any], names: str
) -> None:
    install(**changes)
    status, body = renew(jobs)
    assert (status, body["error"], body["job"]) == (503, "not_configured", "zoho-renew-channels")
    assert names in body["message"]
    assert "t" * 51 not in body["message"]
    assert watch_requests(fake) == []


def test_zoho_unavailable_is_503_and_a_refusal_502(
    install: Install, jobs: FlaskClient, fake: FakeZoho
) -> None:
    install()
    fake.fail_next(503, times=10)  # the listing, then the enable, each give up after 5
    status, body = renew(jobs)
    assert (status, body["error"]) == (503, "unavailable")
    assert fake.channels() == []

    fake.fail_next(400)  # the listing refused: only reported, the renewal goes on
    status, body = renew(jobs)
    assert (status, body["created"]) == (200, None)
    assert len(fake.channels()) == 1

    fake.fail_next(400, times=2)  # the listing and the enable refused
    status, body = renew(jobs)
    assert (status, body["error"]) == (502, "zoho_error")
    assert "INTERNAL_ERROR" in body["message"]


def test_a_clock_ahead_of_zohos_is_caught_before_the_channel_lapses(
    install: Install, jobs: FlaskClient, fake: FakeZoho
) -> None:
    """Two minutes ahead, a week less a minute by our clock is more than a week by
    Zoho's: Zoho quietly makes it one hour. The job says so (502) instead of 200."""
    install(wall_clock=lambda: fake.now() + timedelta(minutes=2))
    status, body = renew(jobs)
    assert (status, body["error"]) == (502, "zoho_error")
    assert "clock" in body["message"]
    (channel,) = fake.channels()
    assert channel.expires_at - fake.now() <= timedelta(hours=1)


def test_the_channel_id_is_stable_per_tenant_and_a_safe_long() -> None:
    ids = {channel_id_for(f"tenant-{n}") for n in range(1000)}
    assert len(ids) == 1000
    assert all(1 <= channel_id < 2**53 for channel_id in ids)
    assert channel_id_for(TENANT) == channel_id_for(TENANT)


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def zoho_env(monkeypatch: pytest.MonkeyPatch, fake: FakeZoho, tmp_path: Path) -> Path:
    mapping = write_mapping(tmp_path / "cli-mappings")
    for name, value in {
        "ZOHO_TENANT_ID": TENANT,
        "ZOHO_CLIENT_ID": fake.client_id,
        "ZOHO_CLIENT_SECRET": fake.client_secret,
        "ZOHO_REFRESH_TOKEN": fake.refresh_token,
        "ZOHO_ACCOUNTS_URL": fake.base_url,
        "ZOHO_API_DOMAIN": fake.base_url,
        "ZOHO_MAPPING_DIR": str(mapping.parent),
        "ZOHO_WEBHOOK_TOKEN": CHANNEL_TOKEN,
    }.items():
        monkeypatch.setenv(f"MYMEDIC_{name}", value)
    return tmp_path / "cli-data"


def test_the_cli_renews_the_channel(zoho_env: Path, fake: FakeZoho) -> None:
    data = ["--data-dir", str(zoho_env)]
    missing = runner.invoke(app, ["zoho", "renew-channels", *data])
    assert missing.exit_code == 2
    assert "MYMEDIC_ZOHO_NOTIFY_URL" in " ".join(missing.output.split())

    first = runner.invoke(app, ["zoho", "renew-channels", "--notify-url", NOTIFY_URL, *data])
    assert first.exit_code == 0, first.output
    flat = " ".join(first.output.split())
    assert f"channel {channel_id_for(TENANT)} created" in flat
    assert "Appointments.all" in flat and NOTIFY_URL in flat
    assert CHANNEL_TOKEN not in first.output

    again = runner.invoke(
        app, ["zoho", "renew-channels", "--notify-url", NOTIFY_URL, "--format", "json", *data]
    )
    assert again.exit_code == 0, again.output
    body = orjson.loads(again.stdout)
    assert (body["created"], body["events"]) == (False, MAPPED)
    assert len(fake.channels()) == 1
