"""A certificate of service as a PDF: A4, in Chinese (or English on request), with the logs
it covers, its issuer, and a QR code and short code that lead to its public verification.

The same certificate in the same language is the same bytes however often it is printed:
the document's date is the issue date and nothing in it depends on when it was rendered.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from typing import Literal

import segno

from api.documents.fonts import cjk_font
from projections.queries.certificates import CertificateRecord

Language = Literal["zh", "en"]

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "志愿服务记录证明",
        "colon": "：",
        "number": "证明编号",
        "body": (
            "兹证明{name}于{start}至{end}期间{where}参加志愿服务，"
            "经服务记录核实，累计服务时长{hours}（共{minutes}分钟）。"
        ),
        "where": "在{organisation}{team}",
        "date": "服务日期",
        "activity": "服务内容",
        "team": "服务队伍",
        "minutes": "分钟",
        "total": "合计",
        "organisation": "出具单位",
        "issuer": "出具人",
        "issued_on": "出具日期",
        "code": "验证码",
        "verify": "扫描二维码或访问以下网址查验本证明：",
        "note": "本证明依据不可更改的服务记录出具；记录被更正后，查验页面将显示本证明已失效。",
    },
    "en": {
        "title": "Certificate of Volunteer Service",
        "colon": ": ",
        "number": "Certificate No.",
        "body": (
            "This is to certify that {name} served as a volunteer{where} from {start} to "
            "{end}, for a total of {hours} ({minutes} minutes), as recorded and approved."
        ),
        "where": " with {organisation}{team}",
        "date": "Date",
        "activity": "Service",
        "team": "Team",
        "minutes": "Minutes",
        "total": "Total",
        "organisation": "Issued by",
        "issuer": "Signed by",
        "issued_on": "Date of issue",
        "code": "Verification code",
        "verify": "Scan the QR code or visit this address to verify this certificate:",
        "note": (
            "Issued from records that cannot be altered; if a record is corrected later, "
            "the verification page shows that this certificate is superseded."
        ),
    },
}


def hours_text(minutes: int, language: Language) -> str:
    """Whole hours and minutes, never a fraction of an hour."""
    hours, rest = divmod(minutes, 60)
    if language == "zh":
        return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"
    return f"{hours} hours {rest} minutes" if rest else f"{hours} hours"


def date_text(day: date, language: Language) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if language == "zh" else day.isoformat()


def verification_url(public_url: str, code: str) -> str:
    """The public page a certificate's QR code leads to."""
    return f"{public_url.rstrip('/')}/verify/{code}"


def printed_code(code: str) -> str:
    """The code as printed, in two groups that are easy to read out and type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def certificate_pdf(record: CertificateRecord, *, language: Language, public_url: str) -> bytes:
    # fpdf is imported here, when a certificate is printed: it is slow to import, and every
    # start of the server would pay for it otherwise (see the cold start in BENCHMARKS.md).
    from fpdf import FPDF  # noqa: PLC0415
    from fpdf.enums import WrapMode, XPos, YPos  # noqa: PLC0415
    from fpdf.fonts import FontFace  # noqa: PLC0415

    labels = LABELS[language]
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(datetime.combine(record.issued_on, time(), UTC))
    pdf.set_title(f"{labels['title']} {record.number}")
    pdf.set_author(record.organisation)
    pdf.set_lang("zh-CN" if language == "zh" else "en")
    pdf.add_font("cjk", fname=str(cjk_font()), collection_font_number=0)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("cjk", size=22)
    pdf.cell(width, 14, labels["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=11)
    pdf.cell(
        width,
        8,
        f"{labels['number']}{labels['colon']}{record.number}",
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(4)

    team = f"（{record.team_name}）" if language == "zh" else f" ({record.team_name})"
    where = labels["where"].format(
        organisation=record.organisation, team=team if record.team_name else ""
    )
    pdf.set_font("cjk", size=13)
    pdf.multi_cell(
        width,
        9,
        labels["body"].format(
            name=record.volunteer_name,
            start=date_text(record.period_from, language),
            end=date_text(record.period_until, language),
            where=where,
            hours=hours_text(record.total_minutes, language),
            minutes=record.total_minutes,
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
        # Chinese breaks between any two characters, not only at spaces.
        wrapmode=WrapMode.CHAR if language == "zh" else WrapMode.WORD,
    )
    pdf.ln(4)

    pdf.set_font("cjk", size=10)
    with pdf.table(
        col_widths=(26, 74, 50, 20),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT"),
        line_height=7,
        headings_style=FontFace(emphasis="", fill_color=(235, 235, 235)),
    ) as table:
        table.row([labels["date"], labels["activity"], labels["team"], labels["minutes"]])
        for log in record.logs:
            table.row([log.service_date.isoformat(), log.activity, log.team_name, str(log.minutes)])
        table.row(["", labels["total"], "", str(record.total_minutes)])
    pdf.ln(6)

    pdf.set_font("cjk", size=11)
    for label, value in (
        (labels["organisation"], record.organisation),
        (labels["issuer"], record.issued_by_name),
        (labels["issued_on"], date_text(record.issued_on, language)),
    ):
        pdf.cell(width, 7, f"{label}{labels['colon']}{value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    url = verification_url(public_url, record.code)
    if pdf.get_y() + 45 > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    pdf.image(io.BytesIO(_qr_png(url)), x=pdf.l_margin, y=top, w=38, h=38)
    pdf.set_xy(pdf.l_margin + 44, top + 2)
    pdf.set_font("cjk", size=11)
    pdf.cell(width - 44, 7, f"{labels['code']}{labels['colon']}{printed_code(record.code)}")
    pdf.set_xy(pdf.l_margin + 44, top + 11)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(width - 44, 5, f"{labels['verify']}\n{url}")
    pdf.set_xy(pdf.l_margin, top + 42)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(width, 5, labels["note"])
    return bytes(pdf.output())


def _qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()
