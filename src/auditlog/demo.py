"""The seed story of DOMAIN.md, recorded through the same commands auditors use.

26 July 2023: at the Inspektorat's workshop the mayor of Kota Malang said SAKIP had reached A
and the RB index BB, the follow-through on the evaluators' earlier catatan; in Jawa Timur,
Kabupaten Banyuwangi had reached that level first and Kota Surabaya followed Malang. Public
records add: Malang SAKIP A since 2020; RB moved B -> BB in 2021. Report numbers, OPD details
and amounts below are illustrative.
"""

from datetime import date

from auditlog import commands, commitment_commands
from auditlog.clock import now, today
from auditlog.domain.aggregate import Context
from auditlog.domain.commitment import parse_value
from auditlog.domain.events import CommitmentStatus, RecommendationSpec, Status
from auditlog.domain.finding import Finding, finding_id
from auditlog.domain.grades import rule_for
from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.store.app import Store

MALANG, BANYUWANGI, SURABAYA, JATIM = "35.73", "35.10", "35.78", "35"
FIRST_TITLE = "Indikator kinerja utama belum selaras dengan sasaran RPJMD"
FIRST_REPORT = "700/031/LHE-SAKIP/2022"


def _recs(*texts: str, code: str | None = None, value: int | None = None
          ) -> list[RecommendationSpec]:
    return [RecommendationSpec(n=i + 1, text=t, code=code, value=value)
            for i, t in enumerate(texts)]


