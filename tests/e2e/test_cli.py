"""The mymedic command line, as a user runs it."""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from mymedic.cli import app
from tests.conftest import TEST_JWT_SECRET, bearer

runner = CliRunner()


def test_demo_then_report_then_replay(tmp_path: Path) -> None:
    out = tmp_path / "out"
    demo = runner.invoke(app, ["demo", "--out", str(out), "--appointments", "60", "--seed", "2"])
    assert demo.exit_code == 0, demo.output
    assert "Report 1: patient volume" in demo.output
    assert "Reconciliation" in demo.output and "Unmatched items" in demo.output
    closed = orjson.loads((out / "reports" / "reconciliation.json").read_bytes())
    assert closed and {doc["currency"] for doc in closed} == {"INR"}
    assert sum(doc["captured_minor"] for doc in closed) > 0
    csv_path = out / "reports" / "rpt_patient_volume.csv"
    written = csv_path.read_text()
    assert written.startswith("tenant_id,branch_id,modality,month,scans,patients,new_patients")

    data = ["--data-dir", str(out / "data")]
    report = runner.invoke(app, ["report", "patient-volume", "--all-tenants", *data])
    assert report.exit_code == 0
    assert report.stdout == written
    for unscoped in ([], ["--tenant", "sunrise-imaging", "--all-tenants"]):
        refused = runner.invoke(app, ["report", "patient-volume", *unscoped, *data])
        assert refused.exit_code == 2 and refused.stdout == ""
        assert "--tenant TENANT" in refused.output and "--all-tenants" in refused.output

    replay = runner.invoke(app, ["replay", *data])
    assert replay.exit_code == 0, replay.output
    again = runner.invoke(
        app, ["report", "rpt_patient_volume", "--all-tenants", "--format", "json", *data]
    )
    document = orjson.loads(again.stdout)
    assert document["columns"][:4] == ["tenant_id", "branch_id", "modality", "month"]
    assert sum(r["scans"] for r in document["rows"]) == sum(
        int(line.split(",")[4]) for line in written.splitlines()[1:]
    )

    unknown = runner.invoke(app, ["report", "nope", "--all-tenants", *data])
    assert unknown.exit_code == 2
    _every_report_answers(runner, data, out)

    letters = runner.invoke(app, ["dead-letters", "list", *data])
    assert letters.exit_code == 0


def _every_report_answers(runner: CliRunner, data: list[str], out: Path) -> None:
    """The report command: listed, CSV and XLSX for a tenant and a range, an unknown
    tenant as an empty table with its header, over five years refused saying why (every
    report's SQL is run by tests/e2e/test_report_catalog.py)."""
    from openpyxl import load_workbook

    from mymedic.reports.catalog import REPORTS

    listing = runner.invoke(app, ["report", "--list"])
    assert listing.exit_code == 0
    assert all(spec.name in listing.stdout for spec in REPORTS)
    window = ["--from", "2025-01-01", "--to", "2026-12-31"]
    scoped = ["report", "revenue-breakdown", "--tenant", "sunrise-imaging", *window, *data]
    csv_out = runner.invoke(app, scoped)
    assert csv_out.exit_code == 0, csv_out.output
    header = csv_out.stdout.splitlines()[0].split(",")
    assert header[:3] == ["tenant_id", "branch_id", "month"]
    # Money for people: major units beside the currency; JSON keeps the minor units.
    assert "billed" in header and not [c for c in header if c.endswith("_minor")]
    as_json = orjson.loads(runner.invoke(app, [*scoped, "--format", "json"]).stdout)
    billed = sum(row["billed_minor"] for row in as_json["rows"])
    assert billed > 0 and as_json["tenant"] == "sunrise-imaging"
    shown = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert {row["currency"] for row in shown} == {"INR"}
    assert all(re.fullmatch(r"-?\d+\.\d\d", row["billed"]) for row in shown)
    assert sum(Decimal(row["billed"]) for row in shown) == Decimal(billed).scaleb(-2)
    nobody = runner.invoke(app, ["report", "waiting-time", "--tenant", "nobody", *window, *data])
    assert nobody.stdout.splitlines()[0].startswith("tenant_id,branch_id,modality,week,")
    assert len(nobody.stdout.splitlines()) == 1
    book = out / "revenue-breakdown.xlsx"
    xlsx = runner.invoke(app, [*scoped, "--format", "xlsx", "--out", str(book)])
    assert xlsx.exit_code == 0, xlsx.output
    sheet = load_workbook(book).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == header
    assert sheet.max_row == len(csv_out.stdout.splitlines())
    too_long = ["--from", "2020-01-01", "--to", "2025-01-01"]
    refused = runner.invoke(app, ["report", "leakage", "--tenant", "t", *too_long, *data])
    assert refused.exit_code == 2 and "longer than 5 years" in refused.output


