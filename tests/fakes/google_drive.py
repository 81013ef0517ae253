"""An in-process fake of Google Drive v3 and of Google's OAuth token endpoint, at the HTTP
boundary: ``FakeDrive.http()`` is an ``httplib2.Http`` that answers the real Google URLs
from a dict instead of the network. Everything above it runs for real: google-auth signs and
exchanges its JWT (or refreshes a user token), googleapiclient builds requests and runs its
resumable upload and ranged download protocols, fs.googledrivefs maps paths to queries.

Strict on purpose, so a wrong call fails the test: an endpoint, query parameter, body field,
``fields`` selection or ``q`` clause it does not model is answered with 404 or 400; a call
without a token it issued gets 401. Modelled from Drive's public reference:
- files.list (q, fields, pageSize/pageToken paging, corpora/driveId for shared drives),
  files.get (metadata, and alt=media with Range), files.create (metadata only, multipart,
  resumable), files.update (metadata with addParents/removeParents, multipart, resumable),
  files.delete; the alias ``root`` for the caller's My Drive;
- shared-drive items are found only with supportsAllDrives=true (lists also need
  corpora=drive, driveId and includeItemsFromAllDrives=true). A media download is served
  without it, as fs.googledrivefs 2.6.3 sends none; whether Google does is not verified;
- service accounts have no storage quota: a file they create outside a shared drive is
  refused with 403 storageQuotaExceeded, as Google does since 2025.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httplib2
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.google_wire import (
    DEFAULT_FIELDS,
    DRIVE_SCOPE,
    TOKEN_URI,
    ApiError,
    allowed,
    check_assertion,
    check_body,
    file_fields,
    json_body,
    json_headers,
    list_fields,
    multipart,
    oauth_error,
    parse_query,
    parse_time,
    ranged,
    rfc3339,
    single_values,
    unquote,
)

API = "www.googleapis.com"
FOLDER = "application/vnd.google-apps.folder"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
__all__ = ["DRIVE_SCOPE", "TOKEN_URI", "FakeDrive"]

COMMON = frozenset({"alt", "fields", "supportsAllDrives"})


@dataclass
class Item:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    created: datetime
    modified: datetime
    content: bytes | None = None
    drive_id: str | None = None
    revisions: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def resource(self, fields: frozenset[str] | None) -> dict[str, Any]:
        full: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": list(self.parents),
            "createdTime": rfc3339(self.created),
            "modifiedTime": rfc3339(self.modified),
            "trashed": False,
            **self.extra,
        }
        if self.content is not None:
            full["size"] = str(len(self.content))
            full["md5Checksum"] = hashlib.md5(self.content).hexdigest()  # noqa: S324 (Drive's)
        if self.drive_id:
            full["driveId"] = self.drive_id  # no permissions on shared-drive items
        else:
            full["permissions"] = [{"kind": "drive#permission", "id": "me", "role": "owner"}]
        wanted = fields if fields is not None else DEFAULT_FIELDS
        return {name: value for name, value in full.items() if name in wanted}


@dataclass
class Session:
    params: dict[str, str]
    metadata: dict[str, Any]
    file_id: str | None
    size: int | None
    received: bytearray = field(default_factory=bytearray)


class FakeDrive:
    """The Drive of one test: items in a dict, a shared drive, and the accounts allowed in."""

    def __init__(self, *, shared_drive_id: str = "0ASharedDrive") -> None:
        self.items: dict[str, Item] = {}
        self.sessions: dict[str, Session] = {}
        self.service_accounts: dict[str, rsa.RSAPublicKey] = {}
        self.users: dict[str, tuple[str, str, str]] = {}  # refresh token -> client, secret, scope
        self.tokens: dict[str, str] = {}  # access token -> "service_account" | "user"
        self.requests: list[str] = []  # "METHOD /path" of every call, for assertions
        self.token_requests = 0
        self.page_size = 100
        self._ids = itertools.count(1)
        self._clock = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        self.my_drive = self._add("My Drive", FOLDER, [], None, item_id="0AMyDriveRoot")
        self.shared_drive_id = shared_drive_id
        self._add("Documents MonAssurance", FOLDER, [], shared_drive_id, item_id=shared_drive_id)

    # Setting up a test.

    def allow_service_account(self, email: str, public_key: rsa.RSAPublicKey) -> None:
        self.service_accounts[email] = public_key

    def allow_user(self, refresh_token: str, client_id: str, client_secret: str) -> None:
        self.users[refresh_token] = (client_id, client_secret, DRIVE_SCOPE)

    def add_folder(self, name: str, parent: str) -> str:
        parent = self._resolve_alias(parent)
        drive_id = self.items[parent].drive_id
        return self._add(name, FOLDER, [parent], drive_id).id

    def revoke_tokens(self) -> None:
        """Access tokens expire: the client must fetch new ones."""
        self.tokens.clear()

    def named(self, name: str) -> list[Item]:
        return [item for item in self.items.values() if item.name == name]

    def http(self) -> httplib2.Http:
        return _FakeHttp(self)

    # HTTP.

    def handle(
        self, method: str, uri: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(uri)
        headers = {name.lower(): value for name, value in (headers or {}).items()}
        if hasattr(body, "read"):  # googleapiclient sends upload chunks as file slices
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        self.requests.append(f"{method} {url.path}")
        try:
            params = single_values(url.query)
            if url.scheme != "https":
                raise ApiError(400, "badRequest", "Google answers HTTPS only")
            if f"https://{url.netloc}{url.path}" == TOKEN_URI and method == "POST":
                return self._token(body or b"")
            if url.netloc != API:
                raise ApiError(404, "notFound", f"no such host in the fake: {url.netloc}")
            principal = self._principal(headers)
            return self._route(method, url.path, params, body or b"", headers, principal)
        except ApiError as error:
            payload = {
                "error": {
                    "code": error.status,
                    "message": error.message,
                    "errors": [
                        {"domain": "global", "reason": error.reason, "message": error.message}
                    ],
                }
            }
            return error.status, json_headers(), json.dumps(payload).encode()

    def _route(self, method, path, params, body, headers, principal):
        match = re.fullmatch(r"/(upload/)?drive/v3/files(?:/([A-Za-z0-9_-]+))?", path)
        if not match:
            raise ApiError(404, "notFound", f"the fake has no endpoint {method} {path}")
        upload, file_id = bool(match[1]), match[2]
        if upload and method == "PUT" and "upload_id" in params:
            return self._upload_chunk(params, body, headers, principal)
        if upload and method in {"POST", "PATCH"} and (method == "POST") == (file_id is None):
            return self._upload_start(file_id, params, body, headers, principal)
        if not upload and file_id is None and method == "GET":
            return self._list(params)
        if not upload and file_id is None and method == "POST":
            allowed(params, COMMON)
            item = self._create(json_body(body), None, params, principal)
            return self._answer(item, params)
        if not upload and file_id is not None and method == "GET":
            return self._get(file_id, params, headers)
        if not upload and file_id is not None and method == "PATCH":
            return self._patch(file_id, params, json_body(body))
        if not upload and file_id is not None and method == "DELETE":
            allowed(params, {"supportsAllDrives"})
            self._delete(self._visible(file_id, params))
            return 204, {}, b""
        raise ApiError(404, "notFound", f"the fake has no endpoint {method} {path}")

    # OAuth.

    def _token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.token_requests += 1
        form = single_values(body.decode())
        if form.get("grant_type") == JWT_GRANT:
            kind = "service_account"
            try:
                check_assertion(form.get("assertion", ""), self.service_accounts)
            except ApiError as refusal:
                return oauth_error(refusal.reason, refusal.message)
        elif form.get("grant_type") == "refresh_token":
            kind = "user"
            granted = self.users.get(form.get("refresh_token", ""))
            if granted is None or granted[:2] != (form.get("client_id"), form.get("client_secret")):
                return oauth_error("invalid_grant", "Token has been expired or revoked.")
            if "scope" in form and not set(form["scope"].split()) <= set(granted[2].split()):
                return oauth_error("invalid_scope", "Bad Request")
        else:
            return oauth_error("unsupported_grant_type", "Invalid grant_type")
        token = f"ya29.fake-{secrets.token_urlsafe(24)}"
        self.tokens[token] = kind
        answer = {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        return 200, json_headers(), json.dumps(answer).encode()

    def _principal(self, headers: dict[str, str]) -> str:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            raise ApiError(401, "authError", "Request had invalid authentication credentials.")
        return self.tokens[token]

    # files.*

    def _list(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        allowed(
            params,
            COMMON
            | {"q", "pageSize", "pageToken", "driveId", "corpora", "includeItemsFromAllDrives"},
        )
        drive_id = params.get("driveId")
        all_drives = params.get("includeItemsFromAllDrives") == "true"
        if drive_id is not None:
            if params.get("corpora") != "drive" or not all_drives:
                raise ApiError(
                    400, "invalid", "driveId needs corpora=drive and includeItemsFromAllDrives=true"
                )
            if params.get("supportsAllDrives") != "true":
                raise ApiError(
                    403, "teamDrivesParameterNotSupported", "supportsAllDrives is required"
                )
        elif params.get("corpora", "user") != "user":
            raise ApiError(400, "invalid", "the fake models corpora=user and corpora=drive")
        fields = list_fields(params.get("fields"))
        clauses = parse_query(params.get("q", ""))
        matches = [
            item
            for item in self.items.values()
            if item.id not in (self.my_drive.id, self.shared_drive_id)
            and item.drive_id == drive_id
            and _matches(item, clauses, self._resolve_alias)
        ]
        size = int(params.get("pageSize", self.page_size))
        start = int(params.get("pageToken", "0") or 0)
        answer: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
        answer["files"] = [item.resource(fields["files"]) for item in matches[start : start + size]]
        if start + size < len(matches):
            answer["nextPageToken"] = str(start + size)
        answer = {name: value for name, value in answer.items() if name in fields["top"]}
        return 200, json_headers(), json.dumps(answer).encode()

    def _get(self, file_id, params, headers) -> tuple[int, dict[str, str], bytes]:
        if params.get("alt") == "media":
            allowed(params, {"alt", "supportsAllDrives", "acknowledgeAbuse"})
            item = self._visible(file_id, params, media=True)
            if item.content is None:
                raise ApiError(
                    403, "fileNotDownloadable", "Only files with binary content can be downloaded."
                )
            return ranged(item.content, headers.get("range"))
        allowed(params, COMMON)
        return self._answer(self._visible(file_id, params), params)

    def _patch(self, file_id, params, metadata) -> tuple[int, dict[str, str], bytes]:
        allowed(params, COMMON | {"addParents", "removeParents"})
        item = self._visible(file_id, params)
        check_body(metadata, allow_parents=False)
        if "addParents" in params or "removeParents" in params:
            removed = params.get("removeParents", "")
            if removed and self._resolve_alias(removed) not in item.parents:
                raise ApiError(400, "invalidParent", "removeParents names no parent of the file")
            parent = self._parent(params.get("addParents") or item.parents[0], params)
            item.parents = [parent.id]
        item.name = metadata.get("name", item.name)
        item.modified = parse_time(metadata.get("modifiedTime")) or self._tick()
        return self._answer(item, params)

    def _create(self, metadata, content, params, principal) -> Item:
        check_body(metadata, allow_parents=True)
        parents = metadata.get("parents") or ["root"]
        if len(parents) != 1:
            raise ApiError(403, "cannotAddParent", "A file can have only one parent.")
        parent = self._parent(parents[0], params)
        mime = metadata.get("mimeType") or "application/octet-stream"
        if principal == "service_account" and parent.drive_id is None and mime != FOLDER:
            raise ApiError(
                403,
                "storageQuotaExceeded",
                "Service Accounts do not have storage quota. Leverage shared drives, "
                "or use OAuth delegation instead.",
            )
        item = self._add(metadata.get("name", "Untitled"), mime, [parent.id], parent.drive_id)
        item.created = parse_time(metadata.get("createdTime")) or item.created
        item.modified = parse_time(metadata.get("modifiedTime")) or item.modified
        item.content = content if mime != FOLDER else None
        if item.content is None and mime != FOLDER:
            item.content = b""
        return item

    def _update_content(self, item: Item, metadata, content: bytes) -> Item:
        metadata = dict(metadata)
        metadata.pop("mimeType", None)  # the upload's type, set only when creating here
        check_body(metadata, allow_parents=False)
        if item.mime_type == FOLDER:
            raise ApiError(403, "fileNotWritable", "a folder holds no content")
        item.content = content
        item.revisions += 1
        item.modified = parse_time(metadata.get("modifiedTime")) or self._tick()
        return item

    # Uploads (multipart in one request; resumable: a session, then PUT chunks).

    def _upload_start(self, file_id, params, body, headers, principal):
        allowed(params, COMMON | {"uploadType"})
        kind = params.get("uploadType")
        if file_id is not None:
            self._visible(file_id, params)
        if kind == "multipart":
            metadata, content, media_type = multipart(headers.get("content-type", ""), body)
            metadata.setdefault("mimeType", media_type)
            item = (
                self._update_content(self.items[file_id], metadata, content)
                if file_id
                else self._create(metadata, content, params, principal)
            )
            return self._answer(item, params)
        if kind != "resumable":
            raise ApiError(
                400, "invalid", f"the fake models uploadType multipart and resumable, not {kind}"
            )
        metadata = json_body(body) if body else {}
        check_body(metadata, allow_parents=file_id is None)
        length = headers.get("x-upload-content-length")
        upload_id = secrets.token_urlsafe(12)
        metadata.setdefault(
            "mimeType", headers.get("x-upload-content-type") or "application/octet-stream"
        )
        self.sessions[upload_id] = Session(
            params, metadata, file_id, int(length) if length else None
        )
        path = "/upload/drive/v3/files" + (f"/{file_id}" if file_id else "")
        location = f"https://{API}{path}?" + urlencode(
            {"uploadType": "resumable", "upload_id": upload_id}
        )
        return 200, {"location": location, "content-length": "0"}, b""

    def _upload_chunk(self, params, body, headers, principal):
        session = self.sessions.get(params["upload_id"])
        if session is None:
            raise ApiError(404, "notFound", "no such upload session")
        content_range = headers.get("content-range")
        if content_range is not None:
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", content_range)
            if not match or int(match[1]) != len(session.received):
                raise ApiError(400, "badContentRange", f"bad Content-Range {content_range!r}")
            if int(match[2]) - int(match[1]) + 1 != len(body):
                raise ApiError(400, "badContentRange", "Content-Range does not match the body")
            total = None if match[3] == "*" else int(match[3])
        else:
            total = len(session.received) + len(body)
        if session.size is not None and total is not None and total != session.size:
            raise ApiError(400, "badContentRange", "size differs from X-Upload-Content-Length")
        session.received += body
        if total is None or len(session.received) < total:
            done = len(session.received)
            return 308, {"range": f"bytes=0-{done - 1}"} if done else {}, b""
        del self.sessions[params["upload_id"]]
        content = bytes(session.received)
        if session.file_id is None:
            item = self._create(session.metadata, content, session.params, principal)
        else:
            item = self._update_content(
                self._visible(session.file_id, session.params), session.metadata, content
            )
        return self._answer(item, session.params)

    # Helpers.

    def _delete(self, item: Item) -> None:
        for child in [other for other in self.items.values() if item.id in other.parents]:
            self._delete(child)
        del self.items[item.id]

    def _add(self, name, mime, parents, drive_id, item_id=None) -> Item:
        item_id = item_id or f"1fake{next(self._ids):06d}{secrets.token_hex(4)}"
        now = self._tick()
        item = Item(item_id, name, mime, parents, now, now, drive_id=drive_id)
        self.items[item_id] = item
        return item

    def _tick(self) -> datetime:
        self._clock += timedelta(milliseconds=1)
        return self._clock

    def _resolve_alias(self, file_id: str) -> str:
        return self.my_drive.id if file_id == "root" else file_id

    def _visible(self, file_id: str, params: dict[str, str], *, media: bool = False) -> Item:
        item = self.items.get(self._resolve_alias(file_id))
        hidden = item is not None and item.drive_id and params.get("supportsAllDrives") != "true"
        if item is None or (hidden and not media):
            raise ApiError(404, "notFound", f"File not found: {file_id}.")
        return item

    def _parent(self, file_id: str, params: dict[str, str]) -> Item:
        parent = self._visible(file_id, params)
        if parent.mime_type != FOLDER:
            raise ApiError(400, "invalidParent", "the parent is not a folder")
        return parent

    def _answer(self, item: Item, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        fields = file_fields(params.get("fields"))
        return 200, json_headers(), json.dumps(item.resource(fields)).encode()


class _FakeHttp(httplib2.Http):
    def __init__(self, drive: FakeDrive) -> None:
        super().__init__()
        self.drive = drive

    def request(
        self, uri, method="GET", body=None, headers=None, redirections=5, connection_type=None
    ):  # noqa: ARG002
        status, headers_out, content = self.drive.handle(method, uri, body, headers or {})
        return httplib2.Response({"status": str(status), **headers_out}), content


def _matches(item: Item, clauses: list[re.Match[str]], resolve) -> bool:
    for clause in clauses:
        if clause["trashed"] is not None and clause["trashed"].lower() != "false":
            return False
        # Drive compares names without regard to case.
        name = clause["name"]
        if name is not None and item.name.casefold() != unquote(name).casefold():
            return False
        if clause["mime"] is not None and item.mime_type != unquote(clause["mime"]):
            return False
        if clause["parent"] is not None and resolve(unquote(clause["parent"])) not in item.parents:
            return False
    return True
