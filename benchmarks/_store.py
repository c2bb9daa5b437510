"""Build a benchmark store of N events quickly, through the real domain and store code."""

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from auditlog.domain.aggregate import Aggregate, Context, create_new
from auditlog.domain.events import RecommendationSpec, ReferenceAllocated, Status
from auditlog.domain.finding import Finding, finding_id
from auditlog.domain.pemda import Pemda, pemda_id
from auditlog.domain.references import ReferenceCounter, counter_id, format_ref
from auditlog.store.app import Store

PEMDAS = [f"{p:02d}.{k:02d}" for p in range(11, 21) for k in range(1, 6)]  # 50 pemda


def build(path: Path, events: int, seed: int = 7) -> int:
    """Record about `events` events: findings with follow-ups and reviews across 2019-2024."""
    rng = random.Random(seed)
    store = Store(str(path))
    at = datetime(2019, 1, 1, tzinfo=UTC)
    ctx = Context("bench", at)
    store.app.save(*[create_new(Pemda, ctx, pemda_id(c), at.date(), code=c, name=f"Pemda {c}",
                                level="kabupaten") for c in PEMDAS])
    counters: dict[int, ReferenceCounter] = {}
    total = len(PEMDAS)
    pending: list[Aggregate] = []
    n = 0
    while total < events:
        n += 1
        received = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))
        ctx = Context("bench", datetime.combine(received, datetime.min.time(), UTC)
                      + timedelta(hours=9))
        year = received.year
        counter = counters.get(year)
        fid = finding_id(PEMDAS[n % len(PEMDAS)], f"R/{n}", f"finding {n}")
        if counter is None:
            ref = format_ref(year, 1)
            counter = create_new(ReferenceCounter, ctx, counter_id(year), received, ref=ref,
                                 finding_id=fid)
            counters[year] = counter
        else:
            ref = counter.next_ref()
            counter.trigger(ctx, ReferenceAllocated, received, ref=ref, finding_id=fid)
        specs = [RecommendationSpec(n=i + 1, text=f"rekomendasi {i + 1}",
                                    value=rng.randrange(0, 50) * 1_000_000)
                 for i in range(rng.randrange(1, 3))]
        finding = create_new(Finding, ctx, fid, received, ref=ref,
                             pemda=PEMDAS[n % len(PEMDAS)], title=f"finding {n}",
                             report=f"R/{n}", received=received, recommendations=tuple(specs))
        total += 2
        for spec in specs:
            on = received + timedelta(days=rng.randrange(10, 200))
            deposit = rng.randrange(0, 5) * 1_000_000
            finding.record_followup(ctx, spec.n, on, "tindak lanjut", deposit, None, ())
            finding.review(ctx, spec.n, rng.choice([Status.BS, Status.S]), "alasan",
                           on + timedelta(days=5))
            total += 2
        pending.append(finding)
        if len(pending) >= 500:
            store.app.save(*pending, *counters.values())
            pending = []
    store.app.save(*pending, *counters.values())
    size = store.max_position()
    store.close()
    return size
