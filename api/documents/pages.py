"""Plain server-rendered pages for people without an account: a certificate's verification.
Every value is escaped; the pages load nothing from elsewhere."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from api.documents.certificate import Language, date_text, hours_text
from projections.queries.certificates import Verification

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "志愿服务记录证明查验",
        "valid": "有效：本证明所载服务记录完整有效。",
        "superseded": "已失效：证明所载的服务记录于 {day} 被更正，本证明已不再准确。",
        "revoked": "已撤销（{day}）：{reason}",
        "unknown": "查无此证明：请核对验证码。",
        "number": "证明编号",
        "organisation": "出具单位",
        "volunteer": "志愿者",
        "period": "服务期间",
        "total": "累计服务时长",
        "issued_on": "出具日期",
        "to": " 至 ",
    },
    "en": {
        "title": "Verify a certificate of volunteer service",
        "valid": "Valid: the service records it states stand as certified.",
        "superseded": "Superseded: a service record it states was corrected on {day}; "
        "the certificate is no longer accurate.",
        "revoked": "Revoked on {day}: {reason}",
        "unknown": "No certificate has this code: please check it.",
        "number": "Certificate No.",
        "organisation": "Issued by",
        "volunteer": "Volunteer",
        "period": "Period",
        "total": "Total service",
        "issued_on": "Date of issue",
        "to": " to ",
    },
}

_STYLE = (
    "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.6}"
    ".valid{color:#176b2c}.superseded,.revoked,.unknown{color:#a3141d}"
    "th{text-align:left;padding-right:1em;font-weight:normal;color:#555}"
)


def verification_page(found: Verification | None, *, language: Language, timezone: tzinfo) -> str:
    """The page a certificate's QR code leads to: its status first, then what it states;
    for an unknown code, only that it is unknown."""
    words = _WORDS[language]
    if found is None:
        status, verdict, rows = "unknown", words["unknown"], ""
    else:
        status = found.status
        if found.status == "revoked" and found.revoked_on is not None:
            verdict = words["revoked"].format(
                day=date_text(found.revoked_on, language), reason=found.revoke_reason or ""
            )
        elif found.status == "superseded" and found.superseded_at is not None:
            day = found.superseded_at.astimezone(timezone).date()
            verdict = words["superseded"].format(day=date_text(day, language))
        else:
            verdict = words["valid"]
        period = (
            date_text(found.period_from, language)
            + words["to"]
            + date_text(found.period_until, language)
        )
        stated = (
            (words["number"], found.number),
            (words["organisation"], found.organisation),
            (words["volunteer"], found.volunteer_name),
            (words["period"], period),
            (words["total"], hours_text(found.total_minutes, language)),
            (words["issued_on"], date_text(found.issued_on, language)),
        )
        rows = "".join(
            f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in stated
        )
    lang = "zh-CN" if language == "zh" else "en"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(words['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(words['title'])}</h1>"
        f'<p class="{status}" id="status" data-status="{status}"><strong>'
        f"{escape(verdict)}</strong></p>"
        f"<table>{rows}</table></body></html>"
    )
