"""Every fact auditlog records is one of these immutable events.

Each event type has a stable, explicit topic (never the Python module path, so code can move
without orphaning stored events) and a class_version. An old version is upcast on read by a
static method ``upcast_vN_vN+1`` on the class; storage is never rewritten.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    """BPK follow-up categories (Peraturan BPK 2/2017); the status lives on the recommendation."""

    BD = "BD"  # belum ditindaklanjuti
    BS = "BS"  # belum sesuai (dalam proses)
    S = "S"  # sesuai dengan rekomendasi
    TDTL = "TDTL"  # tidak dapat ditindaklanjuti


Level = Literal["provinsi", "kabupaten", "kota"]


class Event(BaseModel):
    """What every event carries: whose aggregate, who recorded it, and the two times."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[str]
    class_version: ClassVar[int] = 1
    # Optional fields added after version 1, with the version that added them: an event that
    # leaves them all unset is stored exactly as the older version was (see store/mapper.py),
    # so stores, checkpoints and reviews made before them keep their bytes.
    optional_since: ClassVar[dict[str, int]] = {}

    originator_id: UUID
    originator_version: int
    actor: str = Field(description="who recorded the event")
    recorded_at: datetime = Field(description="when it was recorded (transaction time, UTC)")
    effective_on: date = Field(description="when it happened in the world (valid time)")

    @property
    def timestamp(self) -> datetime:
        return self.recorded_at


class Source(BaseModel):
    """Where an imported event came from: a row of a register file (`auditlog import`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(description="the file's name as imported")
    sha256: str = Field(description="SHA-256 of the file's bytes (auditlog.import.file_recorded)")
    row: int = Field(description="the row number in the sheet, from 1, as the spreadsheet shows it")


SOURCE_DESCRIPTION = "set when the event was imported: the file and row it came from"


EVENT_TYPES: dict[str, type[Event]] = {}
E = TypeVar("E", bound=type[Event])


def topic(name: str) -> Callable[[E], E]:
    """Give an event class its stable topic and make it resolvable from stored rows."""

    def register(cls: E) -> E:
        if name in EVENT_TYPES:
            raise RuntimeError(f"event topic {name} registered twice")
        cls.topic = name
        EVENT_TYPES[name] = cls
        return cls

    return register


# --- pemda ---------------------------------------------------------------------------------


@topic("auditlog.pemda.registered")
class PemdaRegistered(Event):
    class_version = 2
    optional_since = {"source": 2}
    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 2 only added the optional `source`: a version-1 state is a valid one."""

    code: str = Field(description="Kemendagri region code, as text: '35.73'")
    name: str
    level: Level
    source: Source | None = Field(default=None, description=SOURCE_DESCRIPTION)


# --- finding references ----------------------------------------------------------------------


@topic("auditlog.reference.allocated")
class ReferenceAllocated(Event):
    """The n-th finding of a year gets reference F-YYYY-nnnn; n is this event's version."""

    ref: str
    finding_id: UUID


# --- findings, recommendations and what happens to them ------------------------------------


class RecommendationSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(description="number of the recommendation inside its finding, from 1")
    text: str
    code: str | None = Field(default=None, description="recommendation code 01-14")
    value: int | None = Field(default=None, description="rupiah to recover (nilai rekomendasi)")
    due: date | None = Field(
        default=None, description="due date set by the report; absent means received + 60 days"
    )


@topic("auditlog.finding.recorded")
class FindingRecorded(Event):
    class_version = 2
    optional_since = {"source": 2}
    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 2 only added the optional `source`: a version-1 state is a valid one."""

    ref: str
    pemda: str
    title: str
    opd: str | None = None
    report: str | None = Field(default=None, description="LHP/LHE number")
    issued: date | None = None
    received: date = Field(description="the day the report was received; deadlines run from it")
    instrument: str | None = Field(default=None, description="SAKIP, RB ... for a catatan")
    year: int | None = Field(default=None, description="assessment year for a catatan")
    condition: str | None = None
    criteria: str | None = None
    cause: str | None = None
    effect: str | None = None
    code: str | None = Field(default=None, description="BPK finding code, normalised 1.01.03")
    value: int | None = Field(default=None, description="nilai temuan in rupiah")
    recommendations: tuple[RecommendationSpec, ...]
    source: Source | None = Field(default=None, description=SOURCE_DESCRIPTION)


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sha256: str
    size: int


@topic("auditlog.followup.recorded")
class FollowUpRecorded(Event):
    class_version = 2
    optional_since = {"source": 2}
    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 2 only added the optional `source`: a version-1 state is a valid one."""

    recommendation: int
    action: str
    deposit: int = Field(default=0, description="rupiah deposited (nilai setor)")
    slip: str | None = Field(default=None, description="deposit slip number")
    evidence: tuple[Evidence, ...] = ()
    source: Source | None = Field(default=None, description=SOURCE_DESCRIPTION)


