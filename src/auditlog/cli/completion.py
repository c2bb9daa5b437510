"""Shell completion of what is in the store: pemda codes, finding and recommendation refs.

Completion runs on every Tab: it reads the projection tables read-only, briefly, and offers
nothing rather than fail (no store yet, a PostgreSQL URL, a locked or damaged file).
"""

import os
from pathlib import Path
from typing import Any

import typer

LIMIT = 200  # a shell shows no more usefully


def _rows(ctx: typer.Context, sql: str, incomplete: str) -> list[tuple[str, str]]:
    root = ctx.find_root()
    target = str(root.params.get("db") or os.environ.get("AUDITLOG_DB") or "auditlog.db")
    if "://" in target or not Path(target).is_file():
        return []
    import sqlite3  # on Tab only: every command's options name these functions
    from urllib.parse import quote

    try:
        conn = sqlite3.connect(f"file:{quote(os.path.abspath(target))}?mode=ro", uri=True,
                               timeout=0.2)
        try:
            found: list[Any] = conn.execute(sql, (incomplete.strip() + "%", LIMIT)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return [(str(value), str(help_text or "")) for value, help_text in found]


def pemda_codes(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _rows(ctx, "SELECT code, json_extract(state, '$.name') FROM projection_pemda "
                      "WHERE code LIKE ? ORDER BY code LIMIT ?", incomplete)


def finding_refs(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _rows(ctx, "SELECT ref, json_extract(state, '$.title') FROM projection_finding "
                      "WHERE withdrawn = 0 AND ref LIKE ? ORDER BY ref LIMIT ?", incomplete)


def recommendation_refs(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _rows(ctx, "SELECT f.ref || '.' || r.n, r.status || ' ' || "
                      "json_extract(f.state, '$.title') FROM projection_recommendation r "
                      "JOIN projection_finding f ON f.id = r.finding_id "
                      "WHERE f.ref || '.' || r.n LIKE ? ORDER BY f.ref, r.n LIMIT ?",
                 incomplete)
