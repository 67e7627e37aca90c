"""rpt_waiting_time counts the visits that took place (arrived or completed); no-shows
have their own columns; cancelled appointments and those still booked are left out.
Hand-computed, through the HTTP command handler, on the test directory (branch-1 in
Pune, +05:30). All synthetic."""

from __future__ import annotations

from datetime import date
from typing import Any

from mymedic.bootstrap import Platform
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking

COLUMNS = (
    "week",
    "appointments",
    "median_lead_hours",
    "p90_lead_hours",
    "mean_lead_hours",
    "same_day_share",
    "no_shows",
    "median_no_show_lead_hours",
)


def _ist(local: str) -> str:
    return f"{local}+05:30"


def test_visits_count_no_shows_apart_and_the_rest_not_at_all(platform: Platform) -> None:
    client = create_server().test_client()

    def send(name: str, **body: Any) -> None:
        body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
        response = client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))
        assert response.status_code == 201, (name, response.get_json())

    def book(apt: str, start: str, booked: str, then: str | None = None) -> None:
        body = booking(apt, patient_id=f"pat-{apt}", start_at=_ist(start), occurred_at=_ist(booked))
        send("book_appointment", **body)
        if then == "cancel_appointment":
            send(then, appointment_id=apt, reason="travel", occurred_at=_ist(booked))
        elif then is not None:
            send(then, appointment_id=apt, occurred_at=_ist(start))

    # The week of Monday 9 March 2026.
    book("v1", "2026-03-10T10:00:00", "2026-03-02T10:00:00", "complete_appointment")  # 192 h
    book("v2", "2026-03-09T15:00:00", "2026-03-09T09:00:00", "mark_arrived")  # 6 h
    book("n1", "2026-03-11T10:00:00", "2026-03-05T10:00:00", "mark_no_show")  # 144 h
    book("n2", "2026-03-11T12:00:00", "2026-03-10T10:00:00", "mark_no_show")  # 26 h
    book("k1", "2026-03-12T10:00:00", "2026-03-02T10:00:00")  # still booked: out
    book("x1", "2026-03-12T11:00:00", "2026-03-03T10:00:00", "cancel_appointment")  # out
    # The week of 16 March: a no-show only.
    book("n3", "2026-03-17T10:00:00", "2026-03-16T09:00:00", "mark_no_show")  # 25 h
    # The week of 23 March: one still booked, one cancelled: no row.
    book("k2", "2026-03-24T10:00:00", "2026-03-16T09:00:00")
    book("x2", "2026-03-24T11:00:00", "2026-03-16T09:00:00", "cancel_appointment")
    platform.catch_up()

    rows = platform.warehouse.query("rpt_waiting_time", {"tenant_id": TENANT})
    assert {(r["branch_id"], r["modality"]) for r in rows} == {(BRANCH, "MRI")}
    assert [tuple(r[c] for c in COLUMNS) for r in rows] == [
        # Visits v2 6 h and v1 192 h: median and mean 99, p90 6 + 0.9 * 186 = 173.4, one
        # of two under 24 h. No-shows n2 26 h and n1 144 h: median 85.
        (date(2026, 3, 9), 2, 99.0, 173.4, 99.0, 0.5, 2, 85.0),
        # No visit: nothing to say of waits; the no-show's lead is there.
        (date(2026, 3, 16), 0, None, None, None, None, 1, 25.0),
    ]
