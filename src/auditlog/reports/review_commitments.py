"""The commitments part of the annual review: per pemda and theme, each owner's account, and
the register of commitments, as typed rows every writer lays out alike."""

from datetime import date

from auditlog.domain.commitment import CLOSED, Commitment
from auditlog.i18n import N_
from auditlog.projections.commitments import CommitmentTally, by_owner, by_pemda_and_theme
from auditlog.reports.review import Column, Lang, Section, words

TALLY_COLUMNS = [
    Column("count", N_("Commitments"), "int"),
    Column("achieved", N_("Achieved"), "int"),
    Column("overdue", N_("Overdue"), "int"),
    Column("measured", N_("Measured"), "int"),
    Column("mean_progress_pct", N_("Mean progress %"), "pct"),
]


def in_year(commitment: Commitment, year: int) -> bool:
    """Made by the end of the year and not closed before it began."""
    closed_before = (commitment.status in CLOSED and commitment.status_changed_on is not None
                     and commitment.status_changed_on.year < year)
    return commitment.made_on.year <= year and not closed_before


def _tally_row(tally: CommitmentTally) -> dict[str, object]:
    data = tally.as_json()
    return {key: data[key] for key in ("count", "achieved", "overdue", "measured",
                                       "mean_progress_pct")}


def commitment_sections(commitments: list[Commitment], on: date, year: int,
                        names: dict[str, str], themes: dict[str, str],
                        lang: Lang) -> list[Section]:
    chosen = [c for c in commitments if in_year(c, year)]
    per_theme = Section("commitments", N_("Commitments by pemda and theme"), [
                            Column("pemda", N_("Pemda")), Column("name", N_("Name")),
                            Column("theme", N_("Theme")),
                            Column("theme_name", N_("Theme name")), *TALLY_COLUMNS])
    for code, tallies in by_pemda_and_theme(chosen, on).items():
        for theme, tally in tallies.items():
            per_theme.rows.append({"pemda": code, "name": names.get(code, ""), "theme": theme,
                                   "theme_name": themes.get(theme, ""), **_tally_row(tally)})
    owners = Section("commitment_owners", N_("Owner accountability"), [
                         Column("pemda", N_("Pemda")),
                         Column("owner", N_("Owner")),
                         Column("opd", N_("OPD")), *TALLY_COLUMNS])
    for (code, owner, opd), tally in by_owner(chosen, on).items():
        owners.rows.append({"pemda": code, "owner": owner, "opd": opd, **_tally_row(tally)})
    register = Section("commitment_list", N_("Commitments register"), [
        Column("ref", N_("Ref")), Column("pemda", N_("Pemda")),
        Column("theme", N_("Theme")), Column("opd", N_("OPD")),
        Column("owner", N_("Owner")), Column("text", N_("Commitment")),
        Column("indicator", N_("Indicator")), Column("unit", N_("Unit")),
        Column("baseline", N_("Baseline")), Column("target", N_("Target")),
        Column("realised", N_("Realised")),
        Column("realised_on", N_("Realised on"), "date"),
        Column("progress_pct", N_("Progress %"), "pct"),
        Column("by", N_("Deadline"), "date"), Column("status", N_("Status")),
        Column("overdue", N_("Overdue")),
        Column("answers", N_("Answers")),
    ])
    yes = words(lang, N_("yes"))
    for c in sorted(chosen, key=lambda c: (c.pemda, c.theme, c.ref)):
        latest = c.latest
        register.rows.append({
            "ref": c.ref, "pemda": c.pemda, "theme": c.theme, "opd": c.opd, "owner": c.owner,
            "text": c.text, "indicator": c.indicator or "", "unit": c.unit or "",
            "baseline": "" if c.baseline is None else str(c.baseline),
            "target": "" if c.target is None else str(c.target),
            "realised": "" if latest is None else str(latest.value),
            "realised_on": None if latest is None else latest.on,
            "progress_pct": None if c.progress is None else float(c.progress),
            "by": c.by, "status": c.status.value, "overdue": yes if c.is_overdue(on) else "",
            "answers": " ".join(c.answers),
        })
    return [per_theme, owners, register]
