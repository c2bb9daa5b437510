"""Full-text search of the register: what every engine's search must mean.

A query is words; a finding matches when every word begins a word in its title, its kondisi /
kriteria / sebab / akibat, its recommendations or its follow-ups (any mix of them). Hits come
ranked, best first, with the matching words marked. SQLite answers with FTS5 (bm25,
highlight, snippet) on the persisted projection; a PostgreSQL projection answers the same
question with its own full-text search (a tsvector over the same four fields weighted A-D,
`plainto_tsquery('simple', ...)`, `ts_rank`, `ts_headline` with the same marks).
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
    "setor" finds "setoran" (PostgreSQL: `to_tsquery('simple', 'setor:*')`)."""
    return " ".join(f'"{w}"*' for w in words(query))


def one_line(text: str) -> str:
    """The indexed texts are kept one per line; a table cell shows them on one."""
    return " / ".join(part for part in text.splitlines() if part.strip())
