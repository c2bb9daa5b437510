"""A worker process of verify: checks one stretch of the chain and prints what it found.

    python -P -m auditlog.store.verify_worker < request.json > segment.json

Started by store/integrity.py; it imports only what checking needs, so it starts fast.
"""

import json
import sys
from typing import Any

from auditlog.store.chain import LogReader, Start, check_segment


def open_source(source: dict[str, str]) -> LogReader:
    if source.get("backend") == "sqlite":
        from auditlog.store.sqlite_integrity import SQLiteLog

        return SQLiteLog(source["path"])
    raise ValueError(f"no reader for backend {source.get('backend')!r}")


def run(request: dict[str, Any]) -> dict[str, Any]:
    expected, prev, last_position = request["start"]
    reader = open_source(request["source"])
    segment = check_segment(reader, request["first"], request["last"],
                            Start(expected, bytes.fromhex(prev), last_position),
                            request["wanted"], block_level=request["block_level"])
    return segment.to_json()


def main() -> None:
    json.dump(run(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
