"""Time series, bar and pie charts drawn by matplotlib as inline SVG, one panel per
currency when the chart is of money (amounts of two currencies never share an axis)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mymedic.dashboards.aggregate import Line, Number, key_text
from mymedic.dashboards.model import Chart

WIDTH_IN, PANEL_IN = 6.4, 3.0
# rc_context sets matplotlib's global settings: one drawing at a time (``mymedic serve``
# answers requests on several threads), or one chart's salt would reach another's ids.
_RC_LOCK = threading.Lock()


def chart_svg(chart: Chart, lines: list[Line], salt: str) -> str:
    """``salt`` keeps the ids inside each SVG (clip paths) unique in the page."""
    panels = _panels(chart, lines)
    # Fixed margins: a constrained layout would double the drawing time.
    figure = Figure(figsize=(WIDTH_IN, PANEL_IN * max(len(panels), 1)))
    figure.subplots_adjust(
        left=_left_margin(chart, lines), right=0.97, top=0.93, bottom=0.16, hspace=0.45
    )
    if not panels:
        axes = figure.add_subplot()
        axes.set_axis_off()
        axes.text(0.5, 0.5, "No data", ha="center", va="center", fontsize=14, color="#666")
    draw = _DRAW[chart.type]
    for index, (currency, members) in enumerate(panels, start=1):
        axes = figure.add_subplot(len(panels), 1, index)
        draw(axes, chart, members)
        if currency is None:
            continue
        if chart.type == "timeseries":
            axes.set_ylabel(currency)
        elif chart.type == "bar":
            axes.set_xlabel(currency)
        else:
            axes.set_title(currency, fontsize=9)
    buffer = io.StringIO()
    with _RC_LOCK, matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _left_margin(chart: Chart, lines: list[Line]) -> float:
    """Room for the longest bar label (8 pt text: about 4.5 pt a character), or the axis."""
    if chart.type != "bar":
        return 0.12
    longest = max((len(key_text(line.keys[0])) for line in lines), default=0)
    return min(0.45, (longest * 4.5 + 24) / (WIDTH_IN * 72))


def _panels(chart: Chart, lines: list[Line]) -> list[tuple[str | None, list[Line]]]:
    if chart.currency_column is None:
        return [(None, lines)] if lines else []
    by_currency: dict[str, list[Line]] = {}
    for line in lines:
        if line.currency is not None:
            by_currency.setdefault(line.currency, []).append(line)
    return sorted(by_currency.items())


def _plotted(chart: Chart, index: int, value: Number | None) -> float:
    """A drawing coordinate: only the axis sees floats, never the amounts' arithmetic."""
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    return float(value) * (100 if chart.metrics[index].percent else 1)


def _series(chart: Chart, lines: list[Line]) -> dict[str, list[tuple[Any, float]]]:
    """Points per series: one per breakdown value, or else one per metric."""
    series: dict[str, list[tuple[Any, float]]] = {}
    if len(chart.dimensions) == 2:
        for line in lines:
            name = key_text(line.keys[1])
            series.setdefault(name, []).append((line.keys[0], _plotted(chart, 0, line.values[0])))
        return series
    for index, metric in enumerate(chart.metrics):
        series[metric.title] = [
            (line.keys[0], _plotted(chart, index, line.values[index])) for line in lines
        ]
    return series


def _timeseries(axes: Axes, chart: Chart, lines: list[Line]) -> None:
    for name, points in _series(chart, lines).items():
        axes.plot([x for x, _ in points], [y for _, y in points], marker="o", ms=3, label=name)
    axes.grid(alpha=0.3)
    axes.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes.legend(fontsize=7, loc="best")


def _bar(axes: Axes, chart: Chart, lines: list[Line]) -> None:
    series = _series(chart, lines)
    categories = list(dict.fromkeys(key_text(line.keys[0]) for line in lines))
    position = {name: i for i, name in enumerate(categories)}
    height = 0.8 / max(len(series), 1)
    for offset, (name, points) in enumerate(series.items()):
        ys = [position[key_text(x)] - 0.4 + height * (offset + 0.5) for x, _ in points]
        axes.barh(ys, [value for _, value in points], height=height, label=name)
    axes.set_yticks(range(len(categories)), categories, fontsize=8)
    axes.invert_yaxis()
    axes.grid(axis="x", alpha=0.3)
    if len(series) > 1:
        axes.legend(fontsize=7, loc="best")


def _pie(axes: Axes, chart: Chart, lines: list[Line]) -> None:
    slices = [(key_text(line.keys[0]), _plotted(chart, 0, line.values[0])) for line in lines]
    slices = [(name, value) for name, value in slices if value > 0]
    if not slices:
        axes.set_axis_off()
        axes.text(0.5, 0.5, "Nothing above zero", ha="center", va="center", color="#666")
        return
    axes.pie(
        [value for _, value in slices],
        labels=[name for name, _ in slices],
        autopct="%1.0f%%",
        textprops={"fontsize": 8},
    )
    axes.set_aspect("equal")


_DRAW: dict[str, Callable[[Axes, Chart, list[Line]], None]] = {
    "timeseries": _timeseries,
    "bar": _bar,
    "pie": _pie,
}
