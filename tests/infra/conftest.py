from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.infra.checks import REPO

TERRAFORM = REPO / "terraform"


def has_terraform() -> bool:
    return any(TERRAFORM.glob("*.tf"))


@pytest.fixture
def broken_root(tmp_path: Path) -> Path:
    """A copy of terraform/ and the bigquery/ SQL it reads, to break deliberately."""
    shutil.copytree(TERRAFORM, tmp_path / "terraform", ignore=shutil.ignore_patterns(".terraform*"))
    shutil.copytree(REPO / "bigquery", tmp_path / "bigquery")
    return tmp_path
