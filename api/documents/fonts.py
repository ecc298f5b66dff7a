"""The CJK font embedded in PDFs: installed from the system's packages (Debian's
fonts-wqy-microhei, fonts-wqy-zenhei or fonts-noto-cjk), looked for where they put it."""

from __future__ import annotations

from pathlib import Path

CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


class MissingFontError(Exception):
    """No CJK font is installed: PDFs cannot show Chinese."""

    def __init__(self) -> None:
        super().__init__(
            "no Chinese font is installed to print PDFs with: install the package "
            "fonts-wqy-microhei (apt-get install fonts-wqy-microhei)"
        )


def cjk_font() -> Path:
    """The first CJK font installed, in the order of `CANDIDATES`."""
    for path in CANDIDATES:
        if path.is_file():
            return path
    raise MissingFontError()
