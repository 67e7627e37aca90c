"""The snapshot as a landscape A4 PDF (reportlab platypus): a title page with the
tenant, window and key figures, then per report its heading, chart and table. Black
text of at least 8 pt on white, so it reads when printed; long tables repeat their
header row on every page. ``invariant``: the same snapshot gives the same bytes."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from mymedic.reports.people import for_people
from mymedic.reports.snapshot.charts import HEIGHT_INCHES, WIDTH_INCHES
from mymedic.reports.snapshot.collect import ReportSection, Snapshot
from mymedic.reports.snapshot.tables import (
    BOLD,
    FONT,
    FONT_SIZE,
    MAX_PDF_ROWS,
    TablePart,
    table_parts,
)

PAGE = landscape(A4)
MARGIN = 1.5 * cm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN
CHART_WIDTH = 24 * cm

_BASE = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=13, textColor=colors.black)
_TITLE = ParagraphStyle("title", _BASE, fontName=BOLD, fontSize=22, leading=28, spaceAfter=12)
_HEADING = ParagraphStyle("heading", _BASE, fontName=BOLD, fontSize=14, leading=18, spaceAfter=6)
_NOTE = ParagraphStyle("note", _BASE, fontSize=FONT_SIZE + 1, leading=11)
_CELL = ParagraphStyle("cell", _BASE, fontSize=FONT_SIZE, leading=FONT_SIZE + 1.5)
_HEAD = ParagraphStyle("head", _CELL, fontName=BOLD)


def snapshot_pdf(snapshot: Snapshot) -> bytes:
    buffer = io.BytesIO()
    title = f"MyMedic snapshot {snapshot.tenant} {snapshot.window.label}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="MyMedic",
        invariant=1,
    )
    story = _title_page(snapshot)
    for section in snapshot.sections:
        story += [PageBreak(), *_section(section)]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, FONT_SIZE)
        canvas.setFillColor(colors.black)
        canvas.drawString(MARGIN, MARGIN / 2, title)
        canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, f"page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _title_page(snapshot: Snapshot) -> list[Flowable]:
    story: list[Flowable] = [
        Paragraph("MyMedic report snapshot", _TITLE),
        Paragraph(f"Tenant: <b>{escape(snapshot.tenant)}</b>", _BASE),
        Paragraph(f"Window: <b>{escape(snapshot.window.label)}</b>", _BASE),
        Paragraph(f"Scope: {escape(snapshot.scope)}", _BASE),
        Spacer(1, 0.6 * cm),
    ]
    rows: list[list[Any]] = [
        [Paragraph("Report", _HEAD), Paragraph("Figure", _HEAD), Paragraph("Value", _HEAD)]
    ]
    for section in snapshot.sections:
        for number, figure in enumerate(section.figures):
            rows.append(
                [
                    Paragraph(escape(section.spec.title) if number == 0 else "", _CELL),
                    Paragraph(escape(figure.label), _CELL),
                    Paragraph(escape(figure.value), _CELL),
                ]
            )
    table = Table(
        rows, colWidths=[FRAME_WIDTH * 0.5, FRAME_WIDTH * 0.3, FRAME_WIDTH * 0.2], repeatRows=1
    )
    table.setStyle(_table_style(right_aligned=[]))
    story.append(table)
    return story


def _section(section: ReportSection) -> list[Flowable]:
    height = CHART_WIDTH * HEIGHT_INCHES / WIDTH_INCHES
    figures = "; ".join(f"{f.label}: <b>{escape(f.value)}</b>" for f in section.figures)
    story: list[Flowable] = [
        Paragraph(escape(section.spec.title), _HEADING),
        Paragraph(figures, _NOTE),
        Spacer(1, 0.3 * cm),
        Image(io.BytesIO(section.chart), width=CHART_WIDTH, height=height),
        Spacer(1, 0.4 * cm),
    ]
    notes = []
    if not section.by_branch:
        notes.append("This report is not by branch: it covers the whole tenant.")
    if len(section.rows) > MAX_PDF_ROWS:
        notes.append(
            f"The first {MAX_PDF_ROWS} of {len(section.rows)} rows; the CSV or XLSX "
            "attachment holds all of them."
        )
    if not section.rows:
        notes.append("No rows in this window.")
    story += [Paragraph(escape(note), _NOTE) for note in notes]
    table = for_people(section.spec.view, section.columns, section.rows)
    parts = table_parts(table, FRAME_WIDTH)
    for number, part in enumerate(parts, start=1):
        if len(parts) > 1:
            caption = Paragraph(f"Columns, part {number} of {len(parts)}", _NOTE)
            story.append(KeepTogether([Spacer(1, 0.3 * cm), caption]))
        story.append(_table(part))
    return story


def _table(part: TablePart) -> Table:
    data: list[list[Any]] = [[Paragraph(escape(h), _HEAD) for h in part.headers]]
    for cells in part.cells:
        data.append(
            [
                text if numeric else Paragraph(escape(text), _CELL)
                for text, numeric in zip(cells, part.numeric, strict=True)
            ]
        )
    table = Table(data, colWidths=part.widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(_table_style([i for i, numeric in enumerate(part.numeric) if numeric]))
    return table


def _table_style(right_aligned: list[int]) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, FONT_SIZE),
        ("TEXTCOLOR", (0, 0), (-1, -1), colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9d9d9")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in right_aligned]
    return TableStyle(commands)