def record_demo(store: Store, actor: str) -> int:
    """Record the story unless it is already there; returns how many events were added."""
    if isinstance(store.get(finding_id(MALANG, FIRST_REPORT, FIRST_TITLE)), Finding):
        return 0
    # The story is fiction: it goes only into a store of its own, never among real records
    # (there it would stay for ever, the log being append-only).
    held = store.max_position()
    if held:
        raise Refusal(_("this store already holds {held} events that are not the demo story, "
                        "which would stay in it for ever: run the demo in a new store, e.g. "
                        "auditlog --db demo.db demo").format(held=held))
    before = store.max_position()
    ctx = Context(actor=actor, at=now())

    for code in (JATIM, MALANG, BANYUWANGI, SURABAYA):
        commands.register_pemda(store, ctx, code, None, None, date(2023, 1, 2))

    def grade(pemda: str, instrument: str, year: int, value: str, on: date,
              because: tuple[str, ...] = ()) -> None:
        commands.record_grade(store, ctx, pemda, instrument, year, rule_for(instrument, None),
                              value, None, because, on, None)

    # Kota Malang: the catatan of the SAKIP evaluation and what was done about them.
    sakip = commands.record_finding(store, ctx, commands.NewFinding(
        pemda=MALANG, title=FIRST_TITLE, report=FIRST_REPORT, issued=date(2022, 12, 15),
        received=date(2023, 1, 9),
        instrument="SAKIP", year=2022, opd="Bappeda",
        condition="IKU pada 9 OPD tidak menurunkan sasaran RPJMD",
        criteria="PermenPAN-RB 88/2021", cause="Cascading kinerja belum disusun",
        effect="Capaian kinerja tidak dapat diukur terhadap sasaran daerah",
        recommendations=_recs("Menyelaraskan IKU seluruh OPD dengan sasaran RPJMD",
                              "Menyusun cascading kinerja sampai level pelaksana"),
    ))
    rb = commands.record_finding(store, ctx, commands.NewFinding(
        pemda=MALANG, title="Layanan publik digital belum terintegrasi",
        report="700/044/LHE-RB/2022", received=date(2023, 2, 6), instrument="RB", year=2022,
        opd="Dinas Komunikasi dan Informatika",
        recommendations=_recs("Mengintegrasikan layanan perizinan ke Mal Pelayanan Publik "
                              "digital"),
    ))
    money = commands.record_finding(store, ctx, commands.NewFinding(
        pemda=MALANG, title="Kelebihan pembayaran perjalanan dinas",
        report="700/012/ITDA/2023", issued=date(2023, 3, 1), received=date(2023, 3, 3),
        opd="Dinas Kesehatan", code="1.02.01", value=12_150_000,
        recommendations=_recs("Menyetorkan kelebihan pembayaran ke kas daerah", code="01",
                              value=12_150_000),
    ))
    for n, on, action in ((1, date(2023, 2, 20), "IKU 9 OPD direvisi dan ditetapkan"),
                          (2, date(2023, 3, 6), "Cascading kinerja ditetapkan Wali Kota")):
        commands.record_followup(store, ctx, f"{sakip.ref}.{n}", on, action, 0, None, ())
        commands.review(store, ctx, f"{sakip.ref}.{n}", Status.S,
                        "Dokumen sesuai rekomendasi evaluator", on)
    commands.record_followup(store, ctx, f"{rb.ref}.1", date(2023, 3, 15),
                             "Integrasi 40 dari 120 layanan perizinan", 0, None, ())
    commands.review(store, ctx, f"{rb.ref}.1", Status.BS, "Baru sebagian layanan terintegrasi",
                    date(2023, 3, 20))
    commands.record_followup(store, ctx, f"{rb.ref}.1", date(2023, 5, 22),
                             "Seluruh layanan perizinan terintegrasi", 0, None, ())
    commands.review(store, ctx, f"{rb.ref}.1", Status.S, "Seluruh layanan sudah terintegrasi",
                    date(2023, 5, 29))
    commands.record_followup(store, ctx, f"{money.ref}.1", date(2023, 4, 28),
                             "Setoran sebagian ke kas daerah", 7_500_000, "STS-0412/2023", ())
    commands.review(store, ctx, f"{money.ref}.1", Status.BS,
                    "Setoran baru Rp7.500.000 dari Rp12.150.000", date(2023, 5, 2))

    for year, value in ((2019, "BB"), (2020, "A"), (2021, "A")):
        grade(MALANG, "SAKIP", year, value, date(year + 1, 2, 15))
    grade(MALANG, "SAKIP", 2022, "A", date(2023, 6, 30),
          (f"{sakip.ref}.1", f"{sakip.ref}.2"))
    grade(MALANG, "RB", 2020, "B", date(2021, 3, 1))
    grade(MALANG, "RB", 2021, "BB", date(2022, 3, 1))
    grade(MALANG, "RB", 2022, "BB", date(2023, 6, 30), (f"{rb.ref}.1",))

    # The workshop itself: the four RB Tematik targets, commitments still to be built.
    workshop = commands.record_finding(store, ctx, commands.NewFinding(
        pemda=MALANG, title="Komitmen RB Tematik belum dituangkan dalam rencana aksi OPD",
        report="700/077/ITDA/2023", received=date(2023, 7, 26), instrument="RB", year=2023,
        opd="Sekretariat Daerah",
        recommendations=_recs(
            "Kepala OPD menyusun komitmen penanggulangan kemiskinan ekstrem",
            "Kepala OPD menyusun komitmen digitalisasi layanan",
            "Kepala OPD menyusun komitmen percepatan penurunan stunting",
            "Kepala OPD menyusun komitmen peningkatan investasi",
        ),
    ))

    record_commitments(store, ctx, workshop.ref)

    # Kabupaten Banyuwangi reached A first in Jawa Timur; Kota Surabaya followed Malang.
    bwi = commands.record_finding(store, ctx, commands.NewFinding(
        pemda=BANYUWANGI, title="Evaluasi internal SAKIP OPD belum berjenjang",
        report="700/018/LHE-SAKIP/2022", received=date(2023, 1, 16), instrument="SAKIP",
        year=2022, opd="Inspektorat",
        recommendations=_recs("Melaksanakan evaluasi internal berjenjang di seluruh OPD"),
    ))
    commands.record_followup(store, ctx, f"{bwi.ref}.1", date(2023, 3, 1),
                             "Evaluasi internal berjenjang dilaksanakan", 0, None, ())
    commands.review(store, ctx, f"{bwi.ref}.1", Status.S, "Laporan evaluasi lengkap",
                    date(2023, 3, 8))
    for year in (2019, 2020, 2021, 2022):
        grade(BANYUWANGI, "SAKIP", year, "A", date(year + 1, 2, 15),
              (f"{bwi.ref}.1",) if year == 2022 else ())
    for year in (2020, 2021, 2022):
        grade(BANYUWANGI, "RB", year, "BB", date(year + 1, 3, 1))

    sby = commands.record_finding(store, ctx, commands.NewFinding(
        pemda=SURABAYA, title="Target kinerja belum menggambarkan hasil (outcome)",
        report="700/025/LHE-SAKIP/2022", received=date(2023, 1, 23), instrument="SAKIP",
        year=2022, opd="Bappedalitbang",
        recommendations=_recs("Merumuskan ulang target kinerja berorientasi hasil",
                              "Menyusun pohon kinerja kota"),
    ))
    commands.record_followup(store, ctx, f"{sby.ref}.1", date(2023, 3, 10),
                             "Target kinerja dirumuskan ulang", 0, None, ())
    commands.review(store, ctx, f"{sby.ref}.1", Status.S, "Target sudah berorientasi hasil",
                    date(2023, 3, 17))
    grade(SURABAYA, "SAKIP", 2021, "BB", date(2022, 2, 15))
    grade(SURABAYA, "SAKIP", 2022, "A", date(2023, 6, 30), (f"{sby.ref}.1",))
    grade(SURABAYA, "RB", 2022, "BB", date(2023, 6, 30))
    return store.max_position() - before


