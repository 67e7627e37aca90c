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
# A synthetic signing secret for tests only; never a real one.
TEST_JWT_SECRET = "test-only-signing-secret-0123456789abcdef"  # noqa: S105 - synthetic


class StepClock:
    """A clock that moves one second per reading, so recorded times are distinct."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        jwt_secret=TEST_JWT_SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )


def bearer(
    tenant_id: str = TENANT,
    role: str = "admin",
    subject: str = "test-admin",
    branches: frozenset[str] | None = None,
) -> dict[str, str]:
    """An Authorization header signed with the tests' secret."""
    from mymedic.app.auth import Role, auth_config, issue_token

    config = auth_config(Settings(jwt_secret=TEST_JWT_SECRET, _env_file=None))  # type: ignore[call-arg]
    token = issue_token(
        config, subject=subject, tenant_id=tenant_id, role=Role(role), branches=branches
    )
    return {"Authorization": f"Bearer {token}"}


def push_demo(platform: Platform, *, seed: int, appointments: int) -> None:
    """Send a seeded synthetic chain through the HTTP command handler as each tenant's
    admin, then bring the warehouse up to date."""
    from mymedic.demo.generator import generate
    from mymedic.server import create_server

    entrypoints.use_platform(platform)
    client = create_server().test_client()
    try:
        for command in generate(seed=seed, appointments=appointments):
            response = client.post(
                f"/commands/{command.name}",
                json=command.body,
                headers=bearer(command.body["tenant_id"]),
            )
            assert response.status_code == 201, response.get_json()
    finally:
        entrypoints.use_platform(None)
    platform.catch_up()


def as_admin(client: Any, tenant_id: str = TENANT) -> Any:
    """Make every request of this test client carry an admin token of the tenant."""
    client.environ_base["HTTP_AUTHORIZATION"] = bearer(tenant_id)["Authorization"]
    return client


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
    """A local platform whose tenant has the test directory (branch, clinicians, rooms,
    prices) registered."""
    instance = make_platform()
    seed_directory(instance)
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
    }
    body.update(overrides)
    return body


# Every day of the week, 07:00-21:00 in the branch's zone.
ALL_WEEK = [{"weekday": day, "start": "07:00", "end": "21:00"} for day in range(7)]
PRICES = [
    ("MRI-BRAIN", "MRI", 850_000, 45),
    ("MRI-KNEE", "MRI", 700_000, 45),
    ("CT-CHEST", "CT", 450_000, 30),
    ("XR-CHEST", "XRAY", 60_000, 15),
]


def directory_commands(
    tenant_id: str = TENANT, branch_id: str = BRANCH, suffix: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """A branch in Pune with two clinicians and two rooms (MRI, CT, X-ray), a price
    list in force since 2025-01-01 and no cancellation policy."""
    base = {"tenant_id": tenant_id, "branch_id": branch_id}
    modalities = ["MRI", "CT", "XRAY"]
    commands: list[tuple[str, dict[str, Any]]] = [
        (
            "register_branch",
            {
                **base,
                "display_name": "Pune Central",
                "city": "Pune",
                "timezone": "Asia/Kolkata",
                "currency": "INR",
            },
        )
    ]
    for n in (1, 2):
        commands.append(
            (
                "register_clinician",
                {
                    **base,
                    "clinician_id": f"clin-{n}{suffix}",
                    "display_name": f"Radiographer {n}",
                    "modalities": modalities,
                    "working_hours": ALL_WEEK,
                },
            )
        )
        commands.append(
            (
                "register_room",
                {
                    **base,
                    "room_id": f"room-{n}{suffix}",
                    "display_name": f"Room {n}",
                    "modalities": modalities,
                },
            )
        )
    prices = [
        {
            "procedure_code": code,
            "modality": modality,
            "price_minor": price,
            "currency": "INR",
            "duration_minutes": minutes,
        }
        for code, modality, price, minutes in PRICES
    ]
    commands.append(
        ("update_price_list", {**base, "effective_from": "2025-01-01", "prices": prices})
    )
    return commands


def seed_directory(
    target: Platform | Any, tenant_id: str = TENANT, branch_id: str = BRANCH
) -> None:
    """Register the test directory through a platform's (or a bare) CommandService."""
    from mymedic.domain.commands import COMMANDS
    from mymedic.domain.envelope import Metadata

    service = target.commands if isinstance(target, Platform) else target
    for name, body in directory_commands(tenant_id, branch_id):
        metadata = Metadata(
            tenant_id=tenant_id,
            actor="admin:test",
            source=f"command:{name}",
            correlation_id="seed-directory",
        )
        service.handle(COMMANDS[name].model_validate(body), metadata)


def written(platform: Platform) -> list[Any]:
    """The events in the store beyond the seeded directory."""
    return [
        stored
        for stored in platform.store.read_all(limit=100_000)
        if stored.envelope.correlation_id != "seed-directory"
    ]


def post_directory(
    client: Any,
    tenant_id: str = TENANT,
    branch_id: str = BRANCH,
    prefix: str = "",
    suffix: str = "",
) -> None:
    """Register the test directory through the HTTP handler, as the tenant's admin
    (``prefix="/commands"`` for the local server, none for the function's own app)."""
    for name, body in directory_commands(tenant_id, branch_id, suffix):
        response = client.post(f"{prefix}/{name}", json=body, headers=bearer(tenant_id))
        assert response.status_code == 201, response.get_json()


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


# --- emulators (pytest -m emulator) -----------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def _bqemulator_binary() -> str:
    import os
    import shutil

    configured = os.environ.get("MYMEDIC_BQEMULATOR")
    candidates = [configured] if configured else []
    candidates += [
        str(REPO / ".venv-bqemulator" / "bin" / "bqemulator"),
        shutil.which("bqemulator"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("bqemulator is not installed: run `make emulators` (or `make test`)")


@pytest.fixture(scope="session")
def emulator_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-logs")


def _session_emulator(start: Callable[[], Any]) -> Iterator[Any]:
    import os

    from mymedic.emulators import EmulatorUnavailable

    try:
        emulator = start()
    except EmulatorUnavailable as exc:
        pytest.fail(f"emulator unavailable: {exc}")
    saved = {k: os.environ.get(k) for k in emulator.env}
    os.environ.update(emulator.env)
    yield emulator
    emulator.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def pubsub_emulator(emulator_logs: Path) -> Iterator[Any]:
    from mymedic.emulators import start_pubsub

    yield from _session_emulator(lambda: start_pubsub(emulator_logs))


@pytest.fixture(scope="session")
def firestore_emulator(emulator_logs: Path) -> Iterator[Any]:
    from mymedic.emulators import start_firestore

    yield from _session_emulator(lambda: start_firestore(emulator_logs))


@pytest.fixture(scope="session")
def bigquery_emulator(emulator_logs: Path) -> Iterator[Any]:
    from mymedic.emulators import start_bigquery

    yield from _session_emulator(lambda: start_bigquery(emulator_logs, _bqemulator_binary()))


@pytest.fixture
def gcp_project() -> str:
    """A project id of this test's own: emulators keep projects apart, so tests sharing
    an emulator never see each other's topics, documents or datasets."""
    from uuid import uuid4

    return f"test-{uuid4().hex[:12]}"
