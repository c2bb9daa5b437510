"""The pemda of a province side by side in one instrument: grades by year, the year each first
reached each grade, rank within the year, and follow-up completion beside the grade.

How good a pemda looks depends on whom it is compared with (the mayor's warning in the seed):
the order is who reached the best grade first, so "first in Jawa Timur to reach A" reads from
the top down. Depends only on the read model, so --as-of/--known-at answer it like status.
"""

from datetime import date
from typing import Any

from auditlog.domain.grades import INSTRUMENTS, GradeEntry
from auditlog.domain.pemda import Pemda, official_region
from auditlog.errors import Refusal
from auditlog.i18n import N_, _
from auditlog.projections.model import ReadModel
from auditlog.projections.summary import Totals
from auditlog.reports.render import Format, render, to_json

# Ranked instruments: their scales go from the best grade to the worst.
COMPARABLE = ("SAKIP", "RB")
NEVER = 10_000  # a year after every year, for pemda that never reached a grade


def comparable_instrument(text: str) -> str:
    name = text.strip().upper()
    if name not in COMPARABLE:
        raise Refusal(_("instrument {text!r} cannot be compared: use --instrument "
                        "SAKIP or RB, whose grades rank from AA down to D").format(
            text=text))
    return name


def _scale(instrument: str) -> tuple[str, ...]:
    """Grades best first, over every rule version (a grade unknown to the newest rule keeps
    its place after the ones it knows)."""
    grades: list[str] = []
    for rule in INSTRUMENTS[instrument].values():
        grades += [g for g in rule.grades if g not in grades]
    return tuple(grades)


def choose_province(pemdas: list[Pemda], province: str | None) -> str:
    if province is not None:
        if "." in province:
            raise Refusal(_("--province {province} is a regency or city: give a "
                            "province code such as {example}").format(
                province=province, example=province.split('.')[0]))
        return province
    provinces = sorted({p.code.split(".")[0] for p in pemdas if "." in p.code})
    if len(provinces) == 1:
        return provinces[0]
    if not provinces:
        raise Refusal(_("no regency or city is registered: register some with "
                        "'auditlog pemda register CODE'"))
    raise Refusal(_("registered pemda are in provinces {provinces}: give one with "
                    "--province CODE").format(
        provinces=', '.join(provinces)))


