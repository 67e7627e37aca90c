"""Snapshot e-mails end to end: a schedule set through the HTTP command handler, a
small clinic week sent through the real pipeline, and the job mailing a real SMTP
server on loopback (aiosmtpd). All data synthetic.

The week of Monday 2025-09-01 (ISO 2025-W36), branch-1 in Pune (INR), prices
MRI-BRAIN 850_000, CT-CHEST 450_000, XR-CHEST 60_000:

- a1 MRI-BRAIN on 09-02, paid 850_000 in cash at the desk;
- a2 CT-CHEST on 09-03, invoiced to an insurer 450_000, 300_000 captured by UPI on 09-05;
- a3 XR-CHEST on 09-04, a no-show;
- a0 XR-CHEST on 2025-08-20, paid 60_000 in cash: before the window (and its month).

By hand: patient volume (September so far): 2 scans, 2 new patients, 1 no-show, no
cancellation; revenue breakdown: billed INR 13,000.00 (8,500 + 4,500), paid INR
11,500.00 (8,500 + 3,000), outstanding INR 1,500.00; payments by mode: 2 payments,
INR 11,500.00 collected, no deposit (INR 0.00).
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image

from mymedic.app.snapshots import handle_snapshots_job
from mymedic.bootstrap import Platform
from mymedic.notify.mailer import SmtpMailer
from mymedic.reports import export
from mymedic.reports.catalog import report, run
from mymedic.reports.people import for_people
from mymedic.reports.snapshot import render_snapshot_pdf
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking
from tests.smtp_server import LoopbackSmtpServer

REPORTS = ["patient-volume", "revenue-breakdown", "payments-by-mode"]
RECIPIENTS = ["manager@clinic.example", "finance@clinic.example"]
RUN_DAY = "2025-09-08"  # a Monday: the weekly schedule sends 2025-W36
WEEK = (date(2025, 9, 1), date(2025, 9, 7))
MODALITY = {"MRI-BRAIN": "MRI", "CT-CHEST": "CT", "XR-CHEST": "XRAY"}


class Clinic:
    def __init__(self) -> None:
        self.client = create_server().test_client()

    def post(self, name: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))

    def send(self, name: str, **body: Any) -> None:
        body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
        if "occurred_at" in body:
            body["occurred_at"] += "+05:30"
        response = self.post(name, body)
        assert response.status_code == 201, (name, response.get_json())

    def book(self, apt: str, procedure: str, clinician: str, start: str, booked: str) -> None:
        body = booking(
            apt,
            patient_id=f"pat-{apt}",
            clinician_id=clinician,
            room_id=clinician.replace("clin", "room"),
            modality=MODALITY[procedure],
            procedure_code=procedure,
            start_at=f"{start}+05:30",
            occurred_at=booked,
        )
        del body["duration_minutes"]
        self.send("book_appointment", **body)

    def act(self, apt: str, command: str, at: str, **extra: Any) -> None:
        self.send(command, appointment_id=apt, occurred_at=at, **extra)


def schedule(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": TENANT,
        "snapshot_id": "weekly-ops",
        "reports": REPORTS,
        "frequency": "weekly",
        "formats": ["csv", "xlsx"],
        "recipients": RECIPIENTS,
    }
    return body | overrides


def _week(platform: Platform) -> Clinic:
    clinic = Clinic()
    cash = {"currency": "INR", "mode": "cash", "provider": "cash", "kind": "payment"}
    clinic.book("a0", "XR-CHEST", "clin-1", "2025-08-20T10:00:00", "2025-08-18T10:00:00")
    clinic.act("a0", "complete_appointment", "2025-08-20T10:30:00")
    clinic.act(
        "a0", "take_payment", "2025-08-20T10:35:00", payment_id="p0", amount_minor=60_000, **cash
    )
    clinic.book("a1", "MRI-BRAIN", "clin-1", "2025-09-02T10:00:00", "2025-08-25T10:00:00")
    clinic.act("a1", "complete_appointment", "2025-09-02T11:00:00")
    clinic.act(
        "a1", "take_payment", "2025-09-02T11:05:00", payment_id="p1", amount_minor=850_000, **cash
    )
    clinic.book("a2", "CT-CHEST", "clin-2", "2025-09-03T11:00:00", "2025-09-01T09:00:00")
    clinic.act("a2", "complete_appointment", "2025-09-03T11:40:00")
    clinic.send(
        "issue_invoice",
        invoice_id="inv-a2",
        appointment_id="a2",
        patient_id="pat-a2",
        payer_type="insurer",
        amount_minor=450_000,
        currency="INR",
        due_on="2025-09-03",
        occurred_at="2025-09-03T12:00:00",
    )
    clinic.send(
        "capture_payment",
        invoice_id="inv-a2",
        payment_id="p2",
        amount_minor=300_000,
        currency="INR",
        mode="upi",
        provider="razorpay",
        occurred_at="2025-09-05T10:00:00",
    )
    clinic.book("a3", "XR-CHEST", "clin-1", "2025-09-04T15:00:00", "2025-09-01T09:30:00")
    clinic.act("a3", "mark_no_show", "2025-09-04T16:00:00")
    return clinic


@pytest.fixture
def clinic(platform: Platform) -> Clinic:
    clinic = _week(platform)
    response = clinic.post("set_snapshot_schedule", schedule())
    assert response.status_code == 201, response.get_json()
    return clinic


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer() as server:
        yield server


def mailer(server: LoopbackSmtpServer) -> SmtpMailer:
    return SmtpMailer(
        server.host,
        server.port,
        sender="reports@mymedic.example",
        starttls=False,
        attempts=3,
        sleep=lambda _: None,
    )


def run_job(platform: Platform, server: LoopbackSmtpServer, day: str = RUN_DAY) -> Any:
    return handle_snapshots_job(platform, {"date": day}.get, mailer=mailer(server))


def attachment(message: EmailMessage, filename: str) -> Any:
    found = {part.get_filename(): part for part in message.iter_attachments()}
    assert filename in found, sorted(f for f in found if f)
    return found[filename].get_content()


def test_a_due_schedule_is_mailed_with_figures_charts_and_attachments(
    clinic: Clinic, platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    response = run_job(platform, smtp)
    assert response.status == 200, response.body
    ref = {"tenant_id": TENANT, "snapshot_id": "weekly-ops", "window": "2025-W36"}
    assert response.body["sent"] == [ref]
    [message] = smtp.messages
    assert message["Subject"] == (f"MyMedic snapshot {TENANT}: 2025-W36 (2025-09-01 to 2025-09-07)")
    assert sorted(smtp.envelopes[0][1]) == sorted(RECIPIENTS)

    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    html = html_part.get_content()
    for label, value in [
        ("Scans", "2"),
        ("New patients", "2"),
        ("No-shows", "1"),
        ("Cancellations", "0"),
        ("Billed", "INR 13,000.00"),
        ("Paid", "INR 11,500.00"),
        ("Outstanding", "INR 1,500.00"),
        ("Payments", "2"),
        ("Collected", "INR 11,500.00"),
        ("Of which deposits", "INR 0.00"),
    ]:
        assert f'<td>{label}</td><td style="text-align: right;"><b>{value}</b></td>' in html
        assert f"  {label}: {value}" in text_part.get_content().splitlines()

    related = [part for part in message.walk() if part.get_content_type() == "multipart/related"]
    assert len(related) == 1
    images = [p for p in related[0].iter_parts() if p.get_content_type() == "image/png"]
    cids = [str(image["Content-ID"]).strip("<>") for image in images]
    assert len(cids) == len(REPORTS)
    for cid, image in zip(cids, images, strict=True):
        assert f'src="cid:{cid}"' in html
        assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    pdf = attachment(message, "snapshot-weekly-ops-2025-W36.pdf")
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 10_000

    for name in REPORTS:
        spec = report(name)
        columns, rows = run(platform.warehouse, spec, TENANT, *WEEK)
        assert rows, name
        table = for_people(spec.view, columns, rows)
        text = attachment(message, f"{name}-2025-W36.csv")
        received = list(csv.DictReader(io.StringIO(text)))
        expected = [
            {c: "" if v is None else str(export._plain(v)) for c, v in r.items()}
            for r in table.rows
        ]
        assert received == expected
        assert not [c for c in received[0] if c.endswith("_minor")]
        book = load_workbook(io.BytesIO(attachment(message, f"{name}-2025-W36.xlsx")))
        sheet = book.active
        assert sheet is not None
        assert [cell.value for cell in sheet[1]] == table.columns
        assert sheet.max_row == len(rows) + 1

    [sent] = platform.store.read_stream(TENANT, "snapshot:weekly-ops:2025-W36")
    assert sent.event_type == "snapshot.sent" and sent.stream_version == 1
    assert sent.payload["recipients"] == 2
    assert sent.payload["attachments"][0] == "snapshot-weekly-ops-2025-W36.pdf"
    assert len(sent.payload["attachments"]) == 1 + 2 * len(REPORTS)


def test_attachments_and_pdf_tables_show_money_in_major_units(
    clinic: Clinic, platform: Platform, smtp: LoopbackSmtpServer, tmp_path: Path
) -> None:
    assert run_job(platform, smtp).status == 200
    [message] = smtp.messages
    # The money by hand (see the module docstring), in major units beside the currency.
    revenue = list(
        csv.DictReader(io.StringIO(attachment(message, "revenue-breakdown-2025-W36.csv")))
    )
    assert {row["currency"] for row in revenue} == {"INR"}
    assert sum(Decimal(row["billed"]) for row in revenue) == Decimal("13000.00")
    assert sorted(row["paid"] for row in revenue) == ["3000.00", "8500.00"]
    assert sorted(row["outstanding"] for row in revenue) == ["0.00", "1500.00"]
    sheet = load_workbook(io.BytesIO(attachment(message, "revenue-breakdown-2025-W36.xlsx"))).active
    assert sheet is not None
    paid = [c.value for c in sheet[1]].index("paid")
    cells = [row[paid] for row in sheet.iter_rows(min_row=2)]
    assert sorted(Decimal(str(c.value)) for c in cells) == [3000, 8500]
    assert {c.number_format for c in cells} == {"#,##0.00"}
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is missing: install poppler-utils (apt-get install poppler-utils)")
    (tmp_path / "snapshot.pdf").write_bytes(attachment(message, "snapshot-weekly-ops-2025-W36.pdf"))
    subprocess.run([pdftotext, "-layout", "snapshot.pdf"], cwd=tmp_path, check=True, timeout=60)
    text = (tmp_path / "snapshot.txt").read_text()
    assert "8,500.00" in text and "3,000.00" in text and "1,500.00" in text
    assert "minor" not in text and "850,000" not in text


def test_the_pdf_is_a_real_document_and_the_same_inputs_give_the_same_bytes(
    clinic: Clinic, platform: Platform, tmp_path: Path
) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.fail("pdftoppm is missing: install poppler-utils (apt-get install poppler-utils)")
    platform.catch_up()
    pdf = render_snapshot_pdf(platform.warehouse, TENANT, REPORTS, *WEEK)
    assert pdf == render_snapshot_pdf(platform.warehouse, TENANT, REPORTS, *WEEK)
    (tmp_path / "snapshot.pdf").write_bytes(pdf)
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "2", "snapshot.pdf", "page"],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert [p.name for p in pages] == ["page-1.png", "page-2.png"]
    for page in pages:
        assert page.stat().st_size > 2_000
        with Image.open(page) as image:
            # Landscape A4 at 50 dpi: about 585 x 413 pixels.
            assert image.width > image.height > 350
            grey = image.convert("L")
            inked = sum(grey.histogram()[:128])
        assert inked > 500, f"{page.name} is blank"


def test_the_same_window_is_sent_once(
    clinic: Clinic, platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    assert run_job(platform, smtp).status == 200
    again = run_job(platform, smtp)
    assert again.status == 200
    assert again.body["sent"] == []
    assert [r["window"] for r in again.body["already_sent"]] == ["2025-W36"]
    assert len(smtp.messages) == 1
    assert len(platform.store.read_stream(TENANT, "snapshot:weekly-ops:2025-W36")) == 1


def test_a_refusing_relay_is_reported_and_a_later_run_sends(
    clinic: Clinic, platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    smtp.refuse_next(3)  # as many as the mailer's attempts
    failed = run_job(platform, smtp)
    assert failed.status == 502
    assert failed.body["error"] == "delivery_failed"
    [failure] = failed.body["failed"]
    assert failure["snapshot_id"] == "weekly-ops" and "after 3 attempts" in failure["reason"]
    assert smtp.messages == []
    assert platform.store.read_stream(TENANT, "snapshot:weekly-ops:2025-W36") == []
    [recorded] = platform.store.read_stream(TENANT, "snapshot_failure:weekly-ops:2025-W36")
    assert recorded.event_type == "snapshot.delivery_failed"
    assert set(recorded.payload) == {"snapshot_id", "window", "reason"}

    retried = run_job(platform, smtp)
    assert retried.status == 200, retried.body
    assert len(smtp.messages) == 1
    assert len(platform.store.read_stream(TENANT, "snapshot:weekly-ops:2025-W36")) == 1


def test_a_temporary_refusal_within_the_retries_still_sends(
    clinic: Clinic, platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    smtp.refuse_next(2)
    assert run_job(platform, smtp).status == 200
    assert len(smtp.messages) == 1


@pytest.mark.parametrize(
    ("frequency", "day", "window"),
    [
        ("daily", "2025-09-05", "2025-09-04"),
        ("weekly", "2025-09-09", None),  # a Tuesday
        ("monthly", "2025-09-08", None),
        ("monthly", "2025-10-01", "2025-09"),
    ],
)
def test_a_schedule_sends_only_on_its_days(
    platform: Platform,
    smtp: LoopbackSmtpServer,
    frequency: str,
    day: str,
    window: str | None,
) -> None:
    response = Clinic().post("set_snapshot_schedule", schedule(frequency=frequency, formats=[]))
    assert response.status_code == 201
    result = run_job(platform, smtp, day)
    assert result.status == 200
    assert [r["window"] for r in result.body["sent"]] == ([window] if window else [])
    if window:
        [message] = smtp.messages
        assert [p.get_filename() for p in message.iter_attachments()] == [
            f"snapshot-weekly-ops-{window}.pdf"
        ]


def test_disabled_and_removed_schedules_send_nothing(
    clinic: Clinic, platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    response = clinic.post("set_snapshot_schedule", schedule(enabled=False))
    assert response.status_code == 201
    assert run_job(platform, smtp).body["sent"] == []
    clinic.post("set_snapshot_schedule", schedule())
    removed = clinic.post(
        "remove_snapshot_schedule", {"tenant_id": TENANT, "snapshot_id": "weekly-ops"}
    )
    assert removed.status_code == 201, removed.get_json()
    assert run_job(platform, smtp).body["sent"] == []
    assert smtp.messages == []
    again = clinic.post(
        "remove_snapshot_schedule", {"tenant_id": TENANT, "snapshot_id": "weekly-ops"}
    )
    assert again.status_code == 404


def test_without_smtp_settings_the_job_answers_503(clinic: Clinic, platform: Platform) -> None:
    response = handle_snapshots_job(platform, {"date": RUN_DAY}.get)
    assert response.status == 503
    assert response.body["error"] == "not_configured"
    assert platform.store.read_stream(TENANT, "snapshot:weekly-ops:2025-W36") == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reports": ["patient-volume", "profit-forecast"]}, "reports.1"),
        ({"reports": []}, "reports"),
        ({"reports": REPORTS * 3}, "reports"),
        ({"formats": ["pdf"]}, "formats.0"),
        ({"frequency": "hourly"}, "frequency"),
        ({"recipients": ["not-an-address"]}, "recipients.0"),
        ({"branches": ["*", BRANCH]}, "(body)"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(
    platform: Platform, overrides: dict[str, Any], field: str
) -> None:
    response = Clinic().post("set_snapshot_schedule", schedule(**overrides))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert field in [f["field"] for f in body["fields"]]
    if field == "reports.1":
        assert "profit-forecast" in str(body["fields"])


def test_only_an_admin_for_every_branch_sets_a_schedule(platform: Platform) -> None:
    client = create_server().test_client()
    for headers in (
        bearer(TENANT, role="staff", branches=frozenset({BRANCH})),
        bearer(TENANT, role="admin", branches=frozenset({BRANCH})),
    ):
        response = client.post("/commands/set_snapshot_schedule", json=schedule(), headers=headers)
        assert response.status_code == 403, response.get_json()
