"""The directory streams a decision reads, folded once and kept.

Loading the branch, clinician, room and price list on every booking was about a third
of its time. Every directory stream may change (price lists and policies by command;
branches, rooms, clinicians and procedures registered again from Zoho): a kept state is
used only while its stream is still at the version it was folded at, which costs one
indexed lookup instead of a read and a decode of the whole stream.
"""

from __future__ import annotations

from collections import OrderedDict

from mymedic.domain.aggregates import State, fold
from mymedic.domain.events import stream_id
from mymedic.ports import EventStore


class ReferenceCache:
    def __init__(self, store: EventStore, max_entries: int = 20_000) -> None:
        self._store = store
        self._max_entries = max_entries
        self._kept: OrderedDict[tuple[str, str], tuple[int, State]] = OrderedDict()

    def load(self, tenant_id: str, category: str, entity_id: str) -> State | None:
        key = (tenant_id, stream_id(category, entity_id))
        kept = self._kept.get(key)
        if kept is not None and self._store.stream_version(*key) == kept[0]:
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
