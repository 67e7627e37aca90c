"""Zoho ingestion against the fake Zoho server and a local platform (synthetic data)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mymedic.bootstrap import Platform
from mymedic.domain.envelope import EventEnvelope
from mymedic.integrations.zoho.client import ZohoClient
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.mapping import EXAMPLE_MAPPING
from mymedic.integrations.zoho.service import ZohoService
from mymedic.settings import Settings
from mymedic.testing.zoho_fake import FakeZoho
from tests.conftest import BRANCH, TENANT, TEST_JWT_SECRET

# Synthetic webhook credentials, for tests only.
CHANNEL_TOKEN = "test-only-channel-token-0123456789"  # noqa: S105 - synthetic
WORKFLOW_SECRET = "test-only-workflow-secret-0123456789"  # noqa: S105 - synthetic
IST = timezone(timedelta(hours=5, minutes=30))
T0 = datetime(2026, 2, 2, 9, 0, tzinfo=IST)
CREATED_BEFORE = timedelta(days=1)  # a record is created this long before its version
CANONICAL = frozenset({"patient", "appointment", "referral"})


def write_mapping(directory: Path) -> Path:
    """The bundled demo mapping, made the test tenant's: its Pune branch is ours."""
    text = EXAMPLE_MAPPING.read_text(encoding="utf-8")
    text = text.replace('tenant_id = "example-clinic"', f'tenant_id = "{TENANT}"')
    text = text.replace('"Pune Central" = "pune-central"', f'"Pune Central" = "{BRANCH}"')
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{TENANT}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def contact(n: int, modified: datetime = T0, **fields: Any) -> dict[str, Any]:
    record = {
        "id": f"{41000 + n}",
        "Modified_Time": stamp(modified),
        "Created_Time": stamp(modified - CREATED_BEFORE),
        "Branch": "Pune Central",
        "Gender": "Female",
        "Full_Name": f"Synthetic Patient {n}",
        "Mobile": f"+91 90000 {n:05d}",
        "Email": f"synthetic.{n}@example.com",
        "Date_of_Birth": "1980-01-01",
        "Mailing_Zip": "411001",
    }
    record.update(fields)
    return record


def appointment(n: int, patient: int = 1, modified: datetime = T0, **fields: Any) -> dict[str, Any]:
    record = {
        "id": f"{52000 + n}",
        "Modified_Time": stamp(modified),
        "Created_Time": stamp(modified - CREATED_BEFORE),
        "Branch": "Pune Central",
        "Patient_Name": {"id": f"{41000 + patient}", "name": f"Synthetic Patient {patient}"},
        "Clinician": "clin-1",
        "Room": "room-1",
        "Modality": "MRI",
        "Procedure_Code": "MRI-BRAIN",
        "Appointment_Start": "2026-03-10T10:00:00+05:30",
        "Duration": 45,
        "Status": "Scheduled",
        "Amount": 8500.0,
        "Currency": "INR",
    }
    record.update(fields)
    return record


def appointment_stream(n: int) -> str:
    return f"appointment:zoho-{52000 + n}"


def events(platform: Platform) -> list[EventEnvelope]:
    return [stored.envelope for stored in platform.store.read_all(limit=100_000)]


def canonical(platform: Platform) -> list[EventEnvelope]:
    """The canonical events Zoho ingestion wrote (not the directory, not bookkeeping)."""
    return [
        event
        for event in events(platform)
        if event.category in CANONICAL and event.source.startswith("zoho")
    ]


def of_type(platform: Platform, event_type: str) -> list[EventEnvelope]:
    return [event for event in events(platform) if event.event_type == event_type]


@pytest.fixture
def fake() -> Iterator[FakeZoho]:
    with FakeZoho(polls_until_complete=1) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeZoho) -> Settings:
    """The tests' settings (conftest's), with Zoho pointed at the fake."""
    return Settings(
        data_dir=tmp_path / "data",
        jwt_secret=TEST_JWT_SECRET,
        zoho_tenant_id=TENANT,
        zoho_webhook_token=CHANNEL_TOKEN,
        zoho_workflow_secret=WORKFLOW_SECRET,
        zoho_client_id=fake.client_id,
        zoho_client_secret=fake.client_secret,
        zoho_refresh_token=fake.refresh_token,
        zoho_accounts_url=fake.base_url,
        zoho_api_domain=fake.base_url,
        zoho_mapping_dir=write_mapping(tmp_path / "mappings").parent,
        _env_file=None,  # type: ignore[call-arg]
    )


def client_for(fake: FakeZoho, **overrides: Any) -> Any:
    """A client factory whose waits move the fake's clock instead of sleeping."""

    def make(config: ZohoConfig) -> ZohoClient:
        return ZohoClient(config.model_copy(update=overrides), sleep=fake.advance, clock=fake.clock)

    return make


@pytest.fixture
def zoho(platform: Platform, fake: FakeZoho) -> Iterator[ZohoService]:
    service = ZohoService(
        platform.settings,
        platform.store,
        clock=platform.clock,
        after_commit=platform.relay.drain,
        client_factory=client_for(fake),
        batch_size=3,
    )
    yield service
    service.close()
