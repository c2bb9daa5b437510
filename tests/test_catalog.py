"""The events/ catalog is generated from the code and must stay true to it."""

from pathlib import Path

from auditlog.catalog import SUMS, digest, read_sums, schemas
from auditlog.domain.events import EVENT_TYPES

CATALOG = Path(__file__).resolve().parent.parent / "events"


def test_every_current_event_version_is_in_the_catalog_as_generated() -> None:
    for name, data in schemas().items():
        path = CATALOG / name
        assert path.exists(), f"{name} missing: run python -m auditlog.catalog"
        assert path.read_bytes() == data, (
            f"{name} differs from the code: a published schema never changes; raise the "
            "event's class_version, add an upcaster and run python -m auditlog.catalog"
        )


def test_published_schemas_are_never_changed_or_removed() -> None:
    sums = read_sums(CATALOG)
    files = {p.name for p in CATALOG.glob("*.json")}
    assert files == set(sums), "every schema file is listed in SHA256SUMS and vice versa"
    for name, value in sums.items():
        assert digest((CATALOG / name).read_bytes()) == value, f"{name} was edited"


def test_older_versions_have_upcasters() -> None:
    for name in read_sums(CATALOG):
        topic, version = name.removesuffix(".json").rsplit(".v", 1)
        assert topic in EVENT_TYPES, f"{name} names an event the code no longer knows"
        cls = EVENT_TYPES[topic]
        assert int(version) <= cls.class_version
        for v in range(int(version), cls.class_version):
            assert hasattr(cls, f"upcast_v{v}_v{v + 1}"), f"{cls.__name__} lacks upcast_v{v}"


def test_sums_file_exists() -> None:
    assert (CATALOG / SUMS).exists()
