"""Each alert rule against small hand-made figures: fires, and does not fire, at the
threshold's edge. Window: the 7 days 2026-03-03 to 2026-03-09 unless said."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from mymedic.domain.alert_rules import AlertRule, AnyRule
from mymedic.domain.alerts import (
    Figures,
    NoShowDay,
    NpsDay,
    QuarantinedRecord,
    ReceivableMovement,
    UtilizationDay,
    evaluate,
    window,
)

END = date(2026, 3, 9)
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
RULE: TypeAdapter[AnyRule] = TypeAdapter(AlertRule)


def rule(metric: str, **parameters: Any) -> AnyRule:
    base = {"rule_id": "r1", "branches": ["*"], "recipients": ["ops@clinic.example"]}
    return RULE.validate_python({**base, "metric": metric, **parameters})


def day(n: int) -> date:
    return date(2026, 3, n)


def test_windows_end_on_the_day_and_go_back_whole() -> None:
    assert window(7, END) == (date(2026, 3, 3), END)
    assert window(7, END, back=1) == (date(2026, 2, 24), date(2026, 3, 2))
    assert window(1, END, back=2) == (date(2026, 3, 7), date(2026, 3, 7))


def test_low_utilization_sums_minutes_over_the_window() -> None:
    # c1: 100 + 0 + 50 booked of 3 x 480 = 1440: 10.4%. c2: 200 of 480 = 41.7%. A day
    # outside the window (03-02) and a room do not count.
    days = (
        UtilizationDay("b1", "clinician", "c1", day(3), 480, 100),
        UtilizationDay("b1", "clinician", "c1", day(4), 480, 0),
        UtilizationDay("b1", "clinician", "c1", day(9), 480, 50),
        UtilizationDay("b1", "clinician", "c1", day(2), 480, 480),
        UtilizationDay("b1", "clinician", "c2", day(5), 480, 200),
        UtilizationDay("b1", "room", "r1", day(5), 600, 0),
    )
    figures = Figures(utilization=days)
    [fired] = evaluate(
        rule("low_utilization", subject="clinician", below_percent=20), END, figures, NOW
    )
    assert (fired.branch_id, fired.subject) == ("b1", "clinician:c1")
    assert fired.figures["booked_minutes"] == 150
    assert fired.figures["available_minutes"] == 1440
    assert fired.figures["utilization_percent"] == 10.4
    assert (fired.window_start, fired.window_end) == (date(2026, 3, 3), END)
    # 150 / 1440 = 10.42%: not below 10.
    assert (
        evaluate(rule("low_utilization", subject="clinician", below_percent=10), END, figures, NOW)
        == []
    )
    [room] = evaluate(rule("low_utilization", subject="room", below_percent=1), END, figures, NOW)
    assert room.subject == "room:r1" and room.figures["utilization_percent"] == 0
    scoped = rule("low_utilization", subject="clinician", below_percent=50, branches=["b2"])
    assert evaluate(scoped, END, figures, NOW) == []


def test_receivables_aging_counts_balances_past_the_cut_off() -> None:
    # i1: 1000 due 02-01 (36 days past due on 03-09), 300 paid: 700 owed. i2: 500 due
    # 02-10 (27 days): not past 30. i3: paid in full. i4: paid after the day, still owed
    # as of it: 400. i5: another currency.
    movements = (
        ReceivableMovement("b1", "INR", "i1", date(2026, 2, 1), date(2026, 1, 20), 1000),
        ReceivableMovement("b1", "INR", "i1", date(2026, 2, 1), date(2026, 2, 15), -300),
        ReceivableMovement("b1", "INR", "i2", date(2026, 2, 10), date(2026, 2, 1), 500),
        ReceivableMovement("b1", "INR", "i3", date(2026, 1, 5), date(2026, 1, 1), 900),
        ReceivableMovement("b1", "INR", "i3", date(2026, 1, 5), date(2026, 1, 5), -900),
        ReceivableMovement("b1", "INR", "i4", date(2026, 1, 5), date(2026, 1, 1), 400),
        ReceivableMovement("b1", "INR", "i4", date(2026, 1, 5), date(2026, 3, 10), -400),
        ReceivableMovement("b1", "USD", "i5", date(2026, 1, 5), date(2026, 1, 1), 9000),
    )
    figures = Figures(receivables=movements)
    fires = rule("receivables_aging", over_days=30, above_minor=1099, currency="INR")
    [fired] = evaluate(fires, END, figures, NOW)
    assert (fired.figures["outstanding_minor"], fired.figures["invoices"]) == (1100, 2)
    assert "INR 11.00 on 2 invoice(s)" in fired.reason
    quiet = rule("receivables_aging", over_days=30, above_minor=1100, currency="INR")
    assert evaluate(quiet, END, figures, NOW) == []
    # Over 36 days: only i4 (63 days) is left.
    [older] = evaluate(
        rule("receivables_aging", over_days=36, above_minor=0, currency="INR"), END, figures, NOW
    )
    assert older.figures["outstanding_minor"] == 400


def test_nps_drop_compares_with_the_window_before() -> None:
    # Before: 4 promoters, 1 detractor of 5 = 60. Now: 2 promoters, 2 detractors of 5
    # = 0. Down 60.
    days = (
        NpsDay("b1", date(2026, 2, 25), 5, 4, 1),
        NpsDay("b1", day(4), 3, 1, 1),
        NpsDay("b1", day(8), 2, 1, 1),
    )
    figures = Figures(nps=days)
    [fired] = evaluate(rule("nps_drop", drop_points=60, min_responses=5), END, figures, NOW)
    assert (fired.figures["nps"], fired.figures["previous_nps"]) == (0, 60)
    assert evaluate(rule("nps_drop", drop_points=61, min_responses=5), END, figures, NOW) == []
    # Too few responses in the window to say anything.
    assert evaluate(rule("nps_drop", drop_points=1, min_responses=6), END, figures, NOW) == []
    [below] = evaluate(rule("nps_drop", below_nps=1, min_responses=5), END, figures, NOW)
    assert "below 1" in below.reason
    assert evaluate(rule("nps_drop", below_nps=0, min_responses=5), END, figures, NOW) == []


def test_no_show_spike_by_rate_and_against_the_baseline() -> None:
    # Window: 3 of 12 = 25%. The 2 windows before (02-17 to 03-02): 2 of 20 = 10%.
    days = (
        NoShowDay("b1", day(3), 6, 2),
        NoShowDay("b1", day(9), 6, 1),
        NoShowDay("b1", date(2026, 2, 18), 10, 1),
        NoShowDay("b1", date(2026, 3, 2), 10, 1),
        NoShowDay("b1", date(2026, 2, 16), 50, 0),  # three windows back: not in the baseline
    )
    figures = Figures(no_shows=days)
    [fired] = evaluate(
        rule("no_show_spike", rate_above_percent=24.9, min_appointments=12), END, figures, NOW
    )
    assert (fired.figures["no_show_percent"], fired.figures["appointments"]) == (25, 12)
    assert (
        evaluate(
            rule("no_show_spike", rate_above_percent=25, min_appointments=12), END, figures, NOW
        )
        == []
    )
    assert (
        evaluate(
            rule("no_show_spike", rate_above_percent=1, min_appointments=13), END, figures, NOW
        )
        == []
    )
    spike = rule("no_show_spike", vs_baseline_factor=2.4, baseline_windows=2, min_appointments=10)
    [vs] = evaluate(spike, END, figures, NOW)
    assert (vs.figures["baseline_percent"], vs.figures["baseline_appointments"]) == (10, 20)
    flat = rule("no_show_spike", vs_baseline_factor=2.5, baseline_windows=2, min_appointments=10)
    assert evaluate(flat, END, figures, NOW) == []


def test_stale_data_as_of_the_end_of_the_window_day() -> None:
    seen = {"stripe": datetime(2026, 3, 9, 0, 0, tzinfo=UTC)}
    figures = Figures(last_seen=seen)
    # As of 03-10 00:00 UTC: 24 h of silence, not more than 24.
    assert evaluate(rule("stale_data", source="stripe", hours=24), END, figures, NOW) == []
    [fired] = evaluate(rule("stale_data", source="stripe", hours=23), END, figures, NOW)
    assert (fired.branch_id, fired.subject, fired.figures["silent_hours"]) == (
        "*",
        "source:stripe",
        24,
    )
    # A job run earlier than the end of the day looks as of its own time.
    early = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    assert evaluate(rule("stale_data", source="stripe", hours=20), END, figures, early) == []
    [never] = evaluate(rule("stale_data", source="zoho", hours=720), END, figures, NOW)
    assert never.figures["last_recorded_at"] is None and "ever" in never.reason


def test_data_quality_counts_records_unresolved_at_the_end_of_the_day() -> None:
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    # As of 03-10 00:00 UTC: Contacts c1 (never resolved) and c2 (resolved only on the
    # 10th) count, and Deals d1; d2 was resolved at 21:00 on the 9th and d3 quarantined
    # on the 10th. 3 records: Contacts 2, Deals 1.
    records = (
        QuarantinedRecord("zoho", "Contacts", at(1, 10), None),
        QuarantinedRecord("zoho", "Contacts", at(5, 10), at(10, 3)),
        QuarantinedRecord("zoho", "Deals", at(8, 10), None),
        QuarantinedRecord("zoho", "Deals", at(2, 10), at(9, 21)),
        QuarantinedRecord("zoho", "Deals", at(10, 1), None),
    )
    figures = Figures(quarantined=records)
    [fired] = evaluate(rule("data_quality", source="zoho", above_count=2), END, figures, NOW)
    assert (fired.branch_id, fired.subject) == ("*", "quarantine:zoho")
    assert (fired.window_start, fired.window_end) == (END, END)
    assert fired.figures == {"unresolved": 3, "modules": "Contacts 2, Deals 1", "above_count": 2}
    assert "3 zoho records" in fired.reason and "more than 2" in fired.reason
    assert evaluate(rule("data_quality", source="zoho", above_count=3), END, figures, NOW) == []
    # A job run at 20:00 on the 9th looks as of then: d2 is not resolved yet, 4 records.
    early = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    [then] = evaluate(rule("data_quality", source="zoho", above_count=3), END, figures, early)
    assert then.figures["unresolved"] == 4 and then.figures["modules"] == "Contacts 2, Deals 2"
    assert evaluate(rule("data_quality", source="zoho", above_count=0), END, Figures(), NOW) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"metric": "nps_drop"},  # no threshold
        {"metric": "no_show_spike", "vs_baseline_factor": 1},  # not above 1
        {"metric": "low_utilization", "subject": "desk", "below_percent": 5},
        {"metric": "stale_data", "source": "stripe", "hours": 721},
        {"metric": "stale_data", "source": "stripe", "hours": 1, "branches": ["*", "b1"]},
        {"metric": "stale_data", "source": "stripe", "hours": 1, "window_days": 7},
        {"metric": "data_quality", "source": "stripe", "above_count": 1},  # quarantines nothing
        {"metric": "data_quality", "source": "zoho", "above_count": -1},
        {"metric": "data_quality", "source": "zoho", "above_count": 1, "window_days": 7},
    ],
)
def test_a_bad_rule_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        rule(**bad)
