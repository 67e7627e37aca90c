"""The warehouse contract: keyed rows, checkpoints and report views, every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mymedic.ports import DateRange, Row, Warehouse, WarehouseUnitOfWork

AT = datetime(2026, 1, 5, 4, 30, tzinfo=UTC)


def patient_row(patient_id: str, tenant_id: str = "t1") -> dict[str, object]:
    return {
        "tenant_id": tenant_id,
        "patient_id": patient_id,
        "home_branch_id": "b1",
        "sex": "female",
        "registration_channel": "portal",
        "registered_at": AT,
        "updated_at": AT,
        "last_event_id": f"ev-{patient_id}",
    }


def appointment_row(
    appointment_id: str, patient_id: str, status: str, start: date
) -> dict[str, object]:
    start_at = datetime(start.year, start.month, start.day, 4, 30, tzinfo=UTC)
    return {
        "tenant_id": "t1",
        "branch_id": "b1",
        "appointment_id": appointment_id,
        "patient_id": patient_id,
        "clinician_id": "c1",
        "room_id": "r1",
        "modality": "MRI",
        "procedure_code": "MRI-KNEE",
        "channel": "portal",
        "referral_id": None,
        "gclid": None,
        "status": status,
        "booked_at": AT,
        "start_at": start_at,
        "start_date": start,
        "duration_minutes": 45,
        "price_minor": 700000,
        "currency": "INR",
        "reschedule_count": 0,
        "cancel_reason": None,
        "cancelled_at": None,
        "completed_at": start_at if status == "completed" else None,
        "no_show_at": None,
        "updated_at": AT,
        "last_event_id": f"ev-{appointment_id}",
    }


def invoice_row(invoice_id: str, amount_minor: int, issued: date, due: date) -> dict[str, object]:
    at = datetime(issued.year, issued.month, issued.day, 6, 30, tzinfo=UTC)
    return {
        "tenant_id": "t1",
        "branch_id": "b1",
        "invoice_id": invoice_id,
        "appointment_id": f"a-{invoice_id}",
        "patient_id": "p1",
        "payer_type": "insurer",
        "amount_minor": amount_minor,
        "currency": "INR",
        "issued_at": at,
        "due_on": due,
        "recorded_at": at,
        "updated_at": at,
        "last_event_id": f"ev-{invoice_id}",
    }


def invoice_payment_row(
    invoice_id: str, payment_id: str, amount_minor: int, paid: date
) -> dict[str, object]:
    at = datetime(paid.year, paid.month, paid.day, 6, 30, tzinfo=UTC)
    return {
        "tenant_id": "t1",
        "branch_id": "b1",
        "source": "invoice",
        "source_id": invoice_id,
        "payment_id": payment_id,
        "appointment_id": f"a-{invoice_id}",
        "invoice_id": invoice_id,
        "patient_id": "p1",
        "kind": "payment",
        "mode": "upi",
        "provider": "razorpay",
        "amount_minor": amount_minor,
        "currency": "INR",
        "paid_at": at,
        "recorded_at": at,
        "updated_at": at,
        "last_event_id": f"ev-{payment_id}",
    }


def _checkpoint(warehouse: Warehouse, projection: str, tenant: str, stream: str) -> int:
    return warehouse.transact(lambda uow: uow.checkpoint(projection, tenant, stream))


def _put(warehouse: Warehouse, table: str, *rows: dict[str, object]) -> None:
    def put(uow: WarehouseUnitOfWork) -> None:
        for row in rows:
            uow.put_row(table, row)

    warehouse.transact(put)


class WarehouseContract:
    @pytest.fixture
    def warehouse(self) -> Warehouse:
        raise NotImplementedError

    def test_rows_are_upserted_by_key(self, warehouse: Warehouse) -> None:
        _put(warehouse, "dim_patient", patient_row("p1"), patient_row("p2"))

        def change(uow: WarehouseUnitOfWork) -> Row | None:
            row = uow.get_row("dim_patient", ("t1", "p1"))
            assert row is not None
            uow.put_row("dim_patient", {**row, "sex": "other"})
            return uow.get_row("dim_patient", ("t1", "missing"))

        assert warehouse.transact(change) is None
        rows = warehouse.query("dim_patient", {"tenant_id": "t1"})
        assert [(r["patient_id"], r["sex"]) for r in rows] == [("p1", "other"), ("p2", "female")]
        assert rows[0]["registered_at"] == AT

    def test_prefetch_loads_many_rows_at_once(self, warehouse: Warehouse) -> None:
        _put(warehouse, "dim_patient", *(patient_row(f"p{i}") for i in range(5)))

        def read(uow: WarehouseUnitOfWork) -> tuple[Row | None, Row | None]:
            uow.prefetch("dim_patient", [("t1", "p1"), ("t1", "p3"), ("t1", "nope")])
            return uow.get_row("dim_patient", ("t1", "p3")), uow.get_row(
                "dim_patient", ("t1", "nope")
            )

        found, missing = warehouse.transact(read)
        assert found is not None and found["patient_id"] == "p3"
        assert missing is None

    def test_a_failed_unit_of_work_writes_nothing(self, warehouse: Warehouse) -> None:
        def crashing(uow: WarehouseUnitOfWork) -> None:
            uow.put_row("dim_patient", patient_row("p1"))
            uow.set_checkpoint("facts", "t1", "patient:p1", 1)
            raise RuntimeError("crash before commit")

        with pytest.raises(RuntimeError):
            warehouse.transact(crashing)
        assert warehouse.query("dim_patient") == []
        assert _checkpoint(warehouse, "facts", "t1", "patient:p1") == 0

    def test_checkpoints_commit_with_the_rows(self, warehouse: Warehouse) -> None:
        def write(uow: WarehouseUnitOfWork) -> None:
            uow.put_row("dim_patient", patient_row("p1"))
            uow.set_checkpoint("facts", "t1", "patient:p1", 1)

        warehouse.transact(write)

        def read(uow: WarehouseUnitOfWork) -> tuple[int, int]:
            uow.prefetch_checkpoints("facts", [("t1", "patient:p1"), ("t1", "patient:p2")])
            return uow.checkpoint("facts", "t1", "patient:p1"), uow.checkpoint(
                "facts", "t1", "patient:p2"
            )

        assert warehouse.transact(read) == (1, 0)

    def test_report_view_filters_by_tenant(self, warehouse: Warehouse) -> None:
        _put(
            warehouse,
            "fct_appointment",
            appointment_row("a1", "p1", "completed", date(2026, 1, 5)),
        )
        assert len(warehouse.query("rpt_patient_volume", {"tenant_id": "t1"})) == 1
        assert warehouse.query("rpt_patient_volume", {"tenant_id": "t2"}) == []
        with pytest.raises(KeyError):
            warehouse.query("rpt_patient_volume", {"no_such_column": 1})
        with pytest.raises(KeyError):
            warehouse.query("information_schema.tables")

    def test_a_view_is_filtered_by_a_date_range_and_names_its_columns(
        self, warehouse: Warehouse
    ) -> None:
        for n, day in enumerate((date(2026, 1, 5), date(2026, 2, 5), date(2026, 3, 5))):
            _put(warehouse, "fct_appointment", appointment_row(f"a{n}", "p1", "completed", day))
        months = [
            row["month"]
            for row in warehouse.query(
                "rpt_patient_volume",
                {"tenant_id": "t1"},
                between=DateRange("month", date(2026, 2, 1), date(2026, 3, 1)),
            )
        ]
        assert months == [date(2026, 2, 1), date(2026, 3, 1)]
        empty = DateRange("month", date(2020, 1, 1), date(2020, 12, 31))
        assert warehouse.query("rpt_patient_volume", between=empty) == []
        columns = warehouse.columns("rpt_patient_volume")
        assert columns[:4] == ["tenant_id", "branch_id", "modality", "month"]
        with pytest.raises(KeyError):
            warehouse.query("rpt_patient_volume", between=DateRange("nope", empty.start, empty.end))
        with pytest.raises(KeyError):
            warehouse.columns("information_schema.tables")

    def test_money_report_views_run(self, warehouse: Warehouse) -> None:
        """The money reports' SQL (a date spine, a cross join, if/countif) on every
        backend: INR 600_000 due 01-31, 200_000 paid 02-15."""
        _put(
            warehouse,
            "fct_invoice",
            invoice_row("inv1", 600_000, date(2025, 1, 11), date(2025, 1, 31)),
        )
        _put(
            warehouse,
            "fct_payment",
            invoice_payment_row("inv1", "pay1", 200_000, date(2025, 2, 15)),
        )
        [by_mode] = warehouse.query("rpt_payments_by_mode", {"tenant_id": "t1"})
        assert (by_mode["mode"], by_mode["payments"], by_mode["amount_minor"]) == (
            "upi",
            1,
            200_000,
        )
        aging = warehouse.query("rpt_receivables_aging", {"as_of_date": date(2025, 3, 31)})
        assert [(r["invoices"], r["days_31_60_minor"]) for r in aging] == [(1, 400_000)]
        [leakage] = warehouse.query("rpt_leakage", {"tenant_id": "t1"})
        assert (leakage["unpaid_invoices"], leakage["unpaid_invoice_minor"]) == (1, 400_000)

    def test_utilization_and_waiting_time_views_run(self, warehouse: Warehouse) -> None:
        """The views' SQL (a block's wall-clock minutes in the branch's time zone, merged
        blocks, equipment codes split, percentiles over part of a group) on every
        backend. c1 works Mondays 08:00-13:00 and 14:00-20:00 IST (660 minutes); on
        Monday 2026-01-05 a 13:00-19:00 block takes 14:00-19:00 (300), one lifted takes
        nothing; a1 (completed) and a2 (no-show) book 45 minutes each in r1, which holds
        MRI-3T and COIL."""
        registered = datetime(2026, 1, 1, 4, 30, tzinfo=UTC)
        audit = {"tenant_id": "t1", "branch_id": "b1", "last_event_id": "ev-directory"}
        branch = {
            **audit,
            "display_name": "Pune",
            "city": "Pune",
            "timezone": "Asia/Kolkata",
            "currency": "INR",
            "registered_at": registered,
            "updated_at": registered,
        }
        _put(warehouse, "dim_branch", branch)
        version = {**audit, "display_name": "X", "modalities": "MRI", "valid_from": registered}
        _put(warehouse, "hist_clinician", {**version, "clinician_id": "c1"})
        _put(warehouse, "hist_room", {**version, "room_id": "r1", "equipment": "MRI-3T,COIL"})
        hours = {**audit, "clinician_id": "c1", "valid_from": registered, "weekday": 0}
        _put(
            warehouse,
            "hist_working_hours",
            {**hours, "start_minute": 480, "end_minute": 780},
            {**hours, "start_minute": 840, "end_minute": 1200},
        )
        block = {**audit, "clinician_id": "c1", "updated_at": registered}
        _put(
            warehouse,
            "fct_clinician_block",
            {
                **block,
                "block_id": "afternoon",
                "start_at": datetime(2026, 1, 5, 7, 30, tzinfo=UTC),
                "end_at": datetime(2026, 1, 5, 13, 30, tzinfo=UTC),
                "is_active": True,
            },
            {
                **block,
                "block_id": "lifted",
                "start_at": datetime(2026, 1, 5, 2, 30, tzinfo=UTC),
                "end_at": datetime(2026, 1, 5, 7, 30, tzinfo=UTC),
                "is_active": False,
            },
        )
        monday = date(2026, 1, 5)
        a2 = {**appointment_row("a2", "p2", "no_show", monday), "booked_at": registered}
        _put(warehouse, "fct_appointment", appointment_row("a1", "p1", "completed", monday), a2)

        rows = warehouse.query(
            "rpt_utilization", {"tenant_id": "t1"}, between=DateRange("day", monday, monday)
        )
        measures = ("working_minutes", "blocked_minutes", "available_minutes", "booked_minutes")
        assert {
            (r["subject"], r["subject_id"]): (*(r[m] for m in measures), r["utilization"])
            for r in rows
        } == {
            ("clinician", "c1"): (660, 300, 360, 90, 0.25),
            # The span of c1's time: 08:00-20:00 working, 08:00-20:00 available still.
            ("room", "r1"): (720, 0, 720, 90, 0.125),
            ("equipment", "MRI-3T"): (720, 0, 720, 90, 0.125),
            ("equipment", "COIL"): (720, 0, 720, 90, 0.125),
        }
        [week] = warehouse.query("rpt_waiting_time", {"tenant_id": "t1"})
        # a1 was booked at its start (AT); a2 four days ahead, 96 h, and did not come.
        assert (week["appointments"], week["median_lead_hours"], week["same_day_share"]) == (
            1,
            0.0,
            1.0,
        )
        assert (week["no_shows"], week["median_no_show_lead_hours"]) == (1, 96.0)

    def test_reset_empties_a_projection_s_tables(self, warehouse: Warehouse) -> None:
        def write(uow: WarehouseUnitOfWork) -> None:
            uow.put_row("dim_patient", patient_row("p1"))
            uow.set_checkpoint("facts", "t1", "patient:p1", 1)

        warehouse.transact(write)
        warehouse.reset_projection("facts", ["dim_patient"])
        assert warehouse.query("dim_patient") == []
        assert _checkpoint(warehouse, "facts", "t1", "patient:p1") == 0

    def test_a_materialized_report_is_recomputed_per_tenant(self, warehouse: Warehouse) -> None:
        def put_scan(tenant: str, appointment_id: str, day: date, version: int) -> None:
            row = {**appointment_row(appointment_id, "p1", "completed", day), "tenant_id": tenant}

            def write(uow: WarehouseUnitOfWork) -> None:
                uow.put_row("fct_appointment", row)
                stream = f"appointment:{appointment_id}"
                uow.set_checkpoint("warehouse_facts", tenant, stream, version)

            warehouse.transact(write)

        def copy(tenant: str) -> list[Row]:
            return warehouse.query("mat_rpt_patient_volume", {"tenant_id": tenant})

        put_scan("t1", "a1", date(2026, 1, 5), 3)
        put_scan("t2", "a9", date(2026, 1, 6), 2)
        assert warehouse.facts_version("t1") == 3
        assert warehouse.facts_version("nobody") == 0
        assert warehouse.fact_tenants() == ["t1", "t2"]

        def follow(uow: WarehouseUnitOfWork) -> None:  # the runner's position in the store
            uow.set_checkpoint("warehouse_facts", "*", "$all", 42)

        warehouse.transact(follow)
        assert warehouse.fact_tenants() == ["t1", "t2"]
        assert warehouse.columns("mat_rpt_patient_volume") == warehouse.columns(
            "rpt_patient_volume"
        )
        warehouse.refresh_materialized("rpt_patient_volume", "t1", AT)
        assert copy("t1") == warehouse.query("rpt_patient_volume", {"tenant_id": "t1"})
        assert [r["scans"] for r in copy("t1")] == [1]
        assert copy("t2") == []  # another tenant's copy is its own refresh
        [logged] = warehouse.query("report_refresh", {"tenant_id": "t1"})
        assert (logged["report"], logged["facts_version"], logged["refreshed_at"]) == (
            "rpt_patient_volume",
            3,
            AT,
        )
        # A second scan: the copy is replaced, not appended to; the log moves with it.
        put_scan("t1", "a2", date(2026, 1, 7), 2)
        assert warehouse.facts_version("t1") == 5
        warehouse.refresh_materialized("rpt_patient_volume", "t1", AT)
        assert [(r["scans"], r["patients"]) for r in copy("t1")] == [(2, 1)]
        [logged] = warehouse.query("report_refresh", {"tenant_id": "t1"})
        assert logged["facts_version"] == 5
        warehouse.refresh_materialized("rpt_patient_volume", "t2", AT)
        assert [r["scans"] for r in copy("t2")] == [1]
        assert [r["scans"] for r in copy("t1")] == [2]
