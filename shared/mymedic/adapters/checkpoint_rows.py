"""Projection checkpoints kept as rows of the warehouse table ``projection_checkpoints``,
for warehouse units of work that already read and write keyed rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from mymedic.ports import Row

CHECKPOINTS = "projection_checkpoints"


class _KeyedRows(Protocol):
    def get_row(self, table: str, key: tuple[Any, ...]) -> Row | None: ...

    def put_row(self, table: str, row: Row) -> None: ...

    def prefetch(self, table: str, keys: Iterable[tuple[Any, ...]]) -> None: ...


class CheckpointRows:
    def checkpoint(self: _KeyedRows, projection: str, tenant_id: str, stream_id: str) -> int:
        row = self.get_row(CHECKPOINTS, (projection, tenant_id, stream_id))
        return int(row["version"]) if row else 0

    def set_checkpoint(
        self: _KeyedRows, projection: str, tenant_id: str, stream_id: str, version: int
    ) -> None:
        self.put_row(
            CHECKPOINTS,
            {
                "projection": projection,
                "tenant_id": tenant_id,
                "stream_id": stream_id,
                "version": version,
            },
        )

    def prefetch_checkpoints(
        self: _KeyedRows, projection: str, streams: Iterable[tuple[str, str]]
    ) -> None:
        self.prefetch(CHECKPOINTS, [(projection, t, s) for t, s in streams])
