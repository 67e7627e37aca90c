"""Which window a schedule's run on a given day covers, and the window's key.

daily: every day, covering the day before (key ``2026-11-22``); weekly: on Mondays,
covering the previous ISO week, Monday to Sunday (``2026-W47``); monthly: on the 1st,
covering the previous month (``2026-11``). Days are UTC calendar days, as the job's
``date``; the reports' own date columns are branch-local days or weeks/months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Frequency = Literal["daily", "weekly", "monthly"]


@dataclass(frozen=True)
class Window:
    key: str
    start: date
    end: date  # included

    @property
    def label(self) -> str:
        span = f"{self.start.isoformat()} to {self.end.isoformat()}"
        if self.start == self.end:
            return self.start.isoformat()
        return span if self.key == interval(self.start, self.end).key else f"{self.key} ({span})"


def due_window(frequency: Frequency, day: date) -> Window | None:
    """The window a run on ``day`` sends, or None when the schedule is not due then."""
    if frequency == "daily":
        return daily(day - timedelta(days=1))
    if frequency == "weekly":
        return weekly(day - timedelta(days=7)) if day.weekday() == 0 else None
    return monthly(day - timedelta(days=1)) if day.day == 1 else None


def daily(day: date) -> Window:
    return Window(day.isoformat(), day, day)


def weekly(day: date) -> Window:
    """The ISO week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return Window(f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def monthly(day: date) -> Window:
    """The calendar month holding ``day``."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Window(f"{first:%Y-%m}", first, following - timedelta(days=1))


def interval(start: date, end: date) -> Window:
    """Any range (a report run by hand): its key is the ISO 8601 interval."""
    return Window(f"{start.isoformat()}/{end.isoformat()}", start, end)
