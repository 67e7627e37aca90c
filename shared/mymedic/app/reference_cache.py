"""The directory streams a decision reads, folded once and kept.

Loading the branch, clinician, room and price list on every booking was about a third
of its time. Branches, rooms and clinicians' registrations never change once written:
they are kept as they were first read. (A clinician's stream also gathers its blocks,
which a kept state may not show; bookings never read blocks from it: blocks are
enforced on the resource-day streams.) Price lists and policies do change: a kept state
is used only while its stream is still at the version it was folded at, which costs
one indexed lookup instead of a read and a decode of the whole stream.
"""

from __future__ import annotations

from collections import OrderedDict

from mymedic.domain.aggregates import State, fold
from mymedic.domain.events import stream_id
from mymedic.ports import EventStore

# Categories whose fields a decision reads are fixed by their first event.
SETTLED_CATEGORIES = frozenset({"branch", "room", "clinician"})


class ReferenceCache:
    def __init__(self, store: EventStore, max_entries: int = 20_000) -> None:
        self._store = store
        self._max_entries = max_entries
        self._kept: OrderedDict[tuple[str, str], tuple[int, State]] = OrderedDict()

    def load(self, tenant_id: str, category: str, entity_id: str) -> State | None:
        key = (tenant_id, stream_id(category, entity_id))
        kept = self._kept.get(key)
        if kept is not None:
            if category in SETTLED_CATEGORIES:
                self._kept.move_to_end(key)
                return kept[1]
            if self._store.stream_version(*key) == kept[0]:
                self._kept.move_to_end(key)
                return kept[1]
        history = self._store.read_stream(*key)
        state = fold(event.data() for event in history)
        if state is not None:
            self._kept[key] = (len(history), state)
            self._kept.move_to_end(key)
            while len(self._kept) > self._max_entries:
                self._kept.popitem(last=False)
        return state
