"""terraform/'s BigQuery files are generated from bigquery/ by
scripts/terraform_bigquery.py: the committed ones must match what it generates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "terraform_bigquery.py"
TERRAFORM = ROOT / "terraform"


def test_the_committed_terraform_bigquery_files_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_check_fails_on_a_changed_or_stale_file(tmp_path: Path) -> None:
    root = tmp_path / "terraform"
    write = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert write.returncode == 0, write.stderr
    check = [sys.executable, str(SCRIPT), "--check", "--root", str(root)]
    assert subprocess.run(check, capture_output=True, timeout=120, check=False).returncode == 0

    schema = root / "bigquery" / "schemas" / "fct_payment.json"
    schema.write_text("[]\n", encoding="utf-8")
    changed = subprocess.run(check, capture_output=True, text=True, timeout=120, check=False)
    assert changed.returncode == 1
    assert "fct_payment.json" in changed.stderr


def test_schemas_follow_the_ddl() -> None:
    schema = json.loads((TERRAFORM / "bigquery" / "schemas" / "fct_payment.json").read_text())
    columns = {c["name"]: c for c in schema}
    assert columns["paid_at"] == {"name": "paid_at", "type": "TIMESTAMP", "mode": "REQUIRED"}
    assert columns["invoice_id"]["mode"] == "NULLABLE"
    assert columns["amount_minor"]["type"] == "INTEGER"
    tables_tf = (TERRAFORM / "bigquery_tables.tf").read_text()
    assert 'field = "paid_at"' in tables_tf
