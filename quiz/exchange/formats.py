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


def export_file(fmt: str, *, include_drafts: bool = False
                ) -> tuple[bytes, list[tuple[str, str]], list[tuple[str, str]]]:
    """The bank (quiz.exchange.bank.to_exchange) as one file of `fmt`; the questions left out
    because the format cannot hold them (GIFT: ordering), and what a written question loses,
    each as (question id, reason)."""
    from .bank import to_exchange

    questions = to_exchange(include_drafts=include_drafts)
    writer = module(fmt)
    left_out: list[tuple[str, str]] = []
    losses: list[tuple[str, str]] = []
    if fmt == "gift":
        left_out = [(x.name, writer.unwritable_reason(x)) for x in writer.unwritable(questions)]
        losses = [(x.name, loss) for x in questions for loss in writer.write_losses(x)]
    skipped = {name for name, _ in left_out}
    return writer.write([x for x in questions if x.name not in skipped]), left_out, losses
