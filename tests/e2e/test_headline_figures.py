"""Headline figures through the whole flow: the snapshot's key figures and the dashboard
preview's scorecards show what the warehouse computes at each figure's own grain, never
what adding up the report's rows gives. All data synthetic, worked out by hand.

March 2026 at branch-1 (Pune, INR), every visit completed, the lead time from booking to
start in hours:

    pat-1  MRI-BRAIN 03-10 10:00, booked 20 h ahead   (first scan ever: new in March)
    pat-2  XR-CHEST  03-11 12:00, booked  4 h ahead   (new in March)
    pat-1  CT-CHEST  03-17 10:00, booked 12 h ahead   (new in March again, other modality)
    pat-3  MRI-KNEE  03-18 09:00, booked 240 h ahead  (new in March)

Patient volume, March: rows MRI (pat-1, pat-3: 2 new), CT (pat-1: 1 new), XRAY (pat-2:
1 new) add up to 4 new patients; there are 3 (pat-1 once), and 3 patients, 4 scans.
Waiting time, weeks of 03-09 and 03-16: one visit per (modality, week) row, medians 20,
4, 12 and 240 (their average 69); over all four visits the median is (12 + 20) / 2 = 16
hours, the 90th percentile 20 + 0.7 * (240 - 20) = 174 hours.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mymedic.bootstrap import Platform
from mymedic.reports.catalog import report, run
from mymedic.reports.snapshot import collect
from mymedic.reports.snapshot.window import interval
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking

MODALITY = {"MRI-BRAIN": "MRI", "MRI-KNEE": "MRI", "CT-CHEST": "CT", "XR-CHEST": "XRAY"}
VISITS = (
    ("a1", "pat-1", "MRI-BRAIN", "2026-03-10T10:00:00", "2026-03-09T14:00:00"),
    ("a2", "pat-2", "XR-CHEST", "2026-03-11T12:00:00", "2026-03-11T08:00:00"),
    ("a3", "pat-1", "CT-CHEST", "2026-03-17T10:00:00", "2026-03-16T22:00:00"),
    ("a4", "pat-3", "MRI-KNEE", "2026-03-18T09:00:00", "2026-03-08T09:00:00"),
)
WEEKS = (date(2026, 3, 9), date(2026, 3, 22))


def _send(client: Any, name: str, **body: Any) -> None:
    body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
    response = client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))
    assert response.status_code == 201, (name, response.get_json())


def _march(platform: Platform) -> None:
    client = create_server().test_client()
    for apt, patient, procedure, start, booked in VISITS:
        body = booking(
            apt,
            patient_id=patient,
            modality=MODALITY[procedure],
            procedure_code=procedure,
            start_at=f"{start}+05:30",
            occurred_at=f"{booked}+05:30",
        )
        del body["duration_minutes"], body["tenant_id"], body["branch_id"]
        _send(client, "book_appointment", **body)
        done = start.replace("T10:", "T11:").replace("T12:", "T13:").replace("T09:", "T10:")
        _send(client, "complete_appointment", appointment_id=apt, occurred_at=f"{done}+05:30")
    platform.catch_up()


def _figures(snapshot: Any, name: str) -> dict[str, str]:
    section = next(s for s in snapshot.sections if s.spec.name == name)
    return {figure.label: figure.value for figure in section.figures}


def test_snapshot_figures_are_the_warehouse_headlines(platform: Platform) -> None:
    _march(platform)
    _, rows = run(platform.warehouse, report("patient-volume"), TENANT, *WEEKS)
    assert sum(row["new_patients"] for row in rows) == 4  # what adding the rows says
    weeks = run(platform.warehouse, report("waiting-time"), TENANT, *WEEKS)[1]
    assert sorted(row["median_lead_hours"] for row in weeks) == [4, 12, 20, 240]

    for branches in (("*",), (BRANCH,)):
        snapshot = collect(
            platform.warehouse,
            TENANT,
            ["patient-volume", "waiting-time"],
            interval(*WEEKS),
            branches,
        )
        volume = _figures(snapshot, "patient-volume")
        assert volume["New patients"] == "3"
        assert volume["Patients scanned (each once)"] == "3"
        assert volume["Scans"] == "4"
        waiting = _figures(snapshot, "waiting-time")
        assert waiting["Visits (arrived or completed)"] == "4"
        assert waiting["Median booking lead (all visits in the window)"] == "16.0 h"
        assert waiting["90th percentile booking lead (all visits in the window)"] == "174.0 h"
        assert waiting["Mean booking lead"] == "69.0 h"
        assert waiting["Visits booked less than 24 h ahead"] == "75%"

    elsewhere = collect(
        platform.warehouse, TENANT, ["patient-volume"], interval(*WEEKS), ("branch-9",)
    )
    assert _figures(elsewhere, "patient-volume")["New patients"] == "0"
