"""Keeping an uploaded file on the server between its preview and its import.

Files go to ``<DATA_DIR>/import-staging/`` (never the document file store, whose purge
deletes unknown files), under a random token. Its metadata binds it to the user, the
organisation and the kind of import: anyone else asking for the token is told it does
not exist. Staged files expire; expired ones are removed whenever a file is staged.
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

from flask_babel import gettext as _

from app.services.errors import NotFoundError

FOLDER = "import-staging"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
DEFAULT_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Staged:
    token: str
    kind: str
    user_id: int
    organisation_id: int
    file_name: str
    sha256: str
    size: int
    created: float


class Staging:
    def __init__(self, data_dir: str | Path, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.folder = Path(data_dir) / FOLDER
        self.ttl_seconds = ttl_seconds

    def put(
        self, data: bytes, *, kind: str, user_id: int, organisation_id: int, file_name: str
    ) -> Staged:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(24)  # 32 characters
        staged = Staged(
            token=token,
            kind=kind,
            user_id=user_id,
            organisation_id=organisation_id,
            file_name=file_name[:200],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            created=time.time(),
        )
        _write(self._path(token, "bin"), data)
        _write(self._path(token, "json"), json.dumps(asdict(staged)).encode())
        return staged

    def get(self, token: str, *, kind: str, user_id: int, organisation_id: int) -> Staged:
        """The staged file's metadata, if it is this user's, organisation's and kind's."""
        if not TOKEN.match(token or ""):
            raise _gone()
        try:
            staged = Staged(**json.loads(self._path(token, "json").read_text()))
        except (OSError, ValueError, TypeError):
            raise _gone() from None
        if (staged.kind, staged.user_id, staged.organisation_id) != (
            kind,
            user_id,
            organisation_id,
        ):
            raise _gone()
        if time.time() - staged.created > self.ttl_seconds:
            self.discard(token)
            raise _gone()
        return staged

    def read(self, staged: Staged) -> bytes:
        try:
            data = self._path(staged.token, "bin").read_bytes()
        except OSError:
            raise _gone() from None
        if hashlib.sha256(data).hexdigest() != staged.sha256:
            raise _gone()
        return data

    def discard(self, token: str) -> None:
        if TOKEN.match(token or ""):
            for suffix in ("bin", "json"):
                self._path(token, suffix).unlink(missing_ok=True)

    def sweep(self) -> int:
        """Remove expired staged files; returns how many went."""
        removed = 0
        limit = time.time() - self.ttl_seconds
        for path in self.folder.glob("*.*"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
                    removed += path.suffix == ".bin"
            except OSError:
                continue
        return removed

    def _path(self, token: str, suffix: str) -> Path:
        return self.folder / f"{token}.{suffix}"


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _gone() -> NotFoundError:
    return NotFoundError(_("This upload has expired or is not yours: upload the file again."))
