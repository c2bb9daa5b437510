"""The seed story of DOMAIN.md, recorded through the same commands auditors use.

26 July 2023: at the Inspektorat's workshop the mayor of Kota Malang said SAKIP had reached A
and the RB index BB, the follow-through on the evaluators' earlier catatan; in Jawa Timur,
Kabupaten Banyuwangi had reached that level first and Kota Surabaya followed Malang. Public
records add: Malang SAKIP A since 2020; RB moved B -> BB in 2021. Report numbers, OPD details
and amounts below are illustrative.
"""

from datetime import date

from auditlog import commands
from auditlog.clock import now
from auditlog.domain.aggregate import Context
from auditlog.domain.events import RecommendationSpec, Status
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
    commands.record_finding(store, ctx, commands.NewFinding(
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
    grade(BANYUWANGI, "RB", 2022, "BB", date(2023, 6, 30))

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
