"""The replay's lean fold (projections/lean.py) over verified rows: the recommendation an
event names is found by its number wherever it sits, a number no recommendation has is
damage, and the stream's verified rows are the checked rows with their chain entries."""

from typing import Any

import orjson
import pytest

from auditlog.domain.events import FindingRecorded, FollowUpRecorded, RecommendationReviewed
from auditlog.errors import DamagedStore
from auditlog.projections.lean import LeanUniverse
from auditlog.projections.model import Moment
from auditlog.store.stream import checked_rows, verified
from test_stream_gaps import Rows

OID = b"0b6f1c1e-0d7b-4e38-9d5a-6c1a1d1f2a3b"
STAMP = {"recorded_at": "2024-01-02T03:04:05+00:00", "effective_on": "2024-01-02"}


def row(position: int, topic: str, state: dict[str, Any]) -> tuple[Any, ...]:
    """A verified row (seq, position, hash, id, version, topic, state) of the one finding."""
    return (position, position, b"", OID, position, topic.encode(),
            orjson.dumps({**STAMP, **state}))


def recorded(numbers: list[int]) -> tuple[Any, ...]:
    return row(1, FindingRecorded.topic, {
        "ref": "F-2024-1", "pemda": "11", "title": "t", "received": "2024-01-02",
        "recommendations": [{"n": n, "text": "x", "value": 100} for n in numbers]})


def deposit(position: int, n: int, amount: int) -> tuple[Any, ...]:
    return row(position, FollowUpRecorded.topic,
               {"recommendation": n, "deposit": amount, "action": "setor"})


def test_an_event_reaches_the_recommendation_it_numbers_out_of_place() -> None:
    """Recommendations numbered 3 and 1 (not by their place): each deposit and review lands
    on the one of its number."""
    fold = LeanUniverse(Moment()).fold([[
        recorded([3, 1]), deposit(2, 1, 40), deposit(3, 3, 7),
        row(4, RecommendationReviewed.topic, {"recommendation": 3, "status": "S"})]])
    recs = {r.n: (r.deposited, r.status) for r in fold.findings[OID].recs}
    assert recs == {1: (40, "BD"), 3: (7, "S")}


@pytest.mark.parametrize("n", [0, -1, 3])
def test_a_recommendation_number_the_finding_lacks_is_damage(n: int) -> None:
    """0 and -1 would index the list from its end if taken as places."""
    with pytest.raises(DamagedStore, match="position 2"):
        LeanUniverse(Moment()).fold([[recorded([1, 2]), deposit(2, n, 5)]])


def test_verified_rows_are_the_checked_rows_with_their_chain_entries() -> None:
    source = Rows([1, 2, 3, 5, 6], stored={1, 2, 3, 5, 6})
    entries = [r for batch in verified(source, batch=2) for r in batch]
    assert entries == source.entries
    assert [r for batch in checked_rows(source, batch=2) for r in batch] == [
        (position, oid, version, topic, state)
        for _, position, _, oid, version, topic, state in entries]
