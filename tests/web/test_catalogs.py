"""The catalogs hold every message the pages and their errors use, translated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from web.i18n import catalog_path, translations

WEB = Path(__file__).parents[2] / "web"
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _used() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            WEB, METHODS, keywords=keywords, comment_tags=()
        )
    }


def test_every_message_used_is_translated_into_chinese() -> None:
    with catalog_path("zh_Hans").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}

    missing = sorted(_used() - translated.keys())

    assert not missing, f"run `python -m web.catalogs` and translate: {missing}"


def test_translations_keep_their_placeholders() -> None:
    with catalog_path("zh_Hans").open("rb") as po:
        catalog = read_po(po)
    for message in catalog:
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(str(message.string))) == set(
                PLACEHOLDER.findall(str(message.id))
            ), message.id


def test_the_catalogs_load_from_a_fresh_clone() -> None:
    """Compiled in memory from the .po files: no build step, nothing to forget."""
    assert translations("zh_Hans").gettext("Sign in") == "登录"
    assert translations("en").gettext("Sign in") == "Sign in"
