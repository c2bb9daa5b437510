"""`auditlog import --template FILE.xlsx`: an empty register that `auditlog import` reads back,
with a sheet explaining each column by example and the accepted statuses offered in a list."""

import io
from pathlib import Path

from auditlog.errors import Refusal
from auditlog.files import write_file
from auditlog.i18n import N_, _
from auditlog.importer.columns import HEADERS

REGISTER_SHEET = "Register"
HELP_SHEET = "Petunjuk"
STATUS_CHOICES = ["Sesuai", "Belum Sesuai", "Belum Ditindaklanjuti",
                  "Tidak Dapat Ditindaklanjuti", "S", "BS", "BD", "TDTL"]
# Rows offered with the status list; beyond them Excel still accepts typed statuses.
VALIDATED_ROWS = 10000

# field -> (what it holds, an example, required?)
EXPLANATIONS: dict[str, tuple[str, str, bool]] = {
    "pemda": (N_("Audited regional government: Kemendagri code or official name"), "35.73", True),
    "opd": (N_("The unit (OPD) concerned"), "Bappeda", False),
    "report": (N_("Report (LHP/LHE) number"), "700/031/LHE-SAKIP/2023", False),
    "issued": (N_("Issue date of the report"), "1/3/2023", False),
    "received": (N_("Date the report was received; deadlines run from it (default: the "
                    "report date)"), "6/3/2023", False),
    "title": (N_("Finding (temuan/catatan): one finding over several rows may be merged, "
                 "repeated, or left blank after its first row"),
              "IKU belum selaras dengan RPJMD", True),
    "condition": (N_("Kondisi (condition)"), "Pohon kinerja berhenti di eselon III", False),
    "criteria": (N_("Kriteria (criteria)"), "PermenPAN-RB 88/2021", False),
    "cause": (N_("Sebab (cause)"), "Belum ada pendampingan", False),
    "effect": (N_("Akibat (effect)"), "Kinerja OPD tidak terukur", False),
    "code": (N_("BPK finding code"), "1.01.03", False),
    "value": (N_("Nilai temuan in rupiah"), "Rp12.150.000", False),
    "instrument": (N_("Instrument evaluated, for a catatan"), "SAKIP", False),
    "year": (N_("Assessment year, for a catatan"), "2022", False),
    "recommendation": (N_("One recommendation per row"), "Menyusun cascading kinerja", True),
    "rec_code": (N_("Recommendation code 01-14"), "06", False),
    "rec_value": (N_("Rupiah to recover"), "12.150.000", False),
    "due": (N_("Due date set by the report (default: received + 60 days)"), "5/5/2023", False),
    "followup": (N_("What the audited unit did (tindak lanjut)"), "Setoran ke kas daerah", False),
    "followup_on": (N_("Date of the follow-up (default: the day of the import)"), "10/4/2023",
                    False),
    "deposit": (N_("Rupiah deposited (nilai setor)"), "Rp7.500.000,-", False),
    "slip": (N_("Deposit slip number (STS)"), "STS-0012/2023", False),
    "status": (N_("Sesuai, Belum Sesuai, Belum Ditindaklanjuti, Tidak Dapat Ditindaklanjuti "
                  "(or S, BS, BD, TDTL); empty is BD"), "Belum Sesuai", False),
    "reviewed_on": (N_("Date of the review that set the status (default: the day of the "
                       "import)"), "14/4/2023", False),
    "reason": (N_("The review's reason (default: imported from FILE, row N)"),
               "Baru 5 dari 20 OPD", False),
}


def write_template(target: Path, *, force: bool) -> None:
    if target.suffix.lower() != ".xlsx":
        raise Refusal(_("--template writes an XLSX workbook: give a name ending in .xlsx, "
                        "e.g. {name}").format(name=target.with_suffix('.xlsx').name))
    write_file(target, template_bytes(), force=force, option="--template")


def template_bytes() -> bytes:
    import xlsxwriter

    fields = list(HEADERS)
    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True}) as workbook:
        bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        text = workbook.add_format({"num_format": "@"})
        sheet = workbook.add_worksheet(REGISTER_SHEET)
        for col, field in enumerate(fields):
            sheet.write_string(0, col, HEADERS[field][0], bold)
            # Region codes and numbers stay text: Excel would make 35.10 the number 35.1.
            sheet.set_column(col, col, 18, text if field in ("pemda", "report", "code",
                                                               "rec_code") else None)
        sheet.freeze_panes(1, 0)
        status = fields.index("status")
        sheet.data_validation(1, status, VALIDATED_ROWS, status, {
            "validate": "list", "source": STATUS_CHOICES, "ignore_blank": True,
            "error_type": "warning", "error_title": "Status",
            "error_message": _("Use Sesuai, Belum Sesuai, Belum Ditindaklanjuti or Tidak Dapat "
                               "Ditindaklanjuti (or S, BS, BD, TDTL)."),
        })
        guide = workbook.add_worksheet(HELP_SHEET)
        for col, title in enumerate((N_("Column"), N_("Also accepted"), N_("Holds"),
                                     N_("Example"), N_("Required"))):
            guide.write_string(0, col, _(title), bold)
        for row, field in enumerate(fields, start=1):
            holds, example, required = EXPLANATIONS[field]
            guide.write_string(row, 0, HEADERS[field][0])
            guide.write_string(row, 1, ", ".join(HEADERS[field][1:]))
            guide.write_string(row, 2, _(holds))
            guide.write_string(row, 3, example)
            guide.write_string(row, 4, _("yes") if required else "")
        guide.set_column(0, 1, 28)
        guide.set_column(2, 2, 70)
        guide.set_column(3, 3, 32)
    return out.getvalue()
