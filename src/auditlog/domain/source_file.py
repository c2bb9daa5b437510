"""A register file that was imported, fingerprinted once: where imported events came from."""

from typing import Self
from uuid import UUID

from auditlog.domain.aggregate import Aggregate, natural_id, register_aggregate
from auditlog.domain.events import Event, ImportFileRecorded


@register_aggregate
class SourceFile(Aggregate):
    """Lives at the natural id of the file's SHA-256, so the same bytes are recorded once."""

    creation_event = ImportFileRecorded

    name: str
    sha256: str

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, ImportFileRecorded)
        return cls(id=event.originator_id, version=event.originator_version, name=event.name,
                   sha256=event.sha256)


def source_file_id(sha256: str) -> UUID:
    return natural_id("import-file", sha256)
