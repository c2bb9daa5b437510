"""Full-text search of the register: what every engine's search must mean.

A query is words; a finding matches when every word begins a word in its title, its kondisi /
kriteria / sebab / akibat, its recommendations or its follow-ups (any mix of them). Hits come
ranked, best first, with the matching words marked. SQLite answers with FTS5 (bm25,
highlight, snippet) on the persisted projection; a PostgreSQL projection answers the same
question with its own full-text search (a tsvector over the same four fields weighted A-D,
`to_tsquery('auditlog_search', ...)`, `ts_rank`, `ts_headline` with the same marks), both
folding accents.
"""

import re
from dataclasses import dataclass
from uuid import UUID

from auditlog.errors import Refusal
from auditlog.i18n import _

MARK = "**"  # Markdown bold: reads as emphasis in a terminal table and renders in .md
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Hit:
    finding_id: UUID
    title: str  # the title with the matching words marked
    snippet: str  # the best matching passage, words marked


def words(query: str) -> list[str]:
    """The words of a query; operators and punctuation are never syntax, only separators."""
    found = _WORD.findall(query)
    if not found:
        raise Refusal(_("--search {query!r} has no word to look for: give one or more words, "
                        "e.g. --search \"perjalanan dinas\"").format(query=query))
    return found


def fts5_query(query: str) -> str:
    """Every word quoted (so FTS5 reads none as an operator) and matched as a prefix, so
    "setor" finds "setoran" (PostgreSQL: `to_tsquery('auditlog_search', 'setor:*')`)."""
    return " ".join(f'"{w}"*' for w in words(query))


def one_line(text: str) -> str:
    """The indexed texts are kept one per line; a table cell shows them on one."""
    return " / ".join(part for part in text.splitlines() if part.strip())


# --- PostgreSQL ------------------------------------------------------------------------------
# The same table as SQLite's FTS5 one (rows keyed by ``rowid``, the same columns, so the
# projection writes both alike), with a tsvector over the four fields weighted A (title) to D
# (follow-ups) kept by the database, and a GIN index on it. Its configuration, auditlog_search,
# is 'simple' (no stemming or stop words, as FTS5's unicode61; Indonesian has no configuration
# of its own) behind the unaccent dictionary, so that 'Désa' and 'desa' are one word, as FTS5's
# remove_diacritics 2 makes them. unaccent ships with PostgreSQL (Debian's postgresql-NN) and
# is a trusted extension: the store's owner, who makes these tables, adds it with the CREATE
# right on the database, no superuser; searching needs nothing more. Where it cannot be added
# (a server without contrib, an owner without that right), the configuration is a plain copy
# of 'simple' and search works without folding accents, as before.
SEARCH_CONFIG = "auditlog_search"
# Token types that may hold a letter outside ASCII (the ascii* ones cannot carry an accent).
_ACCENTED = "word, hword, hword_part, numword, numhword, hword_numpart"
PG_SEARCH_SCHEMA = [
    # Made once per schema, kept when the projection tables are made again; a subtransaction
    # (the EXCEPTION block) undoes a failed CREATE EXTENSION without aborting the remake.
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '"
    + SEARCH_CONFIG + "' AND cfgnamespace = current_schema()::regnamespace) THEN BEGIN "
    "CREATE EXTENSION IF NOT EXISTS unaccent; "
    "CREATE TEXT SEARCH CONFIGURATION " + SEARCH_CONFIG + " (COPY = simple); "
    "ALTER TEXT SEARCH CONFIGURATION " + SEARCH_CONFIG + " ALTER MAPPING FOR " + _ACCENTED
    + " WITH unaccent, simple; EXCEPTION WHEN OTHERS THEN CREATE TEXT SEARCH CONFIGURATION "
    + SEARCH_CONFIG + " (COPY = simple); END; END IF; END $$",
    "CREATE TABLE IF NOT EXISTS projection_search (rowid BIGINT PRIMARY KEY, "
    "finding_id TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
    "recommendations TEXT NOT NULL, followups TEXT NOT NULL, document tsvector GENERATED "
    f"ALWAYS AS (setweight(to_tsvector('{SEARCH_CONFIG}', title), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}', body), 'B') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}', recommendations), 'C') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}', followups), 'D')) STORED)",
    "CREATE INDEX IF NOT EXISTS projection_search_document ON projection_search "
    "USING GIN (document)",
]
_MARKS = f"StartSel={MARK}, StopSel={MARK}"
# ts_rank's weights for D, C, B, A: FTS5's bm25 weights of the same fields (1, 2, 4, 10).
PG_SEARCH = (
    f"SELECT finding_id, ts_headline('{SEARCH_CONFIG}', title, q, 'HighlightAll=true, "
    + _MARKS + "'), "
    f"ts_headline('{SEARCH_CONFIG}', concat_ws(E'\\n', title, body, recommendations, "
    "followups), q, '" + _MARKS + ", MaxWords=12, MinWords=5, MaxFragments=1') "
    f"FROM projection_search, to_tsquery('{SEARCH_CONFIG}', ?) AS q WHERE document @@ q "
    "ORDER BY ts_rank('{0.1, 0.2, 0.4, 1.0}', document, q) DESC, rowid"
)


def pg_tsquery(query: str) -> str:
    """Every word quoted (so none is read as an operator), all required, each a prefix."""
    return " & ".join(f"'{w.lower()}':*" for w in words(query))
