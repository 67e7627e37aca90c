"""The README's "Connect your Zoho CRM", command by command: from an empty data folder to
reports and the dashboard preview, against a Zoho org served by the fake (the demo
chain's sunrise-imaging, a few months of it). Each step is the command the README shows,
run through the CLI; only the editing of the starter mapping is done for the admin (the
demo's finished mapping is put in its place)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mymedic.cli import app
from mymedic.cli_zoho import CLIENT_SECRET_ENV
from mymedic.demo.gateway import attach_gateway
from mymedic.demo.generator import generate
from mymedic.demo.zoho_org import mapping_text, metadata, zoho_orgs
from mymedic.integrations.zoho.onboarding import CRM_SCOPES
from mymedic.testing.zoho_fake import FakeZoho
from tests.conftest import TEST_JWT_SECRET

pytestmark = pytest.mark.e2e

TENANT = "sunrise-imaging"
runner = CliRunner()


@pytest.fixture
def org() -> Iterator[FakeZoho]:
    commands = generate(seed=5, appointments=120, end=date(2026, 10, 31), months=3)
    attach_gateway(commands, seed=5, now=datetime(2026, 11, 7, tzinfo=UTC))  # references
    sunrise = zoho_orgs(commands)[TENANT]
    with FakeZoho(polls_until_complete=1, downloads_per_minute=1000) as fake:
        for module in ("Branches", "Users", "Rooms", "Products", "Referrers", "Leave"):
            fake.add_records(module, sunrise.records(module))
        for module in ("Contacts", "Referrals", "Appointments", "Invoices"):
            fake.add_records(module, sunrise.records(module))
        for module in ("Payments", "Refunds", "Surveys"):
            fake.add_records(module, sunrise.records(module))
        modules, fields = metadata(sunrise)
        fake.set_metadata(modules, fields)
        yield fake


def test_connect_your_zoho_crm(
    org: FakeZoho, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("MYMEDIC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MYMEDIC_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MYMEDIC_JWT_SECRET", TEST_JWT_SECRET)

    def run(*args: str, env: dict[str, str] | None = None) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, (args, result.output)
        return " ".join(result.output.split())

    # 2. Connect the org (here with a self client's code; the browser flow is the same
    # command without --code).
    code = org.self_client_code(CRM_SCOPES)
    connected = run(
        "zoho", "connect", "--tenant", TENANT, "--data-centre", "in",
        "--client-id", org.client_id, "--code", code, "--accounts-url", org.base_url,
        env={CLIENT_SECRET_ENV: org.client_secret},
    )  # fmt: skip
    assert f"Connected tenant {TENANT}" in connected
    # 3. A starter mapping from the org's metadata, its TODOs finished by the admin.
    started = run("zoho", "mapping", "init", "--tenant", TENANT)
    mapping = tmp_path / "var" / "zoho" / f"{TENANT}.toml"
    starter = mapping.read_text(encoding="utf-8")
    assert "[modules.Appointments]" in starter and "lookups" in starter, started
    mapping.write_text(mapping_text(TENANT), encoding="utf-8")
    checked = run("zoho", "check-mapping", "--tenant", TENANT)
    assert "Zoho mapping check, sunrise-imaging version 1: OK" in checked
    # 4. History, every module parents first.
    backfilled = run("zoho", "backfill", "--tenant", TENANT, "--poll-seconds", "0")
    assert "Appointments: finished" in backfilled and "quarantined 0" in backfilled
    # 5. Live changes: the notification channel (mymedic serve answers /webhooks/zoho).
    renewed = run(
        "zoho", "renew-channels", "--tenant", TENANT,
        "--notify-url", "https://clinic.example/webhooks/zoho",
    )  # fmt: skip
    assert "Appointments.all" in renewed and org.channels()
    # 6. Reports and the dashboards.
    refreshed = run("jobs", "run", "refresh-reports", "--arg", f"tenant={TENANT}")
    assert '"refreshed"' in refreshed
    volume = run("report", "patient-volume", "--tenant", TENANT, "--format", "json")
    assert "pune-central" in volume and '"scans"' in volume
    run("dashboard", "--tenant", TENANT, "--out", str(tmp_path / "dashboard"))
    assert (tmp_path / "dashboard" / "index.html").is_file()
    quarantine = run("zoho", "quarantine", "--tenant", TENANT)
    assert "Quarantined Zoho records (0)" in quarantine
