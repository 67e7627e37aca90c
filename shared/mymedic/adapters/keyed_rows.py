"""The part every warehouse unit of work shares: an identity map of keyed rows (read
once, changed in memory, written back by the adapter at commit), and projection
checkpoints kept as rows of the table ``projection_checkpoints``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mymedic.adapters.sql_catalog import TableDef
from mymedic.ports import Row

CHECKPOINTS = "projection_checkpoints"


class KeyedRows:
    """Subclasses load rows in ``prefetch`` (into ``self._rows``) and write back
    ``self._dirty`` (changed keys per table, in order of first change) at commit."""

    def __init__(self, tables: dict[str, TableDef]) -> None:
        self._tables = tables
        self._rows: dict[str, dict[tuple[Any, ...], Row | None]] = {t: {} for t in tables}
        self._dirty: dict[str, dict[tuple[Any, ...], None]] = {t: {} for t in tables}

    def _key(self, table: str, row: Row) -> tuple[Any, ...]:
        return tuple(row[k] for k in self._tables[table].key)

    def prefetch(self, table: str, keys: Iterable[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def get_row(self, table: str, key: tuple[Any, ...]) -> Row | None:
        cached = self._rows[table]
        if key not in cached:
            self.prefetch(table, [key])
        return cached[key]

    def put_row(self, table: str, row: Row) -> None:
        key = self._key(table, row)
        self._rows[table][key] = row
        self._dirty[table][key] = None

    def checkpoint(self, projection: str, tenant_id: str, stream_id: str) -> int:
        row = self.get_row(CHECKPOINTS, (projection, tenant_id, stream_id))
        return int(row["version"]) if row else 0

    def set_checkpoint(self, projection: str, tenant_id: str, stream_id: str, version: int) -> None:
        self.put_row(
            CHECKPOINTS,
            {
                "projection": projection,
                "tenant_id": tenant_id,
                "stream_id": stream_id,
                "version": version,
            },
        )

    def prefetch_checkpoints(self, projection: str, streams: Iterable[tuple[str, str]]) -> None:
        self.prefetch(CHECKPOINTS, [(projection, t, s) for t, s in streams])
