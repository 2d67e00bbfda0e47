"""The certificate as a PDF (fpdf2): one A4 landscape page.

Text is set in DejaVu Sans when its TrueType files are there (Debian's fonts-dejavu-core:
/usr/share/fonts/truetype/dejavu/), embedded as a subset, so names in any European script
come out as typed. Without them the PDF falls back to the built-in Helvetica, which knows
Latin-1 only: "Zoë Ñúñez" still prints as typed, other letters lose their accents
(Łódź -> Lodz) and anything else becomes "?". Characters the font lacks are replaced the
same way, so no name ever makes the PDF fail.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from .results import _aware

DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

BRAND = (31, 111, 139)  # --brand of style.css
INK = (33, 43, 54)
MUTED = (91, 107, 120)
RED = (176, 52, 30)

# Typographic characters Helvetica (Latin-1) lacks, as their plain equivalents.
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ",
                        # letters that do not decompose into a Latin-1 letter and an accent
                        "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d",
                        "\u0152": "OE", "\u0153": "oe", "\u0131": "i"})


@dataclass(frozen=True)
class CertificateText:
    """What the page says (plain values, so the layout is testable without a database)."""

    learner_name: str
    set_title: str
    org_name: str
    score: float
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    code: str  # as printed: ABCD-EFGH-JKMN
    verify_url: str


def long_date(moment: datetime) -> str:
    """7 December 2026 (no leading zero, the month written out)."""
    return f"{moment.day} {moment:%B %Y}"


class _Page:
    def __init__(self, font_dir: str | None):
        self.pdf = FPDF(orientation="L", unit="mm", format="A4")
        self.family = "Helvetica"
        self.cmap: dict[int, Any] | None = None
        folder = Path(font_dir) if font_dir else None
        if folder and all((folder / name).is_file() for name in FONT_FILES.values()):
            for style, name in FONT_FILES.items():
                self.pdf.add_font("DejaVu", style, str(folder / name))
            self.family = "DejaVu"
            self.cmap = self.pdf.fonts["dejavu"].cmap

    def close(self) -> None:
        """Close the font files fontTools keeps open (else they leak until collected)."""
        for font in self.pdf.fonts.values():
            if hasattr(font, "close"):
                font.close()

    def clean(self, text: str) -> str:
        """`text` as the font can print it: unknown characters lose their accents or
        become "?"; control characters go."""
        text = unicodedata.normalize("NFC", " ".join(str(text).split()))
        out = []
        for ch in text:
            if self._printable(ch):
                out.append(ch)
                continue
            ch = ch.translate(_PLAIN)
            if all(self._printable(c) for c in ch):
                out.append(ch)
                continue
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(self._printable(c) for c in base) else "?")
        return "".join(out)

    def _printable(self, ch: str) -> bool:
        if not ch.isprintable():
            return False
        if self.cmap is None:
            return ord(ch) < 256
        return ord(ch) in self.cmap

    def line(self, text: str, size: float, *, bold: bool = False, color=INK, height: float | None = None,
             link: str = "") -> None:
        """One centred line, shrunk (down to 60%) to fit the width, else wrapped."""
        pdf = self.pdf
        text = self.clean(text)
        width = pdf.epw - 2 * pdf.c_margin  # multi_cell's room inside its padding
        pdf.set_text_color(*color)
        fitted = size
        pdf.set_font(self.family, "B" if bold else "", fitted)
        while pdf.get_string_width(text) > width and fitted > size * 0.6:
            fitted -= 1
            pdf.set_font(self.family, "B" if bold else "", fitted)
        line_height = height or fitted * 0.55
        pdf.multi_cell(0, line_height, text, align="C", new_x="LMARGIN", new_y="NEXT", link=link)


FOOT_HEIGHT = 46  # mm from the foot of the page: the code, the URL, the issuer
SCALES = (1.0, 0.85, 0.7, 0.55)  # the body's type sizes, tried in turn until it fits


def render_pdf(cert: CertificateText, font_dir: str | None = DEJAVU_DIR) -> bytes:
    """The certificate's PDF. Deterministic: the file's dates are the issue date. Very long
    names and titles are set smaller until the body clears the foot."""
    for scale in SCALES:
        page = _Page(font_dir)
        try:
            if _draw(page, cert, scale) or scale == SCALES[-1]:
                return bytes(page.pdf.output())
        finally:
            page.close()
    raise AssertionError("unreachable")


def _draw(page: _Page, cert: CertificateText, scale: float) -> bool:
    """Lay the certificate out; False if the body runs into the foot."""
    pdf = page.pdf
    issued = _aware(cert.issued_at)
    pdf.set_creation_date(issued)
    pdf.set_title(page.clean(f"Certificate: {cert.set_title}, {cert.learner_name}"))
    pdf.set_author(page.clean(cert.org_name))
    pdf.set_subject(page.clean(f"Verification code {cert.code}"))
    pdf.set_auto_page_break(False)
    pdf.set_margins(30, 24, 30)
    pdf.add_page()

    # Frame: a brand-coloured double border.
    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)

    def line(text: str, size: float, gap: float = 0, **options) -> None:
        pdf.ln(gap * scale)
        page.line(text, size * scale, **options)

    pdf.set_y(26)
    line(cert.org_name, 15, color=MUTED)
    line("Certificate of completion", 32, 3, bold=True, color=BRAND)
    line("This certifies that", 14, 6, color=MUTED)
    line(cert.learner_name, 30, 2, bold=True)
    line("has passed", 14, 2, color=MUTED)
    line(cert.set_title, 21, 2, bold=True)
    line(f"with a score of {cert.score:.0f}% on {long_date(issued)}", 15, 3)
    expires = _aware(cert.expires_at)
    if expires is not None:
        line(f"Valid until {long_date(expires)}", 13, 1, color=MUTED)
    if cert.revoked_at is not None:
        line(f"REVOKED on {long_date(_aware(cert.revoked_at))}", 15, 2, bold=True, color=RED)
    fits = pdf.get_y() <= pdf.h - FOOT_HEIGHT - 2

    # Foot: the code and where to check it.
    pdf.set_y(pdf.h - FOOT_HEIGHT)
    page.line(f"Verification code: {cert.code}", 12, bold=True, height=7)
    page.line(f"Check it at {cert.verify_url}", 10, color=BRAND, height=6, link=cert.verify_url)
    page.line(f"Issued by {cert.org_name} through the IASTM training quiz.", 9, color=MUTED, height=6)
    return fits
