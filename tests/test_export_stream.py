"""The review's writers stream (reports/export.py) yet write what the whole-document writers
wrote (JSON as orjson indents the whole document), for awkward values too (control
characters, _xHHHH_ lookalikes, spaces at either end, newlines, markup, very long text,
dates, scores, large rupiah, empty sections); and a text stays text in the workbook."""

import io
import zipfile
from datetime import date
from typing import Any

import orjson
import pytest

from auditlog.reports import export
from auditlog.reports.review import Column, Review, Section

AWKWARD = ["plain", " leading", "trailing ", "new\nline", "ends in newline \n", "tab\there",
           "bell\x07", "_x0041_ looks escaped", "a & b < c > d \"q\"", "=SUM(A1)", "",
           "x" * 40_000, "\ufffe", "Rp12.150.000", "ümlaut ✓"]


def awkward_review() -> Review:
    columns = [Column("ref", "Ref"), Column("count", "Count", "int"),
               Column("value", "To recover", "rupiah"), Column("pct", "%", "pct"),
               Column("on", "Date", "date"), Column("score", "Score", decimal=True),
               Column("flag", "Flag")]
    rows: list[dict[str, Any]] = []
    for n, text in enumerate(AWKWARD):
        rows.append({"ref": text, "count": n, "value": 10 ** (n + 3), "pct": n * 7.125,
                     "on": date(2023, 1 + n % 12, 1 + n), "score": f"{80 + n}.{n:02d}",
                     "flag": n % 3 == 0})
    rows.append({"ref": None, "count": None, "value": "", "pct": None, "on": None,
                 "score": "", "flag": None})  # a row with no cell at all
    rows.append({"ref": "last", "count": 0, "value": 0, "pct": 0.0, "on": "not a date",
                 "score": "", "flag": ""})
    return Review(2023, date(2023, 12, 31), None,
                  {"title": "Annual review 2023", "year": 2023, "as_of": "2023-12-31",
                   "known_at": None, "checkpoint": {"store_id": "s", "size": 1, "root": "r"}},
                  [Section("summary", "Compliance summary", columns, rows),
                   Section("grades", "Grade history", columns, []),
                   Section("register", "Findings register", columns,
                           lazy=lambda: iter(rows))])


@pytest.mark.parametrize("chunk", [1, 2, 500])
def test_json_is_what_orjson_gives_the_whole_document(chunk: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "JSON_CHUNK", chunk)
    review = awkward_review()
    whole = {"meta": review.meta, "sections": {
        s.key: {"title": s.title("en"),
                "columns": [{"key": c.key, "heading": c.heading("en"), "kind": c.kind}
                            for c in s.columns],
                "rows": [{c.key: export.plain(row.get(c.key)) for c in s.columns}
                         for row in s.each()]}
        for s in review.sections}}
    out = io.BytesIO()
    export.write_json(out, review, "en")
    assert out.getvalue() == orjson.dumps(whole, option=orjson.OPT_INDENT_2) + b"\n"


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def test_markup_in_a_text_stays_text_in_the_workbook() -> None:
    """XlsxWriter writes a string shaped like rich text (<r>...</r>) as raw XML; a finding's
    text never becomes the workbook's markup."""
    review = awkward_review()
    review.sections[0].rows[0]["ref"] = "<r><t>injected</t></r>"
    out = io.BytesIO()
    export.write_xlsx(out, review, "en")
    sheet = parts(out.getvalue())["xl/worksheets/sheet2.xml"]
    assert b"<r><t>injected" not in sheet
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    cells = [row[0] for row in book.worksheets[1].iter_rows(min_row=2, max_row=2,
                                                           values_only=True)]
    assert cells == ["<r><t>injected</t></r>"]
