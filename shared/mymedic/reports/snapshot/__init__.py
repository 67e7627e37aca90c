"""Report snapshots: key figures, charts and tables of chosen reports for a window, as
a PDF and an e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from mymedic.ports import Warehouse
from mymedic.reports.snapshot.collect import EVERY_BRANCH, Snapshot, collect
from mymedic.reports.snapshot.pdf import snapshot_pdf
from mymedic.reports.snapshot.window import Window, due_window, interval

__all__ = [
    "EVERY_BRANCH",
    "Snapshot",
    "Window",
    "collect",
    "due_window",
    "render_snapshot_pdf",
    "snapshot_pdf",
]


def render_snapshot_pdf(
    warehouse: Warehouse, tenant: str, report_names: Sequence[str], start: date, end: date
) -> bytes:
    """The PDF of these reports for one tenant, every branch, ``start`` to ``end``."""
    return snapshot_pdf(collect(warehouse, tenant, report_names, interval(start, end)))
