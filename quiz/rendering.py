"""Safe rich text: Markdown rendered by markdown-it-py, then sanitised by nh3."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

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


# Bank texts never change once a revision exists, so each distinct text is rendered and
# sanitised once per process and then served from memory (the cache key is the text itself).
# 20,000 entries hold every prompt, choice, feedback and explanation of a bank several times
# the shipped one's size; a larger bank only re-renders its least recently used texts.
RENDER_CACHE_SIZE = 20_000


@lru_cache(maxsize=RENDER_CACHE_SIZE)
def render_markdown(text: str | None) -> Markup:
    return _clean(_md.render(text or ""))


@lru_cache(maxsize=RENDER_CACHE_SIZE)
def render_inline(text: str | None) -> Markup:
    return _clean(_md.renderInline(text or ""))


def percent(value: float | None) -> str:
    """A score as shown everywhere: "83%", or an en dash when there is none."""
    return "\u2013" if value is None else f"{value:.0f}%"


def day(value: datetime | date) -> str:
    """A date as every page shows it: "26 Nov 2026"."""
    return value.strftime("%d %b %Y")


def moment(value: datetime) -> str:
    """A time as every page shows it: "26 Nov 2026, 14:05" (filters cost less than
    calling strftime from a template, once per table row)."""
    return value.strftime("%d %b %Y, %H:%M")


def register_filters(app: Flask) -> None:
    app.add_template_filter(render_markdown, "md")
    app.add_template_filter(render_inline, "md_inline")
    app.add_template_filter(percent, "pct")
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
