"""What the commitment commands print: the register of commitments and one commitment's card
with its realisations and whole trail. Depends only on the events read and the two times."""

from datetime import date
from typing import Any

from auditlog.domain.aggregate import project
from auditlog.domain.commitment import Commitment
from auditlog.domain.events import CommitmentStatus
from auditlog.errors import Refusal
from auditlog.i18n import N_, _, format_date, format_pct
from auditlog.projections.model import Moment, ReadModel
from auditlog.reports.render import Format, render, to_json
from auditlog.reports.views import TRAIL_COLUMNS, _for_people, event_row
from auditlog.store.app import Store


def _number(value: Any) -> str:
    return "" if value is None else str(value)


def commitment_json(commitment: Commitment, on: date, themes: dict[str, str]) -> dict[str, Any]:
    latest = commitment.latest
    progress = commitment.progress
    return {
        "ref": commitment.ref, "pemda": commitment.pemda, "opd": commitment.opd,
        "theme": commitment.theme, "theme_name": themes.get(commitment.theme, ""),
        "text": commitment.text, "owner": commitment.owner,
        "indicator": commitment.indicator, "unit": commitment.unit,
        "baseline": None if commitment.baseline is None else str(commitment.baseline),
        "target": None if commitment.target is None else str(commitment.target),
        "direction": commitment.direction,
        "made_on": commitment.made_on.isoformat(), "by": commitment.by.isoformat(),
        "answers": list(commitment.answers), "status": commitment.status.value,
        "overdue": commitment.is_overdue(on),
        "realised": None if latest is None else str(latest.value),
        "realised_on": None if latest is None else latest.on.isoformat(),
        "progress_pct": None if progress is None else float(progress),
        "realisations": [
            {"on": r.on.isoformat(), "value": None if r.value is None else str(r.value),
             "note": r.note,
             "evidence": [e.model_dump(mode="json") for e in r.evidence]}
            for r in commitment.realisations
        ],
    }


LIST_COLUMNS = [
    ("ref", N_("ref")), ("pemda", N_("pemda")), ("opd", "OPD"), ("theme", N_("theme")),
    ("owner", N_("owner")), ("by", N_("deadline")), ("status", N_("status")),
    ("realised", N_("realised")), ("progress_pct", N_("progress %")),
    ("overdue", N_("overdue")),
]


def commitment_row(commitment: Commitment, on: date, machine: bool = True) -> dict[str, Any]:
    """A row of the list: ISO dates and plain numbers for scripts (``machine``), the reader's
    display forms otherwise."""
    progress = commitment.progress
    latest = commitment.latest
    realised = ""
    if latest is not None:
        realised = f"{latest.value} {commitment.unit or ''}".strip()
    return {
        "ref": commitment.ref, "pemda": commitment.pemda, "opd": commitment.opd,
        "theme": commitment.theme, "owner": commitment.owner,
        "by": commitment.by.isoformat() if machine else format_date(commitment.by),
        "status": commitment.status.value,
        "realised": realised,
        "progress_pct": "" if progress is None else (
            f"{progress:.2f}" if machine else format_pct(float(progress))),
        "overdue": ("yes" if machine else _("yes")) if commitment.is_overdue(on) else "",
    }


def _matches(text: str, wanted: str | None) -> bool:
    return wanted is None or " ".join(text.casefold().split()) == " ".join(
        wanted.casefold().split())


def commitment_list(model: ReadModel, themes: dict[str, str], on: date, fmt: Format, *,
                    pemda: str | None = None, opd: str | None = None,
                    theme: str | None = None, owner: str | None = None,
                    status: CommitmentStatus | None = None, overdue: bool = False) -> str:
    if pemda is not None and pemda not in {p.code for p in model.pemda_list()}:
        raise Refusal(_("pemda {pemda} is not registered: 'auditlog pemda list' shows "
                        "the registered ones").format(
            pemda=pemda))
    found = [
        c for c in model.commitments(pemda)
        if _matches(c.opd, opd) and (theme is None or c.theme == theme)
        and _matches(c.owner, owner) and (status is None or c.status is status)
        and (not overdue or c.is_overdue(on))
    ]
    if fmt is Format.json:
        return to_json([commitment_json(c, on, themes) for c in found])
    return render([commitment_row(c, on, machine=fmt is Format.csv) for c in found],
                  LIST_COLUMNS, fmt)


def commitment_show(store: Store, commitment_id: Any, ref: str, moment: Moment, on: date,
                    themes: dict[str, str], fmt: Format) -> str:
    events = [e for e in store.events_of(commitment_id) if moment.admits(e)]
    commitment = project(None, events) if events and events[0].originator_version == 1 else None
    if not isinstance(commitment, Commitment):
        if moment.as_of is not None:
            raise Refusal(_("{ref} was made after {as_of}").format(ref=ref, as_of=moment.as_of))
        raise Refusal(_("{ref} was not yet recorded at {known_at}").format(
            ref=ref, known_at=moment.known_at))
    subject_of = {commitment.id: commitment.ref}
    trail = [event_row(None, e, subject_of) for e in events]
    data = commitment_json(commitment, on, themes)
    if fmt is Format.json:
        data["trail"] = trail
        return to_json(data)
    if fmt is Format.csv:
        return render(trail, TRAIL_COLUMNS, fmt)
    indicator = None
    if commitment.indicator is not None:
        indicator = (f"{commitment.indicator} ({commitment.unit}): {commitment.baseline} -> "
                     f"{commitment.target}, {commitment.direction}")
    overdue = " " + _("overdue") if data["overdue"] else ""
    progress = None
    if data["progress_pct"] is not None and commitment.progress is not None:
        latest = commitment.latest
        # format_pct adds the % sign in Indonesian only (37,50%), so the English text has it
        progress = _("{pct}% (realised {value} on {on})").format(
            pct=format_pct(float(commitment.progress)), value=data["realised"],
            on=format_date(latest.on) if latest is not None else "")
    facts = [
        (N_("pemda"), commitment.pemda), ("OPD", commitment.opd),
        (N_("theme"), f"{commitment.theme} ({data['theme_name']})"),
        (N_("owner"), commitment.owner), (N_("made"), format_date(commitment.made_on)),
        (N_("deadline"), f"{format_date(commitment.by)}{overdue}"),
        (N_("indicator"), indicator), (N_("answers"), " ".join(commitment.answers)),
        (N_("status"), commitment.status.value),
        (N_("progress"), progress),
    ]
    lines = [f"{commitment.ref}  {commitment.text}", ""]
    shown = [(_(k) + ":", v) for k, v in facts if v not in (None, "")]
    width = max(12, *(len(k) + 1 for k, _v in shown))
    lines += [f"{k:<{width}}{v}" for k, v in shown]
    realisations = [
        {"on": format_date(date.fromisoformat(r["on"])), "value": _number(r["value"]),
         "note": r["note"] or "",
         "evidence": ", ".join(f"{e['name']} sha256:{e['sha256'][:12]}" for e in r["evidence"])}
        for r in data["realisations"]
    ]
    if realisations:
        lines += ["", render(realisations, [("on", N_("realised on")), ("value", N_("value")),
                                            ("note", N_("note")), ("evidence", N_("evidence"))],
                             fmt)]
    lines += ["", _("trail:"), render(_for_people(trail), TRAIL_COLUMNS, fmt)]
    return "\n".join(lines)