def _rank(entries: dict[str, GradeEntry], scale: tuple[str, ...]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) by grade, then by score where scores were given."""
    def key(code: str) -> tuple[int, Any]:
        entry = entries[code]
        return scale.index(entry.grade), -(entry.score or 0)

    ordered = sorted(entries, key=key)
    ranks: dict[str, int] = {}
    for place, code in enumerate(ordered, start=1):
        before = ordered[place - 2] if place > 1 else None
        ranks[code] = ranks[before] if before is not None and key(before) == key(code) \
            else place
    return ranks


def compare_report(model: ReadModel, instrument: str, province: str | None,
                   year: int | None, on: date) -> dict[str, Any]:
    pemdas = model.pemda_list()
    chosen = choose_province(pemdas, province)
    members = [p for p in pemdas if p.code.startswith(chosen + ".")]
    if not members:
        raise Refusal(_("no regency or city of province {chosen} is registered: "
                        "'auditlog pemda list' shows the registered ones").format(
            chosen=chosen))
    scale = _scale(instrument)
    codes = {p.code for p in members}
    history: dict[str, dict[int, GradeEntry]] = {p.code: {} for p in members}
    for series in model.grade_series():
        if series.instrument == instrument and series.pemda in codes:
            history[series.pemda] = {y: e for y, e in series.years.items()
                                     if year is None or y <= year}
    years = sorted({y for entries in history.values() for y in entries})
    shown_years = [year] if year is not None else years
    rank_year = year if year is not None else (years[-1] if years else None)
    ranks = _rank({c: h[rank_year] for c, h in history.items() if rank_year in h}, scale) \
        if rank_year is not None else {}
    first: dict[str, dict[str, int]] = {}
    for code, entries in history.items():
        reached: dict[str, int] = {}
        for y in sorted(entries):
            level = scale.index(entries[y].grade)
            for grade in scale[level:]:  # reaching A is reaching BB and below too
                reached.setdefault(grade, y)
        first[code] = reached
    # A column for each grade someone held (reaching A also counts as reaching BB, but a
    # column for every grade below would only repeat the first year graded).
    held = {e.grade for entries in history.values() for e in entries.values()}
    reached_grades = [g for g in scale if g in held]
    earliest = {g: min(f[g] for f in first.values() if g in f) for g in reached_grades}
    totals: dict[str, Totals] = {p.code: Totals() for p in members}
    for row in model.rec_rows():
        if row.pemda in totals:
            totals[row.pemda].add_row(row, on)

    def order(p: Pemda) -> tuple[Any, ...]:
        return (*(first[p.code].get(g, NEVER) for g in scale), p.code)

    rows = []
    for place, p in enumerate(sorted(members, key=order), start=1):
        t = totals[p.code].as_json()
        rows.append({
            "order": place, "pemda": p.code, "name": p.name,
            "grades": {
                y: {"grade": e.grade, "score": None if e.score is None else str(e.score)}
                for y, e in sorted(history[p.code].items()) if y in shown_years
            },
            "first_reached": {g: first[p.code][g] for g in reached_grades
                              if g in first[p.code]},
            "first_in_province": [g for g in reached_grades
                                  if first[p.code].get(g) == earliest[g]],
            "rank": ranks.get(p.code),
            "recommendations": t["total"], "completion_pct": t["completion_pct"],
            "completion_value_pct": t["completion_value_pct"],
        })
    return {"instrument": instrument, "province": chosen, "province_name": _name(chosen,
                                                                                 pemdas),
            "years": shown_years, "rank_year": rank_year, "grades": reached_grades,
            "as_of": on.isoformat(), "pemda": rows}


def _name(province: str, pemdas: list[Pemda]) -> str:
    for p in pemdas:
        if p.code == province:
            return p.name
    official = official_region(province)
    return official[0] if official is not None else ""


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def compare_text(report: dict[str, Any], fmt: Format) -> str:
    if fmt is Format.json:
        return to_json(report["pemda"])
    columns = [("order", "#"), ("pemda", N_("pemda")), ("name", N_("name"))]
    columns += [(f"y{y}", str(y)) for y in report["years"]]
    columns += [(f"first_{g}", _("first {grade}").format(grade=g)) for g in report["grades"]]
    if report["rank_year"] is not None:
        columns.append(("rank", _("rank {year}").format(year=report["rank_year"])))
    columns += [("completion_pct", "% S"), ("completion_value_pct", "% Rp")]
    rows = []
    for row in report["pemda"]:
        display: dict[str, Any] = {
            "order": row["order"], "pemda": row["pemda"], "name": row["name"],
            "rank": "" if row["rank"] is None else row["rank"],
            "completion_pct": _pct(row["completion_pct"]),
            "completion_value_pct": _pct(row["completion_value_pct"]),
        }
        for y in report["years"]:
            entry = row["grades"].get(y)
            display[f"y{y}"] = "" if entry is None else (
                entry["grade"] if entry["score"] is None or fmt is Format.csv
                else f"{entry['grade']} {entry['score']}")
        for g in report["grades"]:
            reached = row["first_reached"].get(g)
            first = fmt is not Format.csv and g in row["first_in_province"]
            display[f"first_{g}"] = "" if reached is None else (
                _("{year} first").format(year=reached) if first else reached)
        rows.append(display)
    text = render(rows, columns, fmt)
    if fmt in (Format.table, Format.md):
        name = f" {report['province_name']}" if report["province_name"] else ""
        text = (_("{instrument} in{name} ({province}), as of {as_of}").format(
                    instrument=report["instrument"], name=name, province=report["province"],
                    as_of=report["as_of"]) + "\n\n" + text + "\n\n" +
                _("first G = the year a grade of G or better was first reached (\"first\": "
                  "earliest in the province); rank by grade, then score; % S by count and "
                  "% Rp deposited of rupiah to recover, over every recommendation"))
    return text
