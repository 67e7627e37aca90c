"""The headline contract on BigQuery (bqemulator): the same queries, run as written with
typed query parameters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from mymedic.adapters.gcp.bigquery_warehouse import BigQueryWarehouse, from_settings
from mymedic.ports import Warehouse
from mymedic.settings import Settings
from tests.contract.headline_contract import HeadlineContract

pytestmark = pytest.mark.emulator

PROJECT = "mymedic-test"


@pytest.fixture(scope="module")
def admin(bigquery_emulator: Any) -> Iterator[bigquery.Client]:
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=os.environ["MYMEDIC_BIGQUERY_ENDPOINT"]),
    )
    yield client
    client.close()  # type: ignore[no-untyped-call]


@pytest.fixture
def bq(admin: bigquery.Client) -> Iterator[BigQueryWarehouse]:
    dataset = f"t_{uuid4().hex}"
    settings = Settings(_env_file=None, gcp_project=PROJECT, bigquery_dataset=dataset)  # type: ignore[call-arg]
    warehouse = from_settings(settings)
    warehouse.ensure_schema()
    yield warehouse
    warehouse.close()
    admin.delete_dataset(f"{PROJECT}.{dataset}", delete_contents=True, not_found_ok=True)


class TestBigQueryHeadlines(HeadlineContract):
    @pytest.fixture
    def warehouse(self, bq: BigQueryWarehouse) -> Warehouse:
        return bq
