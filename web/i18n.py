"""Message catalogs: Simplified Chinese by default, English; compiled from .po at load."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh_Hans", "en")
DEFAULT_LANGUAGE = "zh_Hans"
LANGUAGE_COOKIE = "tb_lang"
DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for it)
    """Marks a message for extraction where it is translated later (babel's -k N_)."""
    return message


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of a language, compiled from its .po file in memory: a fresh clone
    needs no build step, and no compiled file can drift from its source."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language.replace("_Hans", ""))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


def from_accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header that has a catalog: zh-CN,
    zh-Hans and zh go to Simplified Chinese, en-* to English; None when none has one."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return None


def chosen_language(cookie: str | None) -> str:
    """The pages' language: the reader's remembered choice, else Simplified Chinese (the
    language of the people served, whatever a borrowed browser is set to)."""
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE
