"""The headline contract: every backend computes a report's headline figures at their own
grain over a whole range (bigquery/headlines/), with the numbers worked out by hand
below, never what adding up the report's rows gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mymedic.adapters.sql_catalog import headline_defs
from mymedic.ports import DateRange, Warehouse, WarehouseUnitOfWork
from tests.contract.warehouse_contract import appointment_row

JANUARY = (date(2026, 1, 1), date(2026, 1, 31))
AT = datetime(2025, 12, 1, 4, 30, tzinfo=UTC)


def _put(warehouse: Warehouse, table: str, *rows: dict[str, object]) -> None:
    def put(uow: WarehouseUnitOfWork) -> None:
        for row in rows:
            uow.put_row(table, row)

    warehouse.transact(put)


def _appointment(
    appointment_id: str,
    patient_id: str,
    status: str,
    start: date,
    *,
    branch_id: str = "b1",
    modality: str = "MRI",
    lead_hours: int = 24 * 30,
) -> dict[str, object]:
    row = appointment_row(appointment_id, patient_id, status, start)
    start_at = row["start_at"]
    assert isinstance(start_at, datetime)
    return {
        **row,
        "branch_id": branch_id,
        "modality": modality,
        "booked_at": start_at - timedelta(hours=lead_hours),
        "no_show_at": start_at if status == "no_show" else None,
    }


def _revenue(appointment_id: str, invoiced: int, paid: int) -> dict[str, object]:
    return {
        "tenant_id": "t1",
        "appointment_id": appointment_id,
        "currency": "INR",
        "payer_type": "insurer",
        "latest_invoice_at": AT,
        "prepaid_minor": 0,
        "invoiced_minor": invoiced,
        "paid_minor": paid,
        "paid_on_invoices_minor": paid,
        "credited_minor": 0,
        "updated_at": AT,
        "last_event_id": f"ev-rev-{appointment_id}",
    }


class HeadlineContract:
    @pytest.fixture
    def warehouse(self) -> Warehouse:
        raise NotImplementedError

    def test_every_headline_runs_grouped_or_not(self, warehouse: Warehouse) -> None:
        """Each query's SQL on this backend, whole-range and by every dimension at once,
        for every branch and for some; an empty warehouse has no rows to total."""
        _put(warehouse, "fct_appointment", _appointment("a1", "p1", "completed", date(2026, 1, 5)))
        for view, headline in headline_defs().items():
            assert warehouse.headline(view, "t2", *JANUARY) == [], view
            assert warehouse.headline(view, "t2", *JANUARY, by=headline.by) == [], view
            if headline.by_branch:
                assert warehouse.headline(view, "t2", *JANUARY, branches=["b1", "b2"]) == []
            else:
                with pytest.raises(ValueError, match="no branch"):
                    warehouse.headline(view, "t2", *JANUARY, branches=["b1"])
        with pytest.raises(ValueError, match="only by"):
            warehouse.headline("rpt_patient_volume", "t1", *JANUARY, by=["payer_type"])
        with pytest.raises(KeyError):
            warehouse.headline("rpt_no_such_report", "t1", *JANUARY)

    def test_a_patient_new_in_two_modalities_is_one_new_patient(self, warehouse: Warehouse) -> None:
        """January 2026: p1's first scans ever, an MRI on the 5th and a CT on the 12th at
        b1 (new in two rows of the report); p2, first scanned in December, back for a CT
        at b2 on the 20th (returning); p3 a no-show at b1. The report's January rows add
        up to 2 new patients; there is 1."""
        _put(
            warehouse,
            "fct_appointment",
            _appointment("a1", "p1", "completed", date(2026, 1, 5)),
            _appointment("a2", "p1", "completed", date(2026, 1, 12), modality="CT"),
            _appointment("a3", "p2", "completed", date(2025, 12, 10)),
            _appointment("a4", "p2", "completed", date(2026, 1, 20), modality="CT", branch_id="b2"),
            _appointment("a5", "p3", "no_show", date(2026, 1, 6)),
        )
        rows = warehouse.query(
            "rpt_patient_volume", {"tenant_id": "t1"}, between=DateRange("month", *JANUARY)
        )
        assert sum(row["new_patients"] for row in rows) == 2
        figures = ("scans", "patients", "new_patients", "returning_patients", "no_shows")

        def counts(**kwargs: object) -> list[tuple[object, ...]]:
            found = warehouse.headline("rpt_patient_volume", "t1", *JANUARY, **kwargs)  # type: ignore[arg-type]
            return [(row["modality"], *(row[f] for f in figures)) for row in found]

        assert counts() == [(None, 3, 2, 1, 1, 1)]
        assert counts(branches=["b1"]) == [(None, 2, 1, 1, 0, 1)]
        assert counts(by=["modality"]) == [("CT", 2, 2, 1, 1, 0), ("MRI", 1, 1, 1, 0, 1)]
        [december] = warehouse.headline(
            "rpt_patient_volume", "t1", date(2025, 12, 1), date(2026, 1, 31), by=["month"]
        )[:1]
        assert (december["month"], december["new_patients"]) == (date(2025, 12, 1), 1)
        # Over both months, p1 and p2 are each new once.
        [both] = warehouse.headline("rpt_patient_volume", "t1", date(2025, 12, 1), JANUARY[1])
        assert (both["patients"], both["new_patients"], both["scans"]) == (2, 2, 4)

    def test_a_median_over_the_range_is_not_an_average_of_weekly_medians(
        self, warehouse: Warehouse
    ) -> None:
        """Visits booked 10, 20 and 30 hours ahead in the week of 2026-01-05 (median 20),
        one 100 hours ahead in the next (median 100), and a no-show booked 48 hours ahead.
        Over both weeks the median is 25 (between 20 and 30), not (20 + 100) / 2 = 60; the
        90th percentile 30 + 0.7 * 70 = 79; 2 of 4 visits booked within 24 hours (the
        weeks' shares average 1/3)."""
        _put(
            warehouse,
            "fct_appointment",
            _appointment("a1", "p1", "completed", date(2026, 1, 5), lead_hours=10),
            _appointment("a2", "p2", "completed", date(2026, 1, 6), lead_hours=20),
            _appointment("a3", "p3", "arrived", date(2026, 1, 7), lead_hours=30),
            _appointment("a4", "p4", "completed", date(2026, 1, 13), lead_hours=100),
            _appointment("a5", "p5", "no_show", date(2026, 1, 8), lead_hours=48),
            _appointment("a6", "p6", "cancelled", date(2026, 1, 8), lead_hours=1),
        )
        weeks = warehouse.query(
            "rpt_waiting_time",
            {"tenant_id": "t1"},
            between=DateRange("week", date(2026, 1, 5), date(2026, 1, 12)),
        )
        assert [row["median_lead_hours"] for row in weeks] == [20, 100]
        [whole] = warehouse.headline("rpt_waiting_time", "t1", date(2026, 1, 5), date(2026, 1, 12))
        assert {k: whole[k] for k in whole if k not in ("branch_id", "modality", "week")} == {
            "appointments": 4,
            "median_lead_hours": 25,
            "p90_lead_hours": 79,
            "mean_lead_hours": 40,
            "same_day_share": 0.5,
            "no_shows": 1,
            "median_no_show_lead_hours": 48,
        }
        by_week = warehouse.headline(
            "rpt_waiting_time", "t1", date(2026, 1, 5), date(2026, 1, 12), by=["week"]
        )
        assert [(r["week"], r["median_lead_hours"]) for r in by_week] == [
            (date(2026, 1, 5), 20),
            (date(2026, 1, 12), 100),
        ]

    def test_a_rate_is_the_ratio_of_the_sums(self, warehouse: Warehouse) -> None:
        """Two completed January visits at b1: an MRI billed INR 1,000 and paid in full
        (its row's collection rate 1.0), a CT billed INR 3,000 and unpaid (0.0). The rows'
        rates average 0.5; 1,000 of 4,000 were collected: 0.25."""
        _put(
            warehouse,
            "fct_appointment",
            _appointment("a1", "p1", "completed", date(2026, 1, 5)),
            _appointment("a2", "p2", "completed", date(2026, 1, 6), modality="CT"),
        )
        _put(
            warehouse,
            "fct_appointment_revenue",
            _revenue("a1", 100_000, 100_000),
            _revenue("a2", 300_000, 0),
        )
        rows = warehouse.query("rpt_revenue_breakdown", {"tenant_id": "t1"})
        assert sorted(row["collection_rate"] for row in rows) == [0, 1]
        [whole] = warehouse.headline("rpt_revenue_breakdown", "t1", *JANUARY)
        assert (whole["currency"], whole["appointments"]) == ("INR", 2)
        assert (whole["billed_minor"], whole["paid_minor"]) == (400_000, 100_000)
        assert whole["collection_rate"] == 0.25
        by_modality = warehouse.headline("rpt_revenue_breakdown", "t1", *JANUARY, by=["modality"])
        assert [(r["modality"], r["collection_rate"]) for r in by_modality] == [
            ("CT", 0),
            ("MRI", 1),
        ]
