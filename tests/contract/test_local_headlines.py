"""The headline contract on the embedded warehouse (DuckDB, the SQL through sqlglot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mymedic.adapters.local.warehouse import DuckDbWarehouse
from mymedic.ports import Warehouse
from tests.contract.headline_contract import HeadlineContract


class TestDuckDbHeadlines(HeadlineContract):
    @pytest.fixture
    def warehouse(self, tmp_path: Path) -> Iterator[Warehouse]:
        instance = DuckDbWarehouse(tmp_path / "warehouse.duckdb")
        instance.ensure_schema()
        yield instance
        instance.close()
