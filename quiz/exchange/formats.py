"""The exchange formats by name ("moodle-xml", "gift"): read a file's bytes, or export the
bank as one file. Shared by the CLI and the studio's upload and download pages."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from .model import MAX_FILE_BYTES, ExchangeError, ExchangeQuestion

FORMATS = {"moodle-xml": "Moodle XML", "gift": "GIFT"}
# The file each format's download is named after, and its media type.
EXTENSIONS = {"moodle-xml": "xml", "gift": "gift.txt"}
MEDIA_TYPES = {"moodle-xml": "application/xml", "gift": "text/plain; charset=utf-8"}
_MODULES = {"moodle-xml": "moodle_xml", "gift": "gift"}
# What a format cannot hold, by question type (left out of its export, listed).
CANNOT_HOLD = {"gift": {"ordering": "GIFT has no ordering questions"}}


def module(fmt: str) -> ModuleType:
    """The reader/writer module of a format (quiz/exchange/moodle_xml.py, gift.py)."""
    if fmt not in _MODULES:
        raise ExchangeError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    return import_module(f"{__package__}.{_MODULES[fmt]}")


def read_file(data: bytes, fmt: str) -> list[ExchangeQuestion]:
    """The questions of a file; ExchangeError (a message for people) if it cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise ExchangeError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        return module(fmt).read(data)
    except UnicodeDecodeError as exc:
        raise ExchangeError(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def export_file(fmt: str, *, include_drafts: bool = False) -> tuple[bytes, list[tuple[str, str]]]:
    """The bank (quiz.exchange.bank.to_exchange) as one file of `fmt`, and the questions left
    out because the format cannot hold them: (question id, reason)."""
    from .bank import to_exchange

    questions = to_exchange(include_drafts=include_drafts)
    cannot = CANNOT_HOLD.get(fmt, {})
    left_out = [(x.name, cannot[x.qtype]) for x in questions if x.qtype in cannot]
    kept = [x for x in questions if x.qtype not in cannot]
    return module(fmt).write(kept), left_out
