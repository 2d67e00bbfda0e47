"""Uploaded exchange files kept between the studio's preview and its confirm step.

The preview stores the file under the instance folder (`imports/`, owner-only) keyed by a
random token, with who uploaded it and how it is to be imported; the confirm form carries
only the token. Confirming *claims* the upload (an atomic rename), so a second or concurrent
confirm of the same token finds nothing and imports nothing: a file is imported at most once
per preview. Plain functions over a folder: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_AGE = 24 * 3600  # seconds: older uploads nobody confirmed are removed at the next upload


class UploadGone(LookupError):  # noqa: N818 (reads as a reason)
    """No such upload: already imported (confirmed once), never made, or someone else's."""


@dataclass
class Upload:
    filename: str
    fmt: str
    topic: str | None
    skip_unsupported: bool
    user_id: int
    sha256: str


def _paths(folder: Path, token: str) -> tuple[Path, Path]:
    return folder / f"{token}.data", folder / f"{token}.json"


def save(folder: Path, data: bytes, upload: Upload) -> str:
    """Keep an upload; its token (32 URL-safe characters)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_old(folder)
    token = secrets.token_urlsafe(24)
    data_path, meta_path = _paths(folder, token)
    data_path.write_bytes(data)
    meta_path.write_text(json.dumps(asdict(upload)), encoding="utf-8")
    return token


def claim(folder: Path, token: str, user_id: int) -> tuple[bytes, Upload]:
    """Take an upload for importing: afterwards no one else can claim it. UploadGone if the
    token is malformed, unknown, already claimed, or another user's."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise UploadGone(token)
    data_path, meta_path = _paths(folder, token)
    try:
        upload = Upload(**json.loads(meta_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise UploadGone(token) from exc
    if upload.user_id != user_id:
        raise UploadGone(token)
    claimed = folder / f"{token}.claimed-{secrets.token_hex(4)}"
    try:
        os.rename(data_path, claimed)  # atomic: of two confirms, one wins
    except OSError as exc:
        raise UploadGone(token) from exc
    data = claimed.read_bytes()
    claimed.unlink()
    meta_path.unlink(missing_ok=True)
    if hashlib.sha256(data).hexdigest() != upload.sha256:
        raise UploadGone(token)
    return data, upload


def put_back(folder: Path, token: str, data: bytes, upload: Upload) -> None:
    """Undo a claim (the import failed for a reason other than the file: try again)."""
    data_path, meta_path = _paths(folder, token)
    data_path.write_bytes(data)
    meta_path.write_text(json.dumps(asdict(upload)), encoding="utf-8")


def _remove_old(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
