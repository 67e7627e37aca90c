"""Every resource and data source in terraform/ uses only arguments and blocks the pinned
google provider has, and sets its required ones (the schema is extracted from the CDK
for Terraform bindings by scripts/extract_provider_schema.py)."""

from __future__ import annotations

from tests.infra.checks import REPO, check_provider_pin, check_provider_schema, load_provider_schema
from tests.infra.hcl import load_module

TERRAFORM = REPO / "terraform"


def test_every_argument_exists_in_the_provider_schema() -> None:
    assert check_provider_schema(load_module(TERRAFORM), REPO) == []


def test_versions_tf_pins_the_extracted_provider_version() -> None:
    assert load_provider_schema(REPO)["provider_version"] == "6.50.0"
    assert check_provider_pin(load_module(TERRAFORM), REPO) == []
