"""The outbox as admins read it (/admin/outbox): messages newest first, a page at a time,
and one message by its file name.

Both folders are listed: messages written there for want of a mail server, and those the
mail server did not take (`failed/`, marked undelivered). A message is found only by a name
of the listing's form that is in one of the two folders (a directory listing, not a path
built from the request), so nothing else on disk can be read through the page.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from .delivery import FAILED, UNDELIVERED

PER_PAGE = 50
NAME = re.compile(r"\d{8}T\d{12}-[0-9a-f]{8}\.eml")


@dataclass(frozen=True)
class OutboxRow:
    name: str
    to: str
    subject: str
    date: datetime | None
    undelivered: str | None  # the reason, for a message the mail server did not take


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    page: int
    pages: int
    total: int

    @property
    def first(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def _names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if NAME.fullmatch(e.name) and e.is_file()]
    except FileNotFoundError:
        return []


def _locations(outbox: Path) -> dict[str, Path]:
    """Every message's name -> its file, in both folders."""
    found = {name: outbox / FAILED / name for name in _names(outbox / FAILED)}
    found.update({name: outbox / name for name in _names(outbox)})
    return found


def _undelivered(message: EmailMessage) -> str | None:
    reason = message[UNDELIVERED]
    return " ".join(str(reason).split()) if reason is not None else None


def _date(message: EmailMessage) -> datetime | None:
    try:
        return parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        return None


def _headers(path: Path) -> EmailMessage:
    with path.open("rb") as fh:
        return BytesParser(policy=policy.default).parse(fh, headersonly=True)


def outbox_page(outbox: Path, page: int) -> OutboxPage:
    """Page `page` of the messages, newest first (names sort by time); a page past the end
    shows the last one. Only the page's files are opened (their headers)."""
    locations = _locations(outbox)
    names = sorted(locations, reverse=True)
    pages = max(1, math.ceil(len(names) / PER_PAGE))
    page = min(max(page, 1), pages)
    rows = []
    for name in names[(page - 1) * PER_PAGE: page * PER_PAGE]:
        message = _headers(locations[name])
        rows.append(OutboxRow(name=name, to=str(message["To"] or ""),
                              subject=str(message["Subject"] or ""), date=_date(message),
                              undelivered=_undelivered(message)))
    return OutboxPage(rows=rows, page=page, pages=pages, total=len(names))


@dataclass(frozen=True)
class OutboxMessage:
    row: OutboxRow
    sender: str
    text: str


def find_message(outbox: Path, name: str) -> OutboxMessage | None:
    """One message by its listed name, or None (not of the listing's form, or not there)."""
    if not NAME.fullmatch(name):
        return None
    path = _locations(outbox).get(name)
    if path is None:
        return None
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else "(no plain-text part)"
    row = OutboxRow(name=name, to=str(message["To"] or ""), subject=str(message["Subject"] or ""),
                    date=_date(message), undelivered=_undelivered(message))
    return OutboxMessage(row=row, sender=str(message["From"] or ""), text=text)
