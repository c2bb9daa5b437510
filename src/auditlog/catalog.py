"""The event catalog: one JSON Schema per event type and version, generated from the models.

`python -m auditlog.catalog` writes events/<topic>.v<N>.json and records each file's SHA-256 in
events/SHA256SUMS. A published schema is never rewritten: when an event changes, its
class_version goes up (with an upcaster), and the new version gets a file of its own.
"""

import hashlib
import sys
from pathlib import Path
from typing import Any

import orjson

from auditlog.domain.events import EVENT_TYPES

SUMS = "SHA256SUMS"


def schemas() -> dict[str, bytes]:
    """File name -> schema bytes, for every event type at its current version."""
    out = {}
    for topic, cls in sorted(EVENT_TYPES.items()):
        schema: dict[str, Any] = cls.model_json_schema()
        schema["$id"] = f"{topic}.v{cls.class_version}"
        schema["x-topic"] = topic
        schema["x-class-version"] = cls.class_version
        schema["description"] = " ".join((cls.__doc__ or topic).split())
        out[f"{topic}.v{cls.class_version}.json"] = (
            orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
    return out


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_sums(folder: Path) -> dict[str, str]:
    path = folder / SUMS
    if not path.exists():
        return {}
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            value, name = line.split(maxsplit=1)
            sums[name.strip()] = value
    return sums


class PublishedSchemaChanged(Exception):
    pass


def write(folder: Path) -> list[str]:
    """Write the schemas not yet published; refuse to change a published one."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = read_sums(folder)
    written = []
    for name, data in schemas().items():
        if name in sums:
            if sums[name] != digest(data):
                topic, version = name.removesuffix(".json").rsplit(".v", 1)
                raise PublishedSchemaChanged(
                    f"{name} is published and the event changed: raise class_version of "
                    f"{EVENT_TYPES[topic].__name__} to {int(version) + 1} and add "
                    f"upcast_v{version}_v{int(version) + 1}"
                )
            continue
        (folder / name).write_bytes(data)
        sums[name] = digest(data)
        written.append(name)
    lines = [f"{sums[n]}  {n}" for n in sorted(sums)]
    (folder / SUMS).write_text("\n".join(lines) + "\n")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("events")
    try:
        for name in write(target):
            print(f"wrote {target / name}")
    except PublishedSchemaChanged as changed:
        print(f"error: {changed}", file=sys.stderr)
        sys.exit(1)