# The workshop's commitments: each head of OPD commits on one theme and the OPD's secretary
# carries it out (the mayor's words). Indicators, values and OPD details are illustrative.
# (theme, OPD, owner, text, (indicator, unit, baseline, target), deadline,
#  realisations (date, value), review (status, date, reason) or None)
KOMITMEN: tuple[tuple[str, str, str, str, tuple[str, str, str, str], date,
                      tuple[tuple[date, str], ...], tuple[CommitmentStatus, date, str] | None],
                ...] = (
    ("kemiskinan-ekstrem", "Dinas Sosial", "Sekretaris Dinas Sosial",
     "Menghapus kemiskinan ekstrem dengan data terpadu dan bantuan tepat sasaran",
     ("penduduk miskin ekstrem", "%", "0.82", "0"), date(2024, 12, 31),
     ((date(2023, 12, 31), "0.45"), (date(2024, 6, 30), "0.21"), (date(2024, 12, 31), "0.04")),
     (CommitmentStatus.SEBAGIAN, date(2025, 1, 20),
      "Turun dari 0,82% ke 0,04%: belum nol, sisa rumah tangga sasaran dikawal 2025")),
    ("digitalisasi-pelayanan", "Dinas Komunikasi dan Informatika",
     "Sekretaris Dinas Komunikasi dan Informatika",
     "Mengintegrasikan seluruh layanan publik ke satu aplikasi layanan terpadu",
     ("layanan terintegrasi", "layanan", "40", "120"), date(2024, 6, 30),
     ((date(2023, 10, 31), "85"), (date(2023, 12, 29), "120")),
     (CommitmentStatus.TERCAPAI, date(2024, 1, 10),
      "120 layanan terintegrasi, diverifikasi pada aplikasi")),
    ("stunting", "Dinas Kesehatan", "Sekretaris Dinas Kesehatan",
     "Menurunkan prevalensi stunting balita",
     ("prevalensi stunting", "%", "18.0", "14.0"), date(2024, 12, 31),
     ((date(2023, 12, 31), "16.5"), (date(2024, 12, 31), "13.8")),
     (CommitmentStatus.TERCAPAI, date(2025, 1, 20), "Prevalensi 13,8% di bawah target 14%")),
    ("investasi", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
     "Sekretaris DPMPTSP", "Meningkatkan realisasi investasi",
     ("realisasi investasi", "miliar rupiah", "2300", "3000"), date(2023, 12, 31),
     ((date(2023, 12, 31), "2750"),),
     (CommitmentStatus.SEBAGIAN, date(2024, 1, 12),
      "Rp2,75 triliun dari target Rp3 triliun; dilanjutkan 2024")),
)


def record_commitments(store: Store, ctx: Context, catatan: str) -> None:
    """Kota Malang's commitments on the four themes, each answering its recommendation of the
    workshop's catatan; the catatan closes once they are in the OPD action plans, and the RB
    grade of 2023 names it as a cause, so the trail runs catatan -> commitments -> grade.

    Only what has happened by the clock's today is recorded: a demo run early (the walkthroughs
    pin 15 January 2024) tells the story up to that day."""
    for n, (theme, opd, owner, text, (indicator, unit, baseline, target), by, realisations,
            review) in enumerate(KOMITMEN, start=1):
        commitment = commitment_commands.record_commitment(
            store, ctx, commitment_commands.NewCommitment(
                pemda=MALANG, opd=opd, theme=theme, text=text, owner=owner, by=by,
                on=date(2023, 8, 1), indicator=indicator, unit=unit,
                baseline=parse_value(baseline), target=parse_value(target),
                answers=(f"{catatan}.{n}",)))
        commands.record_followup(store, ctx, f"{catatan}.{n}", date(2023, 8, 14),
                                 f"Komitmen {commitment.ref} dituangkan dalam rencana aksi "
                                 f"{opd}", 0, None, ())
        commands.review(store, ctx, f"{catatan}.{n}", Status.S,
                        f"Rencana aksi memuat komitmen {commitment.ref}", date(2023, 8, 21))
        for on, value in realisations:
            if on <= today():
                commitment_commands.record_progress(store, ctx, commitment.ref, on,
                                                    parse_value(value), None, ())
        if review is not None and review[1] <= today():
            commitment_commands.review(store, ctx, commitment.ref, review[0], review[2],
                                       review[1])
    commands.record_grade(store, ctx, MALANG, "RB", 2023, rule_for("RB", None), "BB", None,
                          tuple(f"{catatan}.{n}" for n in range(1, len(KOMITMEN) + 1)),
                          date(2023, 12, 20), None)
