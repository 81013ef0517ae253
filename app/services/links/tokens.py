"""The signed token of a download link: what it says, how it is written, how it is checked.

A token is seven dot-separated fields, all URL-safe::

    kid . document id . expires (unix s) . issued (unix ms) . nonce . single-use (0|1) . signature

The signature is HMAC-SHA256, with the secret of key ``kid``, over the first six
fields exactly as written (so changing any character of any field breaks it),
prefixed by a version label so a token can never be confused with another
HMAC the product might compute with the same secret. Issued-at is kept in
milliseconds: "revoke every link" compares it with the revocation time, and a
link issued in the same second just after a revocation must still work.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from app.services.links import clock

VERSION_LABEL = b"monassurance-link-v1"
MAX_TOKEN_LENGTH = 256
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_FIELDS = (
    re.compile(r"^[A-Za-z0-9_-]{1,16}$"),  # kid
    re.compile(r"^[1-9][0-9]{0,18}$"),  # document id
    re.compile(r"^[1-9][0-9]{0,11}$"),  # expires, unix seconds
    re.compile(r"^[1-9][0-9]{0,14}$"),  # issued, unix milliseconds
    re.compile(r"^(?:[0-9a-f]{32})?$"),  # nonce, or empty
    re.compile(r"^[01]$"),  # single use
    re.compile(r"^[A-Za-z0-9_-]{43}$"),  # signature: 32 bytes, base64url without padding
)


class MalformedTokenError(ValueError):
    """The text cannot be a link token of ours (before any key is involved)."""


@dataclass(frozen=True)
class LinkClaims:
    kid: str
    document_id: int
    expires: int  # unix seconds
    issued_ms: int  # unix milliseconds
    nonce: str  # 32 hex characters, or "" for a link that is not single-use
    single_use: bool

    @property
    def expires_at(self) -> dt.datetime:
        return clock.from_seconds(self.expires)

    @property
    def issued_at(self) -> dt.datetime:
        return clock.from_millis(self.issued_ms)

    def fields(self) -> list[str]:
        return [
            self.kid,
            str(self.document_id),
            str(self.expires),
            str(self.issued_ms),
            self.nonce,
            "1" if self.single_use else "0",
        ]


@dataclass(frozen=True)
class SignedToken:
    """A token read from a URL: its claims, and what its signature must be checked against."""

    claims: LinkClaims
    signed_text: str
    signature: str

    def signature_matches(self, secret: bytes) -> bool:
        expected = _signature(self.signed_text, secret)
        return hmac.compare_digest(expected.encode("ascii"), self.signature.encode("ascii"))


def sign(claims: LinkClaims, secret: bytes) -> str:
    """The token for these claims, signed with ``secret``."""
    fields = claims.fields()
    for field, pattern in zip(fields, _FIELDS, strict=False):
        if not pattern.match(field):
            raise ValueError(f"cannot sign a link with the field {field!r}")
    if claims.single_use and not claims.nonce:
        raise ValueError("a single-use link needs a nonce")
    signed_text = ".".join(fields)
    return f"{signed_text}.{_signature(signed_text, secret)}"


def read(token: str) -> SignedToken:
    """Split and check the shape of a token; raise MalformedTokenError when it is not one."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedTokenError("not a token")
    fields = token.split(".")
    if len(fields) != len(_FIELDS):
        raise MalformedTokenError("wrong number of fields")
    for field, pattern in zip(fields, _FIELDS, strict=True):
        if not pattern.match(field):
            raise MalformedTokenError("a field is malformed")
    kid, document_id, expires, issued_ms, nonce, single_use, signature = fields
    if single_use == "1" and not nonce:
        raise MalformedTokenError("a single-use link without a nonce")
    claims = LinkClaims(
        kid=kid,
        document_id=int(document_id),
        expires=int(expires),
        issued_ms=int(issued_ms),
        nonce=nonce,
        single_use=single_use == "1",
    )
    return SignedToken(claims, ".".join(fields[:-1]), signature)


def fingerprint(token: str) -> str:
    """A short digest naming one link (rate-limit counters), never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


def _signature(signed_text: str, secret: bytes) -> str:
    mac = hmac.new(secret, VERSION_LABEL + b"\n" + signed_text.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")
