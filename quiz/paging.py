"""What every paged list shows around its rows: "21–40 of 913" and the page links.

A page dataclass (the roster's, the dashboard's) inherits PageNumbers and has `rows`,
`page` (1-based) and `pages` (at least 1); PER_PAGE is its page size.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PageNumbers:
    PER_PAGE: ClassVar[int] = 50
    rows: list[Any]
    page: int
    pages: int

    @property
    def first(self) -> int:
        """1-based position of the page's first row (0 when nothing matches)."""
        return (self.page - 1) * self.PER_PAGE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.PER_PAGE + len(self.rows)

    def page_links(self, around: int = 2) -> list[int | None]:
        """First, last and nearby page numbers in order, None where pages are skipped."""
        shown = sorted({1, self.pages, *range(max(1, self.page - around),
                                              min(self.pages, self.page + around) + 1)})
        out: list[int | None] = []
        for n in shown:
            if out and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out