@topic("auditlog.recommendation.reviewed")
class RecommendationReviewed(Event):
    class_version = 2
    optional_since = {"source": 2}
    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 2 only added the optional `source`: a version-1 state is a valid one."""

    recommendation: int
    previous: Status
    status: Status
    reason: str
    source: Source | None = Field(default=None, description=SOURCE_DESCRIPTION)


@topic("auditlog.recommendation.reopened")
class RecommendationReopened(Event):
    recommendation: int
    previous: Status
    reason: str


@topic("auditlog.recommendation.due_extended")
class DueDateExtended(Event):
    recommendation: int
    previous: date
    due: date
    reason: str


@topic("auditlog.finding.corrected")
class FindingCorrected(Event):
    """A correction: retroactive in valid time, so --as-of answers change from now on."""

    field: str
    recommendation: int | None = Field(
        default=None, description="set when the corrected field belongs to a recommendation"
    )
    previous: Any = None
    value: Any = None
    reason: str


@topic("auditlog.finding.withdrawn")
class FindingWithdrawn(Event):
    """Recorded in error: in valid time the finding never existed."""

    reason: str


# --- grades --------------------------------------------------------------------------------


@topic("auditlog.grade.recorded")
class GradeRecorded(Event):
    pemda: str
    instrument: str
    year: int
    grade: str
    score: Decimal | None = None
    rule: str = Field(description="the version of the instrument's grading rule")
    because: tuple[str, ...] = Field(
        default=(), description="references of the findings/recommendations that produced it"
    )


@topic("auditlog.grade.corrected")
class GradeCorrected(Event):
    pemda: str
    instrument: str
    year: int
    grade: str
    score: Decimal | None = None
    rule: str
    because: tuple[str, ...] = ()
    reason: str


def event_types() -> dict[str, type[Event]]:
    return dict(EVENT_TYPES)


# --- integrity -----------------------------------------------------------------------------


@topic("auditlog.checkpoint.recorded")
class CheckpointRecorded(Event):
    """A checkpoint was issued: the log's identity, size and root hash at that moment.

    The checkpoint itself is kept outside the store (printed in an annual review); this event
    says in the log that it was issued, and by whom. Signing keys are never recorded.
    """

    store_id: UUID = Field(description="the store's identity, a random UUID made with it")
    size: int = Field(description="how many events the checkpoint covers: the first `size`")
    root: str = Field(
        description="RFC 6962 Merkle root (SHA-256, hex) over the hash chain's first `size` entries"
    )
    signed: bool = Field(
        default=False, description="whether it was signed, with an Ed25519 key kept outside the log"
    )


@topic("auditlog.finding.key_claimed")
class FindingKeyClaimed(Event):
    """A correction gave a finding another pemda/report/title key: the new key is claimed for
    it, so the finding cannot be recorded again under its corrected title."""

    finding_id: UUID
    ref: str


# --- imports -------------------------------------------------------------------------------


@topic("auditlog.import.file_recorded")
class ImportFileRecorded(Event):
    """A register file was imported: its fingerprint, recorded once per distinct file, as
    evidence of where the imported events (each naming its row) came from."""

    name: str = Field(description="the file's name")
    sha256: str = Field(description="SHA-256 of the file's bytes")
    size: int = Field(description="bytes")
    sheet: str | None = Field(default=None, description="the sheet read, for a workbook")
    rows: int = Field(description="data rows read")


# --- commitments (komitmen / rencana aksi) -----------------------------------------------------


class CommitmentStatus(StrEnum):
    """Where a commitment stands: open until the Inspektorat's review closes it."""

    BERJALAN = "berjalan"  # open, not yet judged (the initial status; a review never sets it)
    SEBAGIAN = "sebagian"  # partly achieved: still open
    TERCAPAI = "tercapai"  # achieved
    TIDAK_TERCAPAI = "tidak-tercapai"  # not achieved
    BATAL = "batal"  # cancelled


@topic("auditlog.commitment.theme_added")
class CommitmentThemeAdded(Event):
    """A theme registered by the store, beside the four default ones. Never renamed in place:
    a new name is a new theme."""

    code: str = Field(description="stable code, lower case with hyphens: 'reformasi-birokrasi'")
    name: str = Field(description="Indonesian name shown to users")


@topic("auditlog.commitment.reference_allocated")
class CommitmentReferenceAllocated(Event):
    """The n-th commitment of a year gets reference K-YYYY-nnnn; n is this event's version."""

    ref: str
    commitment_id: UUID


@topic("auditlog.commitment.recorded")
class CommitmentRecorded(Event):
    """What an OPD committed to for a theme, who carries it out, and by when."""

    ref: str = Field(description="K-YYYY-nnnn")
    pemda: str
    opd: str
    theme: str = Field(description="theme code")
    text: str
    owner: str = Field(description="who carries it out (the OPD's secretary, as a rule)")
    indicator: str | None = None
    unit: str | None = None
    baseline: Decimal | None = None
    target: Decimal | None = Field(default=None, description="never equal to the baseline")
    by: date = Field(description="deadline")
    answers: tuple[str, ...] = Field(
        default=(), description="references of the findings/recommendations it answers")


@topic("auditlog.commitment.progress_recorded")
class CommitmentProgressRecorded(Event):
    """A realisation: the indicator's value on effective_on (for an indicator), a note,
    fingerprinted evidence."""

    value: Decimal | None = None
    note: str | None = None
    evidence: tuple[Evidence, ...] = ()


@topic("auditlog.commitment.reviewed")
class CommitmentReviewed(Event):
    previous: CommitmentStatus
    status: CommitmentStatus
    reason: str


@topic("auditlog.commitment.reopened")
class CommitmentReopened(Event):
    """A closed commitment back to berjalan: a deliberate act with a reason."""

    previous: CommitmentStatus
    reason: str
