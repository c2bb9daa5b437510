"""Build a benchmark store of about N events through the domain, on the bulk path.

    python benchmarks/build_store.py N PATH [--seed S]

A realistic mix over six years (2019-2024): pemda registered; findings with 1-3
recommendations; follow-ups with deposits; reviews to BS then S or TDTL; some due dates
extended, some recommendations reopened and reviewed again; corrections of titles and values;
a few findings withdrawn; SAKIP and RB grades per pemda and year. Every command goes through
``auditlog.commands`` (the rules are checked, the references allocated, the chain written),
many to a transaction (``Store.bulk``), in the order of their transaction time. The persisted
projections are left for the benchmark to build (`auditlog rebuild` is one of its measures).
"""

import argparse
import heapq
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from functools import partial
from pathlib import Path

from auditlog import commands
from auditlog.domain.aggregate import Context
from auditlog.domain.events import RecommendationSpec, Status
from auditlog.domain.grades import rule_for
from auditlog.domain.pemda import level_of_code
from auditlog.store.app import Store

FIRST, DAYS = date(2019, 1, 1), 6 * 365
ACTORS = ("siti", "budi", "wayan", "dewi")
PER_TRANSACTION = 100_000  # events decided before one save: a finding is reloaded once a save


def pemda_codes(count: int) -> list[str]:
    """Region-code-shaped codes: 34 provinces and their regencies and cities."""
    codes = []
    for province in range(11, 95):
        codes.append(f"{province}")
        codes += [f"{province}.{k:02d}" for k in range(1, 16)]
    return codes[:count]


Action = Callable[[Store, Context], int]  # returns how many events it recorded


class Plan:
    """Commands scheduled by transaction time; each finding schedules its own future."""

    def __init__(self, rng: random.Random, pemdas: list[str]) -> None:
        self.rng = rng
        self.pemdas = pemdas
        self.queue: list[tuple[datetime, int, Action]] = []
        self.count = 0
        self.refs: dict[int, str] = {}

    def at(self, day: date, action: Action) -> None:
        moment = datetime.combine(day, clock(8), UTC) + timedelta(
            seconds=self.rng.randrange(0, 9 * 3600))
        self.count += 1
        heapq.heappush(self.queue, (moment, self.count, action))

    def finding(self, n: int, received: date) -> None:
        rng = self.rng
        pemda = self.pemdas[rng.randrange(len(self.pemdas))]
        recs = rng.choice((1, 1, 2, 2, 2, 3))
        specs = [RecommendationSpec(n=i + 1, text=f"rekomendasi {i + 1} atas temuan {n}",
                                    code=f"{rng.randrange(1, 15):02d}",
                                    value=rng.randrange(0, 200) * 500_000 or None)
                 for i in range(recs)]
        new = commands.NewFinding(
            pemda=pemda, title=f"temuan {n}", received=received, recommendations=specs,
            report=f"700/{n}/ITDA/{received.year}", issued=received - timedelta(days=3),
            opd=f"Dinas {rng.randrange(1, 30)}", condition="kondisi", criteria="kriteria",
            cause="sebab", effect="akibat", value=rng.randrange(0, 500) * 250_000 or None)

        def record(store: Store, ctx: Context) -> int:
            self.refs[n] = commands.record_finding(store, ctx, new).ref
            return 2

        self.at(received, record)
        for spec in specs:
            self.lifecycle(n, spec.n, received)
        if rng.random() < 0.08:
            self.at(received + timedelta(days=rng.randrange(1, 20)), lambda s, c: self.correct(
                s, c, n, received))
        if rng.random() < 0.01:
            self.at(received + timedelta(days=rng.randrange(200, 400)),
                    lambda s, c: self.withdraw(s, c, n, received))

    def lifecycle(self, n: int, rec: int, received: date) -> None:
        rng = self.rng
        day = received + timedelta(days=rng.randrange(5, 40))
        if rng.random() < 0.1:  # the due date is extended before anything happens
            due = received + timedelta(days=60 + rng.randrange(15, 90))
            self.at(day, self.do(n, rec, lambda s, c, r, on: commands.extend(
                s, c, r, due, "perpanjangan", on), day))
        for step in range(rng.choice((1, 2, 2, 3))):
            day += timedelta(days=rng.randrange(10, 120))
            deposit = rng.randrange(0, 20) * 250_000
            self.at(day, self.do(n, rec, partial(
                followup, deposit=deposit, slip=f"STS-{n}-{rec}" if deposit else None), day))
            day += timedelta(days=rng.randrange(1, 20))
            final = step > 0 and rng.random() < 0.7
            status = (Status.TDTL if rng.random() < 0.05 else Status.S) if final else Status.BS
            self.at(day, self.do(n, rec, partial(review, status=status), day))
            if final:
                if rng.random() < 0.05:  # reopened, then resolved again
                    day += timedelta(days=rng.randrange(10, 60))
                    self.at(day, self.do(n, rec, lambda s, c, r, on: commands.reopen(
                        s, c, r, "bukti setor tidak sah", on), day))
                    day += timedelta(days=rng.randrange(10, 60))
                    self.at(day, self.do(n, rec, lambda s, c, r, on: commands.review(
                        s, c, r, Status.S, "setor ulang", on), day))
                break

    def do(self, n: int, rec: int, fn: Callable[[Store, Context, str, date], object],
           on: date) -> Action:
        def action(store: Store, ctx: Context) -> int:
            ref = self.refs.get(n)
            if ref is None:  # withdrawn before (or never recorded)
                return 0
            fn(store, ctx, f"{ref}.{rec}", on)
            return 1
        return action

    def correct(self, store: Store, ctx: Context, n: int, received: date) -> int:
        ref = self.refs[n]
        on = received + timedelta(days=21)
        if self.rng.random() < 0.5:
            commands.correct(store, ctx, ref, "title", f"temuan {n} (diperbaiki)", "salah ketik",
                             on)
            return 2  # the correction and the new key it claims
        commands.correct(store, ctx, ref, "value", str(self.rng.randrange(1, 500) * 100_000),
                         "nilai dihitung ulang", on)
        return 1

    def withdraw(self, store: Store, ctx: Context, n: int, received: date) -> int:
        ref = self.refs.pop(n)
        commands.withdraw(store, ctx, ref, "tercatat ganda", received + timedelta(days=30))
        return 1


