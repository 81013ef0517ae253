"""File answers of the API: downloads (attachments) and previews (inline), with safe headers.

A generated document is user-authored HTML, a PDF or a workbook: the browser
must never run it as part of our site, guess another type, or keep a copy in a
shared cache. The signed links of the delivery issue answer the same headers
through ``attachment_response``.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Iterable

from werkzeug.wrappers import Response

# Rendered HTML (a preview, or a downloaded document opened in the browser) may only
# show its own inline styles and data: images: no script, no fetch, no form, no frame.
PREVIEW_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_UNSAFE_IN_FALLBACK = re.compile(r"[^A-Za-z0-9._-]+")
DEFAULT_FILE_NAME = "document"


def content_disposition(disposition: str, file_name: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients and ``filename*`` in UTF-8 for the rest."""
    decomposed = unicodedata.normalize("NFKD", file_name)
    ascii_name = decomposed.encode("ascii", "ignore").decode("ascii")
    fallback = _UNSAFE_IN_FALLBACK.sub("_", ascii_name).strip("._") or DEFAULT_FILE_NAME
    encoded = urllib.parse.quote(file_name or fallback, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _file_response(data: bytes | Iterable[bytes], media_type: str, size: int | None) -> Response:
    # Chunks go out as they come (a large file is never whole in memory).
    response = Response(data, status=200, direct_passthrough=not isinstance(data, bytes))
    if size is not None:
        response.headers["Content-Length"] = str(size)
    # Exactly the stored type: Flask's ``mimetype`` would append a charset of its choosing.
    response.headers["Content-Type"] = media_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    if media_type.startswith("text/html"):
        # A user-authored page, should a browser show it rather than save it.
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response


def attachment_response(
    data: bytes | Iterable[bytes],
    media_type: str,
    file_name: str,
    sha256: str,
    size: int | None = None,
) -> Response:
    """The original bytes of a document (or its chunks and ``size``), saved as ``file_name``."""
    response = _file_response(data, media_type, size)
    response.headers["Content-Disposition"] = content_disposition("attachment", file_name)
    response.headers["X-Checksum"] = sha256
    return response


def preview_response(data: bytes, media_type: str, file_name: str) -> Response:
    """A rendered preview shown in the browser; HTML is fenced in by its own CSP."""
    response = _file_response(data, media_type, len(data))
    response.headers["Content-Disposition"] = content_disposition("inline", file_name)
    return response
