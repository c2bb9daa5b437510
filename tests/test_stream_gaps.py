"""The stream counts the stored events of a batch only where the chain's positions leave a
gap (positions are integers: between consecutive ones no event can hide), and an event
hidden in a gap is still damage."""

import hashlib
from typing import Any

import pytest

from auditlog.errors import DamagedStore
from auditlog.store.chain import GENESIS
from auditlog.store.stream import _HEAD, checked_rows


class Rows:
    """A RowSource over chain entries at the given positions, each with a valid hash; the
    store holds ``stored`` events (counted where asked)."""

    def __init__(self, positions: list[int], stored: set[int]) -> None:
        self.entries: list[tuple[int, int, bytes, Any, Any, Any, Any]] = []
        self.stored = stored
        self.counted: list[tuple[int, int]] = []
        prev = GENESIS
        for seq, position in enumerate(positions, start=1):
            oid, topic, state = b"id", b"topic", b'{"n":%d}' % position
            digest = hashlib.sha256(b"".join((
                _HEAD.pack(0, seq, 1, len(oid), len(topic), len(state)), prev, oid, topic,
                state))).digest()
            self.entries.append((seq, position, digest, oid, 1, topic, state))
            prev = digest

    def entry_at_or_before(self, position: int) -> tuple[int, int, bytes] | None:
        return None

    def chained(self, after_seq: int, stop: int | None, limit: int) -> list[Any]:
        return self.entries[after_seq:after_seq + limit]

    def events_between(self, first: int, last: int) -> int:
        self.counted.append((first, last))
        return sum(1 for p in self.stored if first <= p <= last)

    def unchained_tail(self) -> int | None:
        return None


def test_consecutive_positions_need_no_count() -> None:
    source = Rows([1, 2, 3, 4, 5], {1, 2, 3, 4, 5})
    assert [r[0] for batch in checked_rows(source, batch=2) for r in batch] == [1, 2, 3, 4, 5]
    assert source.counted == []


def test_a_gap_is_counted_and_an_event_hidden_in_it_is_damage() -> None:
    intact = Rows([1, 2, 4, 5], {1, 2, 4, 5})  # 3 never held an event (a sequence gap)
    assert [r[0] for batch in checked_rows(intact, batch=10) for r in batch] == [1, 2, 4, 5]
    assert intact.counted == [(1, 5)]
    hidden = Rows([1, 2, 4, 5], {1, 2, 3, 4, 5})
    with pytest.raises(DamagedStore, match="position 1: an event here has no chain entry"):
        list(checked_rows(hidden, batch=10))