def build(path: Path, events: int, seed: int = 7, pemdas: int = 550,
          progress: Callable[[int], None] | None = None) -> int:
    # Each command carries its own transaction time (the plan's clock, 2019-2025): a pinned
    # AUDITLOG_NOW keeps the store from restamping them with today; the witness log of a
    # throw-away store stays beside it.
    os.environ.setdefault("AUDITLOG_NOW", "2026-01-01T00:00:00+00:00")
    os.environ.setdefault("AUDITLOG_WITNESS", str(path) + ".witness")
    rng = random.Random(seed)
    codes = pemda_codes(pemdas)
    store = Store(str(path))
    try:
        start = datetime.combine(FIRST, clock(7), UTC)

        def register(batch: Store) -> None:
            for i, code in enumerate(codes):
                commands.register_pemda(batch, Context("admin", start + timedelta(seconds=i)),
                                        code, f"Pemda {code}", level_of_code(code), FIRST)

        store.bulk(register)
        plan = Plan(rng, codes)
        # About 9.5 events per finding with this mix, plus two grades per pemda and year; a
        # few more are planned than needed, so the log ends with findings still in flight.
        findings = max(1, (events - len(codes) - 12 * len(codes)) * 11 // 95)
        for n in range(1, findings + 1):
            plan.finding(n, FIRST + timedelta(days=rng.randrange(0, DAYS - 30)))
        for year in range(2019, 2025):
            for code in codes:
                for instrument in ("SAKIP", "RB"):
                    score = Decimal(rng.randrange(4000, 9500)) / 100
                    on = date(year + 1, 2, 1) + timedelta(days=rng.randrange(0, 300))
                    plan.at(on, partial(grade, pemda=code, instrument=instrument, year=year,
                                        score=score, on=on))
        written = len(codes)
        while plan.queue and written < events:
            work: list[tuple[datetime, Action]] = []
            budget = 0
            while plan.queue and budget < PER_TRANSACTION and written + budget < events:
                moment, _, action = heapq.heappop(plan.queue)
                work.append((moment, action))
                budget += 2

            def run(batch: Store, work: list[tuple[datetime, Action]] = work) -> int:
                return sum(action(batch, Context(ACTORS[i % 4], moment))
                           for i, (moment, action) in enumerate(work))

            written += store.bulk(run)
            if progress is not None:
                progress(written)
        return store.max_position()
    finally:
        store.close()


def followup(store: Store, ctx: Context, ref: str, on: date, *, deposit: int,
             slip: str | None) -> None:
    commands.record_followup(store, ctx, ref, on, "tindak lanjut", deposit, slip, ())


def review(store: Store, ctx: Context, ref: str, on: date, *, status: Status) -> None:
    commands.review(store, ctx, ref, status, "hasil verifikasi", on)


def grade(store: Store, ctx: Context, *, pemda: str, instrument: str, year: int,
          score: Decimal, on: date) -> int:
    commands.record_grade(store, ctx, pemda, instrument, year, rule_for(instrument, None),
                          None, score, (), on, None)
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.path.exists():
        sys.exit(f"{args.path} exists: give a new path")
    started = time.perf_counter()
    size = build(args.path, args.events, args.seed,
                 progress=lambda n: print(f"  {n} events, {time.perf_counter() - started:.0f} s",
                                          file=sys.stderr))
    print(f"built {args.path}: {size} events in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
