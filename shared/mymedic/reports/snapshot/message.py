"""The snapshot e-mail: an HTML body with the key figures and each report's chart inline
(multipart/related, by Content-ID), a plain-text alternative, the PDF, and a CSV and/or
XLSX per report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape

from mymedic.reports.export import to_csv, to_xlsx
from mymedic.reports.people import for_people
from mymedic.reports.snapshot.collect import Snapshot

CID_DOMAIN = "snapshot.mymedic"


@dataclass(frozen=True)
class Attachment:
    filename: str
    maintype: str
    subtype: str
    content: bytes


def chart_cid(index: int, report: str) -> str:
    return f"chart-{index}-{report}@{CID_DOMAIN}"


def attachments(
    snapshot: Snapshot, pdf: bytes, name: str, formats: Sequence[str]
) -> list[Attachment]:
    """The PDF first, then per report its CSV and/or XLSX (every row of the window, money
    in major units beside its currency)."""
    key = snapshot.window.key
    found = [Attachment(f"{name}-{key}.pdf", "application", "pdf", pdf)]
    for section in snapshot.sections:
        stem = f"{section.spec.name}-{key}"
        table = for_people(section.spec.view, section.columns, section.rows)
        if "csv" in formats:
            text = to_csv(table)
            found.append(Attachment(f"{stem}.csv", "text", "csv", text.encode()))
        if "xlsx" in formats:
            book = to_xlsx(table, section.spec.name)
            subtype = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            found.append(Attachment(f"{stem}.xlsx", "application", subtype, book))
    return found


def snapshot_message(
    snapshot: Snapshot, recipients: Sequence[str], files: Sequence[Attachment]
) -> EmailMessage:
    message = EmailMessage()
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"MyMedic snapshot {snapshot.tenant}: {snapshot.window.label}"
    message.set_content(_text(snapshot))
    message.add_alternative(_html(snapshot), subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None  # noqa: S101 - added just above
    for index, section in enumerate(snapshot.sections, start=1):
        html_part.add_related(
            section.chart,
            maintype="image",
            subtype="png",
            cid=f"<{chart_cid(index, section.spec.name)}>",
            filename=f"{section.spec.name}.png",
            disposition="inline",
        )
    for file in files:
        message.add_attachment(
            file.content, maintype=file.maintype, subtype=file.subtype, filename=file.filename
        )
    return message


def _text(snapshot: Snapshot) -> str:
    lines = [
        f"MyMedic snapshot for {snapshot.tenant}, {snapshot.window.label} ({snapshot.scope}).",
        "",
    ]
    for section in snapshot.sections:
        lines.append(section.spec.title)
        lines += [f"  {figure.label}: {figure.value}" for figure in section.figures]
        lines.append("")
    lines.append("The attached PDF has each report's chart and table.")
    return "\n".join(lines) + "\n"


def _html(snapshot: Snapshot) -> str:
    parts = [
        '<!DOCTYPE html><html><body style="font-family: Arial, sans-serif; color: #000;">',
        f'<h1 style="font-size: 20px;">MyMedic snapshot: {escape(snapshot.tenant)}</h1>',
        f"<p>{escape(snapshot.window.label)}, {escape(snapshot.scope)}</p>",
    ]
    for index, section in enumerate(snapshot.sections, start=1):
        parts.append(f'<h2 style="font-size: 16px;">{escape(section.spec.title)}</h2>')
        parts.append('<table cellpadding="4" style="border-collapse: collapse;">')
        for figure in section.figures:
            parts.append(
                f"<tr><td>{escape(figure.label)}</td>"
                f'<td style="text-align: right;"><b>{escape(figure.value)}</b></td></tr>'
            )
        parts.append("</table>")
        cid = chart_cid(index, section.spec.name)
        parts.append(f'<p><img src="cid:{cid}" alt="{escape(section.spec.title)}" width="720"></p>')
    parts.append("<p>The attached PDF has each report's chart and table.</p></body></html>")
    return "\n".join(parts)
