"""Keeps the catalogs in step with the pages: `python -m web.catalogs` extracts every
message (templates and `N_` in code) and merges it into each language's .po file,
keeping the translations there; new messages are left for a translator to fill in."""

from __future__ import annotations

import subprocess
import sys

from web.i18n import LANGUAGES, LOCALE_DIR, catalog_path


def main() -> None:
    template = LOCALE_DIR / "messages.pot"
    babel = [sys.executable, "-m", "babel.messages.frontend"]
    extract = ["extract", "-F", "web/babel.cfg", "-k", "N_", "--no-location", "--sort-output"]
    extract += ["--project", "timebank", "--version", "0.1.0", "--copyright-holder", "timebank"]
    subprocess.run([*babel, *extract, "-o", str(template), "."], check=True)  # noqa: S603
    for language in LANGUAGES:
        action = "update" if catalog_path(language).exists() else "init"
        subprocess.run(  # noqa: S603
            [*babel, action, "-i", str(template), "-d", str(LOCALE_DIR), "-l", language],
            check=True,
        )


if __name__ == "__main__":
    main()