def _next_week() -> str:
    """A start in the future for servers that run on the real clock."""
    from datetime import UTC, datetime, timedelta

    week_on = (datetime.now(UTC) + timedelta(days=7)).date()
    # 10:00 in the test branch's zone (Asia/Kolkata): inside its working hours.
    return (
        datetime.combine(week_on, datetime.min.time(), UTC).replace(hour=4, minute=30).isoformat()
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_on_a_real_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "MYMEDIC_DATA_DIR": str(tmp_path / "data"),
        "MYMEDIC_JWT_SECRET": TEST_JWT_SECRET,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "mymedic", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        assert "/commands/book_appointment" in httpx.get(f"{base}/openapi.json").json()["paths"]
        anonymous = httpx.post(f"{base}/commands/book_appointment", content=b"{}")
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "missing_token")
        bad = httpx.post(f"{base}/commands/book_appointment", content=b"{", headers=bearer())
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_json")
        assert httpx.get(f"{base}/nowhere").status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.emulator
def test_serve_on_the_emulators_and_stop_cleanly(tmp_path: Path) -> None:
    """The developer's GCP path: serve with the emulators, answer a command, and on
    SIGTERM stop every emulator and function server it started."""
    import re

    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mymedic",
                "serve",
                "--backend",
                "gcp-emulators",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "400", "MYMEDIC_JWT_SECRET": TEST_JWT_SECRET},
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        from tests.conftest import booking, directory_commands

        for name, body in directory_commands():
            registered = httpx.post(
                f"{base}/commands/{name}", json=body, headers=bearer(), timeout=30
            )
            assert registered.status_code == 201, registered.text
        response = httpx.post(
            f"{base}/commands/book_appointment",
            json=booking(start_at=_next_week()),
            headers=bearer(),
            timeout=30,
        )
        assert response.status_code == 201, response.text
    finally:
        server.terminate()
        server.wait(timeout=60)
    found = re.search(r"pids: ([\d ]+)", log.read_text())
    assert found, log.read_text()
    for pid in map(int, found.group(1).split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_jobs_run_by_hand_answer_as_the_jobs_function_does(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    listed = runner.invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0 and "projection-catch-up" in listed.stdout.split()
    caught_up = runner.invoke(app, ["jobs", "run", "projection-catch-up", *data])
    assert caught_up.exit_code == 0, caught_up.output
    assert orjson.loads(caught_up.stdout) == {
        "job": "projection-catch-up",
        "events": 0,
        "position": 0,
    }
    assert runner.invoke(app, ["jobs", "run", "no-such-job", *data]).exit_code == 2
    assert runner.invoke(app, ["jobs", "run", "outbox-relay", "--arg", "x", *data]).exit_code == 2
    # Without Google Ads settings the job answers 503 not_configured: exit 1, JSON body.
    ads = runner.invoke(app, ["jobs", "run", "google-ads-sync", *data])
    assert ads.exit_code == 1 and orjson.loads(ads.stdout)["error"] == "not_configured"
