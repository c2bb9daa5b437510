"""What the commitment commands print: the register of commitments and one commitment's card
with its realisations and whole trail. Depends only on the events read and the two times."""

from datetime import date
from typing import Any

from auditlog.domain.aggregate import project
from auditlog.domain.commitment import Commitment
from auditlog.domain.events import CommitmentStatus
from auditlog.errors import Refusal
from auditlog.projections.model import Moment, ReadModel
from auditlog.reports.render import Format, render, to_json
from auditlog.reports.views import TRAIL_COLUMNS, event_row
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
    ("ref", "ref"), ("pemda", "pemda"), ("opd", "OPD"), ("theme", "theme"),
    ("owner", "owner"), ("by", "by"), ("status", "status"), ("realised", "realised"),
    ("progress_pct", "progress %"), ("overdue", "overdue"),
]


def commitment_row(commitment: Commitment, on: date) -> dict[str, Any]:
    progress = commitment.progress
    latest = commitment.latest
    realised = ""
    if latest is not None:
        realised = f"{latest.value} {commitment.unit or ''}".strip()
    return {
        "ref": commitment.ref, "pemda": commitment.pemda, "opd": commitment.opd,
        "theme": commitment.theme, "owner": commitment.owner,
        "by": commitment.by.isoformat(), "status": commitment.status.value,
        "realised": realised,
        "progress_pct": "" if progress is None else f"{progress:.2f}",
        "overdue": "yes" if commitment.is_overdue(on) else "",
    }


def _matches(text: str, wanted: str | None) -> bool:
    return wanted is None or " ".join(text.casefold().split()) == " ".join(
        wanted.casefold().split())


def commitment_list(model: ReadModel, themes: dict[str, str], on: date, fmt: Format, *,
                    pemda: str | None = None, opd: str | None = None,
                    theme: str | None = None, owner: str | None = None,
                    status: CommitmentStatus | None = None, overdue: bool = False) -> str:
    if pemda is not None and pemda not in {p.code for p in model.pemda_list()}:
        raise Refusal(f"pemda {pemda} is not registered: 'auditlog pemda list' shows the "
                      "registered ones")
    found = [
        c for c in model.commitments(pemda)
        if _matches(c.opd, opd) and (theme is None or c.theme == theme)
        and _matches(c.owner, owner) and (status is None or c.status is status)
        and (not overdue or c.is_overdue(on))
    ]
    if fmt is Format.json:
        return to_json([commitment_json(c, on, themes) for c in found])
    return render([commitment_row(c, on) for c in found], LIST_COLUMNS, fmt)


def commitment_show(store: Store, commitment_id: Any, ref: str, moment: Moment, on: date,
                    themes: dict[str, str], fmt: Format) -> str:
    events = [e for e in store.events_of(commitment_id) if moment.admits(e)]
    commitment = project(None, events) if events and events[0].originator_version == 1 else None
    if not isinstance(commitment, Commitment):
        when = (f"made after {moment.as_of}" if moment.as_of is not None
                else f"not yet recorded at {moment.known_at}")
        raise Refusal(f"{ref} was {when}")
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
    facts = [
        ("pemda", commitment.pemda), ("OPD", commitment.opd),
        ("theme", f"{commitment.theme} ({data['theme_name']})"),
        ("owner", commitment.owner), ("made", commitment.made_on),
        ("by", f"{commitment.by}{' overdue' if data['overdue'] else ''}"),
        ("indicator", indicator), ("answers", " ".join(commitment.answers)),
        ("status", commitment.status.value),
        ("progress", None if data["progress_pct"] is None
         else f"{commitment.progress}% (realised {data['realised']} on {data['realised_on']})"),
    ]
    lines = [f"{commitment.ref}  {commitment.text}", ""]
    lines += [f"{k + ':':<12}{v}" for k, v in facts if v not in (None, "")]
    realisations = [
        {"on": r["on"], "value": _number(r["value"]), "note": r["note"] or "",
         "evidence": ", ".join(f"{e['name']} sha256:{e['sha256'][:12]}" for e in r["evidence"])}
        for r in data["realisations"]
    ]
    if realisations:
        lines += ["", render(realisations, [("on", "realised on"), ("value", "value"),
                                            ("note", "note"), ("evidence", "evidence")], fmt)]
    lines += ["", "trail:", render(trail, TRAIL_COLUMNS, fmt)]
    return "\n".join(lines)
