"""The honour wall (光荣榜) of a team or community for a period: ranked volunteers with their
hours and star levels, as a printable A4 PDF and as a plain page."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from api.documents.certificate import Language, hours_text
from api.documents.fonts import cjk_font
from projections.queries.reports import HonourWall

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "光荣榜",
        "all": "全部队伍",
        "period": "统计期间",
        "all_time": "累计",
        "rank": "名次",
        "name": "志愿者",
        "hours": "服务时长",
        "stars": "星级",
        "empty": "本期间尚无经审核的服务记录。",
        "position": "据账本第 {position} 号事件时的记录",
        "thanks": "感谢每一位志愿者的奉献！",
    },
    "en": {
        "title": "Honour Wall",
        "all": "All teams",
        "period": "Period",
        "all_time": "all time",
        "rank": "Rank",
        "name": "Volunteer",
        "hours": "Hours served",
        "stars": "Stars",
        "empty": "No approved service in this period yet.",
        "position": "As recorded up to ledger position {position}",
        "thanks": "Thank you to every volunteer!",
    },
}


def _stars(level: int) -> str:
    return "★" * level + "☆" * (5 - level) if level <= 5 else "★" * level


def _heading(wall: HonourWall, language: Language) -> tuple[str, str]:
    words = _WORDS[language]
    period = words["all_time"] if wall.period == "all" else wall.period
    return f"{wall.scope or words['all']} {words['title']}", f"{words['period']}: {period}"


def honour_wall_html(wall: HonourWall, language: Language) -> str:
    words = _WORDS[language]
    title, period = _heading(wall, language)
    rows = "".join(
        f"<tr><td>{h.rank}</td><td>{escape(h.name)}</td>"
        f"<td>{escape(hours_text(h.minutes, language))}</td>"
        f'<td class="stars" data-stars="{h.stars}">{_stars(h.stars)}</td></tr>'
        for h in wall.honoured
    )
    body = (
        f"<table><thead><tr><th>{words['rank']}</th><th>{words['name']}</th>"
        f"<th>{words['hours']}</th><th>{words['stars']}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if wall.honoured
        else f"<p>{escape(words['empty'])}</p>"
    )
    lang = "zh-CN" if language == "zh" else "en"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:48em;margin:2em auto;padding:0 1em}"
        "h1{color:#b3121f;text-align:center}table{width:100%;border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left}"
        ".stars{color:#d4a017}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(period)}</p>{body}"
        f"<p>{escape(words['thanks'])}</p>"
        f"<p><small>{escape(words['position'].format(position=wall.position))}</small></p>"
        "</body></html>"
    )


def honour_wall_pdf(wall: HonourWall, language: Language) -> bytes:
    """A4, for the notice board; the same wall is the same bytes."""
    # fpdf is imported when a wall is printed, as for certificates (api.documents.certificate).
    from fpdf import FPDF  # noqa: PLC0415
    from fpdf.enums import XPos, YPos  # noqa: PLC0415
    from fpdf.fonts import FontFace  # noqa: PLC0415

    words = _WORDS[language]
    title, period = _heading(wall, language)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_title(title)
    pdf.add_font("cjk", fname=str(cjk_font()), collection_font_number=0)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("cjk", size=28)
    pdf.set_text_color(179, 18, 31)
    pdf.cell(width, 16, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=12)
    pdf.cell(width, 9, period, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    if wall.honoured:
        pdf.set_font("cjk", size=12)
        with pdf.table(
            col_widths=(18, 62, 50, 40),
            text_align=("CENTER", "LEFT", "LEFT", "LEFT"),
            line_height=9,
            headings_style=FontFace(emphasis="", fill_color=(250, 230, 200)),
        ) as table:
            table.row([words["rank"], words["name"], words["hours"], words["stars"]])
            for h in wall.honoured:
                table.row([str(h.rank), h.name, hours_text(h.minutes, language), _stars(h.stars)])
    else:
        pdf.cell(width, 9, words["empty"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.cell(width, 9, words["thanks"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=8)
    pdf.cell(
        width,
        6,
        words["position"].format(position=wall.position),
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())
