"""Text formats in and out: every imported text becomes the bank's Markdown, sanitised.

The bank stores CommonMark with raw HTML turned off and renders it through nh3
(quiz.rendering). Moodle files carry text as html, markdown, plain or moodle_auto_format
(GIFT: [html], [markdown], [plain], [moodle]). Reading:
- html: nh3 keeps only the tags the bank can show (plus b/i/h*, mapped to their Markdown
  equivalents), drops scripts, styles and images, then markdownify writes Markdown;
- plain: Markdown's special characters (and &, which would start an entity) are escaped,
  so the text reads exactly as written;
- moodle_auto_format: Moodle's own rule (blank lines make paragraphs, a line break is a
  break, HTML allowed), then as html;
- markdown: kept as is (it is rendered and sanitised like every bank text).
Writing: `to_html` renders the bank's Markdown with the same renderer learners see.
"""

from __future__ import annotations

import re

import nh3
from markdownify import markdownify

from ..rendering import render_markdown
from .model import ExchangeError

FORMATS = ("html", "markdown", "plain", "moodle_auto_format")

# What survives on the way in: the bank's rendered tags plus the ones markdownify maps onto
# them (b -> **, i -> *, headings -> bold paragraphs are kept as headings and shown as text).
_KEEP_TAGS = {"p", "em", "strong", "b", "i", "code", "pre", "ul", "ol", "li", "br", "a", "blockquote",
              "h1", "h2", "h3", "h4", "h5", "h6"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~&])")


def from_html(text: str) -> str:
    cleaned = nh3.clean(text, tags=_KEEP_TAGS, attributes={"a": {"href"}},
                        url_schemes={"http", "https", "mailto"},
                        clean_content_tags={"script", "style"})
    result = markdownify(cleaned, heading_style="ATX", bullets="-", escape_underscores=True)
    # markdownify keeps line-end double spaces for <br>; collapse runs of blank lines.
    return re.sub(r"\n{3,}", "\n\n", result).strip()


def from_plain(text: str) -> str:
    """Plain text that renders exactly as written (line breaks kept)."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    escaped = [_MARKDOWN_SPECIAL.sub(r"\\\1", p).replace("\n", "\\\n") for p in paragraphs]
    return "\n\n".join(p for p in escaped if p)


def from_moodle_auto(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    return from_html("".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs))


def to_markdown(text: str | None, fmt: str | None) -> str:
    """A file's text in `fmt` (one of FORMATS; None or empty = html, Moodle's default)."""
    text = text or ""
    fmt = (fmt or "html").lower()
    if fmt == "html":
        return from_html(text)
    if fmt == "plain":
        return from_plain(text)
    if fmt == "moodle_auto_format":
        return from_moodle_auto(text)
    if fmt == "markdown":
        return text.strip()
    raise ExchangeError(f"unknown text format {fmt!r} (expected one of {', '.join(FORMATS)})")


def to_html(markdown: str) -> str:
    """The bank's Markdown as the sanitised HTML learners see."""
    return str(render_markdown(markdown)).strip()
