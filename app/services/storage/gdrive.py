"""Google Drive as the file store, through fs.googledrivefs (pyfilesystem2).

    STORAGE_URL=googledrive:///?root_id=<folder id>            a folder shared with the account
    STORAGE_URL=googledrive:///?drive_id=<shared drive id>     the top of a shared drive
    STORAGE_URL=googledrive:///<existing/folder/path>?...      a folder below either
    GOOGLE_DRIVE_CREDENTIALS_FILE=/run/secrets/drive.json     service-account key or
                                                              authorised-user token (JSON)

Tested against an in-process fake of the Drive v3 HTTP API (tests/fakes/google_drive.py),
not against Google.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import fs.errors
import googleapiclient.errors
import httplib2
from fs.base import FS
from fs.googledrivefs import GoogleDriveFS
from fs.opener.parse import parse_fs_url
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from app.services.storage.codec import Codec
from app.services.storage.store import FileStore, StorageError

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
URL_PARAMETERS = frozenset({"root_id", "drive_id"})
FLAT_NAME = re.compile(r"^org-([1-9][0-9]{0,18})-doc-([1-9][0-9]{0,18})\.bin$")
FLAT_ATTACHMENT_NAME = re.compile(r"^org-([1-9][0-9]{0,18})-(att-[1-9][0-9]{0,18}(-thumb)?\.bin)$")

# The library logs every call at INFO and the bytes it uploads at DEBUG: documents hold
# personal data, so only its warnings reach our logs, whatever LOG_LEVEL says.
logging.getLogger("fs.googledrivefs").setLevel(logging.WARNING)


class DriveFileStore(FileStore):
    """Documents in one Drive folder, each named from its key: org-3/doc-42.bin is
    ``org-3-doc-42.bin``.

    One flat folder because Drive lets a folder hold several items with one name: two
    workers storing the first documents of an organisation at the same moment would both
    create its sub-folder, and the library refuses every path through a doubled name. So
    no folder is ever created at run time (and a lookup costs one query, not two).

    Files are written in place: Drive shows a new file only once its upload is complete,
    and an update becomes a new revision of the same file. Readers never see half a file,
    an overwrite keeps one file with its id, and there is no move (which on Drive is a
    delete, then a rename).
    """

    backend_errors = (
        googleapiclient.errors.Error,
        GoogleAuthError,
        httplib2.HttpLib2Error,
        OSError,  # the connection (refused, reset, timed out) and the library's temporary file
    )

    def keys(self) -> Iterator[str]:
        with self._failures("could not list the stored files"):
            names = self._fs.listdir("/")
        for name in names:
            match = FLAT_NAME.match(name)
            if match:
                yield f"org-{match[1]}/doc-{match[2]}.bin"

    def attachment_keys(self) -> Iterator[str]:
        with self._failures("could not list the stored files"):
            names = self._fs.listdir("/")
        for name in names:
            match = FLAT_ATTACHMENT_NAME.match(name)
            if match:
                yield f"org-{match[1]}/{match[2]}"

    def _path(self, key: str) -> str:
        return key.replace("/", "-")

    def _write(self, path: str, payload: bytes) -> None:
        handle = self._fs.openbin(path, "wb")
        try:
            handle.write(payload)
        finally:
            try:
                handle.close()  # uploads the file
            finally:
                # The library stages uploads in a temporary file it leaves behind when the
                # upload fails: never leave a document's bytes in /tmp.
                staged = getattr(handle, "localPath", None)
                if staged:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(staged)

    def _read(self, path: str) -> bytes:
        # Straight into memory: reading through openbin would stage the file in /tmp.
        buffer = io.BytesIO()
        self._fs.download(path, buffer)
        return buffer.getvalue()


def open_drive_store(url: str, credentials_file: str | None, codec: Codec) -> DriveFileStore:
    """Open the Drive folder named by ``url`` with the credentials in ``credentials_file``."""
    parsed = parse_fs_url(url)
    unknown = sorted(set(parsed.params) - URL_PARAMETERS)
    if unknown:
        raise StorageError(
            f"unknown Google Drive STORAGE_URL parameter(s): {', '.join(unknown)} "
            f"(known: {', '.join(sorted(URL_PARAMETERS))})"
        )
    credentials = load_credentials(credentials_file)
    folder = parsed.resource.strip("/")
    try:
        drive: FS = GoogleDriveFS(
            credentials,
            rootId=parsed.params.get("root_id") or None,
            driveId=parsed.params.get("drive_id") or None,
        )
        # The folder must exist: creating it here would race between processes starting
        # together, and Drive would keep both copies.
        filesystem = drive.opendir(folder) if folder else drive
        if not folder:
            filesystem.getinfo("/")  # fails now, not at the first document, on a wrong id
    except fs.errors.ResourceNotFound:
        raise StorageError(f"the Google Drive folder {folder or '/'!r} does not exist") from None
    except (fs.errors.FSError, *DriveFileStore.backend_errors) as error:
        raise StorageError(f"cannot open the Google Drive store: {error}") from error
    return DriveFileStore(filesystem, codec)


def load_credentials(path: str | None) -> Credentials:
    """Credentials from a service-account key or an authorised-user token file.

    Error messages name the file and what is wrong with it, never its content.
    """
    if not path:
        raise StorageError("a Google Drive STORAGE_URL needs GOOGLE_DRIVE_CREDENTIALS_FILE")
    try:
        info = json.loads(Path(path).read_text())
    except OSError as error:
        raise StorageError(
            f"cannot read GOOGLE_DRIVE_CREDENTIALS_FILE {path}: {error.strerror}"
        ) from None
    except ValueError:
        raise StorageError(f"GOOGLE_DRIVE_CREDENTIALS_FILE {path} is not JSON") from None
    if not isinstance(info, dict):
        info = {}
    # A token saved by google-auth-oauthlib (Credentials.to_json) has no "type".
    kind = info.get("type") or ("authorized_user" if "refresh_token" in info else None)
    try:
        if kind == "service_account":
            return service_account.Credentials.from_service_account_info(info, scopes=[DRIVE_SCOPE])
        if kind == "authorized_user":
            # Keep the scopes the user granted: asking for others on refresh is refused.
            return user_credentials.Credentials.from_authorized_user_info(info)
    except ValueError as error:
        # google-auth names missing fields or an unreadable key, never a value.
        raise StorageError(
            f"GOOGLE_DRIVE_CREDENTIALS_FILE {path} is not a usable {kind} credential: {error}"
        ) from None
    raise StorageError(
        f"GOOGLE_DRIVE_CREDENTIALS_FILE {path} must hold a service-account key "
        '("type": "service_account") or an authorised-user token ("type": "authorized_user")'
    )
