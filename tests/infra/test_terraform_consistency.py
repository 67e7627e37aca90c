"""terraform/ deploys what the code needs: one function per entry point, the topics and
subscriptions, a scheduler job per job, a secret per SecretStr setting, BigQuery tables
matching the DDL; and it only uses arguments the pinned google provider has."""

from __future__ import annotations

import pytest

from tests.infra.checks import ALL_CHECKS, REPO, Check
from tests.infra.hcl import Module, load_module

TERRAFORM = REPO / "terraform"


@pytest.fixture(scope="module")
def module() -> Module:
    if not any(TERRAFORM.glob("*.tf")):
        pytest.fail("terraform/ has no *.tf files")
    return load_module(TERRAFORM)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_terraform_is_consistent(module: Module, check: Check) -> None:
    assert check(module, REPO) == []
