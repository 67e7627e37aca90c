"""The checks fail on a broken copy of terraform/: each break is caught by its check."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra import checks
from tests.infra.hcl import load_module


def _edit(path: Path, pattern: str, replacement: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    edited, made = re.subn(pattern, replacement, text, count=count, flags=re.MULTILINE)
    assert made, f"{pattern!r} not found in {path.name}"
    path.write_text(edited, encoding="utf-8")


def _tf_with(root: Path, needle: str) -> Path:
    for path in sorted((root / "terraform").glob("*.tf")):
        if needle in path.read_text(encoding="utf-8"):
            return path
    pytest.fail(f"no terraform file contains {needle!r}")


def _remove_block(path: Path, header: str, after: str = "") -> None:
    """Delete the block opening with ``header`` (the first after ``after``)."""
    text = path.read_text(encoding="utf-8")
    start = text.index(header, text.index(after) if after else 0)
    depth = 0
    for end in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    path.write_text(text[:start] + text[end + 1 :], encoding="utf-8")


def _problems(root: Path, check: checks.Check) -> list[str]:
    return check(load_module(root / "terraform"), root)


def test_a_misspelled_argument_fails_the_schema_check(broken_root: Path) -> None:
    path = _tf_with(broken_root, "deletion_protection")
    _edit(path, r"^(\s*)deletion_protection(\s*)=", r"\1deletion_protecton\2=")
    problems = _problems(broken_root, checks.check_provider_schema)
    assert any("deletion_protecton" in p and path.name in p for p in problems), problems


def test_a_subscription_without_dead_letter_policy_fails(broken_root: Path) -> None:
    path = _tf_with(broken_root, "dead_letter_policy {")
    _edit(path, r"^(\s*)dead_letter_policy \{(?:[^{}]|\{[^{}]*\})*\}", r"\1")
    problems = _problems(broken_root, checks.check_pubsub)
    assert any("no dead_letter_policy" in p for p in problems), problems


def test_a_function_missing_from_terraform_fails(broken_root: Path) -> None:
    module = load_module(broken_root / "terraform")
    model = checks.Model(module)
    deployed = checks.function_entry_points(model)
    assert "audit" in deployed, model.problems
    resource = deployed["audit"].resource
    if "for_each" in resource.body:
        pytest.fail("functions are one resource each here; adapt this test to a for_each map")
    path = broken_root / "terraform" / resource.file
    _remove_block(path, f'resource "{resource.type}" "{resource.name}"')
    # (references to it elsewhere stay: the checks read text, they do not plan)
    problems = _problems(broken_root, checks.check_functions)
    assert any("entry point audit" in p for p in problems), problems


def test_a_scheduler_job_without_oidc_token_fails(broken_root: Path) -> None:
    path = _tf_with(broken_root, 'resource "google_cloud_scheduler_job"')
    _remove_block(path, "oidc_token {", after='resource "google_cloud_scheduler_job"')
    problems = _problems(broken_root, checks.check_scheduler)
    assert any("no oidc_token" in p for p in problems), problems


def test_a_job_without_delivery_settings_fails(broken_root: Path) -> None:
    path = _tf_with(broken_root, "job_delivery = {")
    _edit(path, r'^\s*"alerts"\s*= \{ attempt_deadline.*\n', "")
    problems = _problems(broken_root, checks.check_scheduler)
    assert any("alerts" in p and "attempt_deadline" in p for p in problems), problems


def test_a_table_schema_with_a_missing_column_fails(broken_root: Path) -> None:
    schema = next((broken_root / "terraform").rglob("schemas/dim_patient.json"))
    fields = json.loads(schema.read_text(encoding="utf-8"))
    dropped = fields.pop(2)["name"]
    schema.write_text(json.dumps(fields, indent=2), encoding="utf-8")
    problems = _problems(broken_root, checks.check_bigquery)
    assert any("dim_patient" in p and dropped in p for p in problems), problems


def test_a_secret_without_its_setting_fails(broken_root: Path) -> None:
    (broken_root / "terraform" / "extra_secret.tf").write_text(
        'resource "google_secret_manager_secret" "stray" {\n'
        '  secret_id = "mymedic-not-a-setting"\n'
        "  replication {\n    auto {}\n  }\n}\n",
        encoding="utf-8",
    )
    problems = _problems(broken_root, checks.check_secrets)
    assert any("mymedic-not-a-setting" in p for p in problems), problems


def test_an_unresolvable_for_each_fails_instead_of_passing(broken_root: Path) -> None:
    (broken_root / "terraform" / "dynamic_jobs.tf").write_text(
        'resource "google_cloud_scheduler_job" "computed" {\n'
        "  for_each = toset(google_service_account.function[*].email)\n"
        '  name     = "x"\n}\n',
        encoding="utf-8",
    )
    problems = _problems(broken_root, checks.check_scheduler)
    assert any("cannot resolve for_each" in p for p in problems), problems


TERRAFORM_BIN = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM_BIN is None, reason="terraform is not installed")


def _fmt_check(directory: Path) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM_BIN is not None
    return subprocess.run(
        [TERRAFORM_BIN, "fmt", "-check", "-recursive", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@needs_terraform
def test_terraform_fmt_passes_on_terraform() -> None:
    result = _fmt_check(checks.REPO / "terraform")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_terraform
def test_terraform_fmt_fails_on_bad_indentation(broken_root: Path) -> None:
    path = sorted((broken_root / "terraform").glob("*.tf"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^  (\S)", r"     \1", text, count=1, flags=re.MULTILINE))
    result = _fmt_check(broken_root / "terraform")
    assert result.returncode != 0
    assert path.name in result.stdout
