"""Report 1 checked against numbers worked out by hand, through the whole flow."""

from __future__ import annotations

from datetime import date
from typing import Any

from mymedic import entrypoints
from mymedic.bootstrap import Platform
from mymedic.server import create_server
from tests.conftest import bearer, booking, post_directory, registration

PROCEDURE = {"MRI": "MRI-BRAIN", "CT": "CT-CHEST", "XRAY": "XR-CHEST"}


def _send(client: Any, name: str, body: dict[str, Any]) -> None:
    response = client.post(f"/commands/{name}", json=body, headers=bearer(body["tenant_id"]))
    assert response.status_code == 201, response.get_json()


def _appointment(
    client: Any,
    apt: str,
    patient: str,
    month: int,
    modality: str,
    outcome: str,
    branch: str = "b1",
    tenant: str = "t1",
) -> None:
    _send(
        client,
        "book_appointment",
        booking(
            apt,
            tenant_id=tenant,
            branch_id=branch,
            patient_id=patient,
            modality=modality,
            procedure_code=PROCEDURE[modality],
            clinician_id="clin-1-b2" if branch == "b2" else "clin-1",
            room_id="room-1-b2" if branch == "b2" else "room-1",
            # One hour apart per appointment number: no clinician or room is double booked.
            start_at=f"2026-{month:02d}-15T{8 + int(apt[1:]):02d}:00:00+05:30",
            occurred_at="2025-12-01T09:00:00+05:30",  # entered ahead of the scans
        ),
    )
    ref = {"tenant_id": tenant, "branch_id": branch, "appointment_id": apt}
    if outcome == "completed":
        _send(client, "complete_appointment", ref)
    elif outcome == "cancelled":
        _send(client, "cancel_appointment", {**ref, "reason": "travel"})
    elif outcome == "no_show":
        _send(client, "mark_no_show", ref)


def test_patient_volume_matches_hand_computed_figures(platform: Platform) -> None:
    client = create_server().test_client()
    for tenant, branch, suffix in (("t1", "b1", ""), ("t1", "b2", "-b2"), ("t2", "b1", "")):
        post_directory(client, tenant, branch, prefix="/commands", suffix=suffix)
    for patient in ("p1", "p2", "p3"):
        _send(client, "register_patient", registration(patient, tenant_id="t1", branch_id="b1"))
    _appointment(client, "a1", "p1", 1, "MRI", "completed")  # p1 new in January
    _appointment(client, "a2", "p2", 1, "MRI", "cancelled")  # p2's cancellation is no scan
    _appointment(client, "a3", "p3", 1, "MRI", "no_show")
    _appointment(client, "a4", "p1", 2, "MRI", "completed")  # p1 returning
    _appointment(client, "a5", "p1", 2, "CT", "completed")  # p1 returning, other modality
    _appointment(client, "a6", "p2", 2, "MRI", "completed")  # p2 new in February
    _appointment(client, "a7", "p3", 3, "MRI", "booked")  # still booked: no scan
    _appointment(client, "a8", "p1", 3, "XRAY", "completed", branch="b2")  # returning, b2
    _appointment(client, "a9", "p1", 3, "XRAY", "completed", tenant="t2")  # same id, t2: new
    entrypoints.use_platform(platform)
    platform.catch_up()

    columns = (
        "branch_id",
        "modality",
        "month",
        "scans",
        "patients",
        "new_patients",
        "returning_patients",
        "cancelled",
        "no_shows",
        "still_booked",
    )
    rows = [
        tuple(r[c] for c in columns)
        for r in platform.warehouse.query("rpt_patient_volume", {"tenant_id": "t1"})
    ]
    assert rows == [
        ("b1", "CT", date(2026, 2, 1), 1, 1, 0, 1, 0, 0, 0),
        ("b1", "MRI", date(2026, 1, 1), 1, 1, 1, 0, 1, 1, 0),
        ("b1", "MRI", date(2026, 2, 1), 2, 2, 1, 1, 0, 0, 0),
        ("b1", "MRI", date(2026, 3, 1), 0, 0, 0, 0, 0, 0, 1),
        ("b2", "XRAY", date(2026, 3, 1), 1, 1, 0, 1, 0, 0, 0),
    ]
    [t2] = platform.warehouse.query("rpt_patient_volume", {"tenant_id": "t2"})
    assert (t2["scans"], t2["new_patients"], t2["returning_patients"]) == (1, 1, 0)
    first_scans = platform.warehouse.query("int_patient_first_scan", {"tenant_id": "t1"})
    assert {r["patient_id"]: r["first_scan_month"] for r in first_scans} == {
        "p1": date(2026, 1, 1),
        "p2": date(2026, 2, 1),
    }
