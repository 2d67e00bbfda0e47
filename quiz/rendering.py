"""Safe rich text: Markdown rendered by markdown-it-py, then sanitised by nh3."""

from __future__ import annotations

import nh3
from flask import Flask
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False})
_ALLOWED_TAGS = {"p", "em", "strong", "code", "ul", "ol", "li", "br", "a", "blockquote"}


def _clean(html: str) -> Markup:
    # nh3 leaves only the allowed tags and safe link schemes, so the result is safe markup.
    cleaned = nh3.clean(html, tags=_ALLOWED_TAGS, url_schemes={"http", "https", "mailto"})
    return Markup(cleaned)  # noqa: S704


def render_markdown(text: str | None) -> Markup:
    return _clean(_md.render(text or ""))


def render_inline(text: str | None) -> Markup:
    return _clean(_md.renderInline(text or ""))


def register_filters(app: Flask) -> None:
    app.add_template_filter(render_markdown, "md")
    app.add_template_filter(render_inline, "md_inline")
