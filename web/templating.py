"""Jinja2 environments, one per language, each with its gettext catalog installed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from web.i18n import LANGUAGES, translations
from web.messages import BY_CODE, DONE, KINDS, ROLES, STATUSES, hours_and_minutes

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment(language: str) -> Environment:
    """Templates are shared; each language's environment has its own catalog, so that
    rendering never swaps translations under another request's feet."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = language
    env.globals["html_lang"] = "zh-Hans" if language == "zh_Hans" else "en"
    env.globals.update(
        kinds=KINDS, statuses=STATUSES, codes=BY_CODE, done_messages=DONE, roles=ROLES
    )
    env.filters["hm"] = lambda minutes: hours_and_minutes(language, minutes)
    return env


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    language: str = request.state.language
    template = environment(language if language in LANGUAGES else "zh_Hans").get_template(name)
    html = template.render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)
