"""Events that gained an optional field keep the bytes of their older version when it is unset,
so stores, checkpoints and reviews made before it are unchanged; the old bytes still decode."""

from datetime import UTC, date, datetime
from uuid import uuid4

import orjson

from auditlog.domain.events import PemdaRegistered, RecommendationReviewed, Source, Status
from auditlog.store.mapper import PydanticMapper


def reviewed(source: Source | None) -> RecommendationReviewed:
    return RecommendationReviewed(
        originator_id=uuid4(), originator_version=2, actor="auditor",
        recorded_at=datetime(2024, 1, 15, 9, tzinfo=UTC), effective_on=date(2023, 4, 14),
        recommendation=1, previous=Status.BD, status=Status.BS, reason="Baru 5 dari 20 OPD",
        source=source,
    )


def test_an_event_without_a_source_is_stored_as_version_1_was() -> None:
    stored = PydanticMapper().to_stored_event(reviewed(None))
    state = orjson.loads(stored.state)
    assert "class_version" not in state and "source" not in state
    assert sorted(state) == ["actor", "effective_on", "previous", "reason", "recommendation",
                             "recorded_at", "status"]


def test_an_imported_event_is_version_2_and_reads_back_with_its_source() -> None:
    mapper = PydanticMapper()
    source = Source(file="register.xlsx", sha256="ab" * 32, row=7)
    event = reviewed(source)
    stored = mapper.to_stored_event(event)
    assert orjson.loads(stored.state)["class_version"] == 2
    assert mapper.to_domain_event(stored) == event


def test_version_1_bytes_decode_as_version_2_without_a_source() -> None:
    mapper = PydanticMapper()
    event = PemdaRegistered(
        originator_id=uuid4(), originator_version=1, actor="auditor",
        recorded_at=datetime(2024, 1, 15, 9, tzinfo=UTC), effective_on=date(2024, 1, 15),
        code="35.73", name="Kota Malang", level="kota",
    )
    stored = mapper.to_stored_event(event)
    v1 = b'{"actor":"auditor","code":"35.73","effective_on":"2024-01-15","level":"kota",' \
         b'"name":"Kota Malang","recorded_at":"2024-01-15T09:00:00Z"}'
    assert stored.state == v1
    assert mapper.to_domain_event(stored) == event
