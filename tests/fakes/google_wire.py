"""What travels between the Google clients and the fake Drive: requests read and checked the
way Google's servers do (parameters, bodies, ``fields``, ``q``, multipart, ranges, signed JWTs),
refusing whatever the fake does not model."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address)
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
FILE_FIELDS = frozenset(
    {"id", "kind", "name", "mimeType", "parents", "createdTime", "modifiedTime", "size"}
    | {"md5Checksum", "permissions", "appProperties", "contentHints", "driveId", "trashed"}
)
DEFAULT_FIELDS = ("kind", "id", "name", "mimeType")
BODY_FIELDS = frozenset(
    ["name", "parents", "mimeType", "createdTime", "modifiedTime", "appProperties", "contentHints"]
) | {"enforceSingleParent"}  # deprecated; Drive accepts and ignores it, the library sends it
QUERY_CLAUSE = re.compile(
    r"""\s*(?:
        trashed\s*=\s*(?P<trashed>true|false)
      | name\s*=\s*'(?P<name>(?:[^'\\]|\\.)*)'
      | mimeType\s*=\s*'(?P<mime>(?:[^'\\]|\\.)*)'
      | '(?P<parent>(?:[^'\\]|\\.)*)'\s+in\s+parents
    )\s*""",
    re.X | re.I,
)


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def single_values(query: str) -> dict[str, str]:
    values = parse_qs(query, keep_blank_values=True)
    repeated = [name for name, found in values.items() if len(found) > 1]
    if repeated:
        raise ApiError(400, "invalidParameter", f"repeated parameter(s) {repeated}")
    return {name: found[0] for name, found in values.items()}


def allowed(params: dict[str, str], names) -> None:
    unknown = set(params) - set(names)
    if unknown:
        raise ApiError(
            400, "invalidParameter", f"parameter(s) the fake does not model: {sorted(unknown)}"
        )


def json_body(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "parseError", "the body is not JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "parseError", "the body is not a JSON object")
    return value


def check_body(metadata: dict[str, Any], *, allow_parents: bool) -> None:
    unknown = set(metadata) - BODY_FIELDS - ({"parents"} if allow_parents else set())
    if unknown or (not allow_parents and "parents" in metadata):
        raise ApiError(400, "fieldNotWritable", f"the body holds field(s) {sorted(unknown)}")
    for name in ("createdTime", "modifiedTime"):
        if name in metadata:
            parse_time(metadata[name])


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid", f"not an RFC 3339 time: {value!r}") from None


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def split_fields(spec: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in spec:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()] if current.strip() else parts


def file_fields(spec: str | None) -> frozenset[str] | None:
    if spec is None:
        return None
    names = frozenset(split_fields(spec))
    if not names or names - FILE_FIELDS:
        raise ApiError(400, "invalidParameter", f"Invalid field selection {spec}")
    return names


def list_fields(spec: str | None) -> dict[str, Any]:
    if spec is None:
        return {"top": {"kind", "incompleteSearch", "files", "nextPageToken"}, "files": None}
    top, files = set(), None
    for part in split_fields(spec):
        nested = re.fullmatch(r"files\((.*)\)", part)
        if nested:
            top.add("files")
            files = file_fields(nested[1])
        elif part in {"kind", "incompleteSearch", "nextPageToken", "files"}:
            top.add(part)
        else:
            raise ApiError(400, "invalidParameter", f"Invalid field selection {part}")
    return {"top": top, "files": files}


def parse_query(query: str) -> list[re.Match[str]]:
    """The clauses of ``q`` joined by ``and``; anything else is refused."""
    if not query:
        return []
    position, clauses = 0, []
    while True:
        match = QUERY_CLAUSE.match(query, position)
        if not match:
            raise ApiError(400, "invalid", f"Invalid Value: the fake cannot read q={query!r}")
        clauses.append(match)
        position = match.end()
        if position == len(query):
            break
        joiner = re.compile(r"and\s+", re.I).match(query, position)
        if not joiner:
            raise ApiError(400, "invalid", f"Invalid Value: the fake cannot read q={query!r}")
        position = joiner.end()
    return clauses


def unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes, str]:
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/related") or not boundary:
        raise ApiError(400, "badContent", "a multipart upload needs multipart/related")
    parts = body.split(b"--" + boundary[1].encode())
    if len(parts) != 4 or not parts[3].startswith(b"--"):
        raise ApiError(400, "badContent", "a multipart upload has metadata, then media")
    sections = []
    for part in parts[1:3]:
        part = part[2:] if part.startswith(b"\r\n") else part[1:]
        head, separator, payload = part.partition(b"\r\n\r\n" if b"\r\n\r\n" in part else b"\n\n")
        if not separator:
            raise ApiError(400, "badContent", "a multipart section has no header")
        payload = payload[:-2] if payload.endswith(b"\r\n") else payload.removesuffix(b"\n")
        sections.append((head.decode().lower(), payload))
    if "application/json" not in sections[0][0]:
        raise ApiError(400, "badContent", "the first multipart section is the JSON metadata")
    media_type = re.search(r"content-type:\s*([^\s;]+)", sections[1][0])
    return (
        json_body(sections[0][1]),
        sections[1][1],
        media_type[1] if media_type else "application/octet-stream",
    )


def ranged(content: bytes, range_header: str | None) -> tuple[int, dict[str, str], bytes]:
    if range_header is None:
        return 200, {"content-length": str(len(content))}, content
    match = re.fullmatch(r"bytes=(\d+)-(\d*)", range_header)
    if not match:
        raise ApiError(400, "badRange", f"bad Range {range_header!r}")
    start = int(match[1])
    if start >= len(content):
        return 416, {"content-range": f"bytes */{len(content)}"}, b""
    end = min(int(match[2]) if match[2] else len(content) - 1, len(content) - 1)
    headers = {"content-range": f"bytes {start}-{end}/{len(content)}"}
    return 206, headers, content[start : end + 1]


def check_assertion(assertion: str, accounts: dict[str, rsa.RSAPublicKey]) -> None:
    """Verify a service account's signed JWT as Google does: signature, issuer, audience, time."""
    try:
        header, payload, signature = assertion.split(".")
        claims = json.loads(b64(payload))
        key = accounts[claims["iss"]]
        key.verify(
            b64(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (ValueError, KeyError, InvalidSignature):
        raise ApiError(400, "invalid_grant", "Invalid JWT Signature.") from None
    now, issued, expires = time.time(), claims.get("iat", 0), claims.get("exp", 0)
    if claims.get("aud") != TOKEN_URI:
        raise ApiError(400, "invalid_grant", "Invalid JWT: the audience is not the token endpoint")
    if not (issued <= now + 60 and expires > now - 60 and expires - issued <= 3600):
        raise ApiError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token")
    if DRIVE_SCOPE not in claims.get("scope", "").split():
        raise ApiError(400, "invalid_scope", "the token does not ask for the Drive scope")


def oauth_error(error: str, description: str) -> tuple[int, dict[str, str], bytes]:
    return (
        400,
        json_headers(),
        json.dumps({"error": error, "error_description": description}).encode(),
    )


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def json_headers() -> dict[str, str]:
    return {"content-type": "application/json; charset=UTF-8"}
