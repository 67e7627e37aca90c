from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mymedic import entrypoints
from mymedic.bootstrap import Platform, bootstrap
from mymedic.settings import Settings

TENANT = "tenant-a"
BRANCH = "branch-1"


class StepClock:
    """A clock that moves one second per reading, so recorded times are distinct."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def make_platform(settings: Settings) -> Iterator[Callable[..., Platform]]:
    made: list[Platform] = []

    def make(**kwargs: Any) -> Platform:
        platform = bootstrap(settings, clock=StepClock(), **kwargs)
        made.append(platform)
        return platform

    yield make
    for platform in made:
        platform.close()


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Iterator[Platform]:
    instance = make_platform()
    entrypoints.use_platform(instance)
    yield instance
    entrypoints.use_platform(None)


def booking(appointment_id: str = "apt-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "appointment_id": appointment_id,
        "patient_id": "pat-1",
        "clinician_id": "clin-1",
        "room_id": "room-1",
        "modality": "MRI",
        "procedure_code": "MRI-BRAIN",
        "start_at": "2026-03-10T10:00:00+05:30",
        "duration_minutes": 45,
        "channel": "portal",
        "price_minor": 850000,
        "currency": "INR",
    }
    body.update(overrides)
    return body


def registration(patient_id: str = "pat-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "patient_id": patient_id,
        "sex": "female",
        "channel": "console",
        "personal": {
            "full_name": "Synthetic Patient",
            "phone": "+91 90000 00000",
            "email": "synthetic.patient@example.com",
            "date_of_birth": "1980-01-01",
            "postcode": "411001",
        },
    }
    body.update(overrides)
    return body
