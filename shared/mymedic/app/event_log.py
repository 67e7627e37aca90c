"""The whole event log, read page by page in global order (for jobs that scan it)."""

from __future__ import annotations

from collections.abc import Iterator

from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import EventStore

PAGE = 5_000


def every_event(store: EventStore, page_size: int = PAGE) -> Iterator[EventEnvelope]:
    after = 0
    while True:
        page = store.read_all(after_position=after, limit=page_size)
        if not page:
            return
        for stored in page:
            yield stored.envelope
        after = page[-1].global_position
