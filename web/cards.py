"""A member card (爱心服务卡) as printed: its sign-in link, drawn as a QR code in the page."""

from __future__ import annotations

import segno
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from timebank.credentials import IssuedCard
from web.auth import Visitor
from web.templating import render


def card_link(request: Request, token: str) -> str:
    """The link the card's QR code carries: opening it signs the member in."""
    return str(request.base_url).rstrip("/") + f"/card/{token}"


def qr_svg(link: str) -> Markup:
    """Inline SVG: printed with the page, fetched from nowhere."""
    return Markup(segno.make(link, error="m").svg_inline(scale=5, title=""))  # noqa: S704


def card_page(
    request: Request, visitor: Visitor, name: str, card: IssuedCard, *, back: str
) -> HTMLResponse:
    link = card_link(request, card.token.token or "")
    context = {"visitor": visitor, "name": name, "card": card, "link": link, "back": back}
    return render(request, "card.html", {**context, "qr": qr_svg(link)})
