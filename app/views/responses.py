"""What the screens answer besides pages: files (downloads, previews) and refusal messages."""

from __future__ import annotations

from urllib.parse import quote

from werkzeug.wrappers import Response


def content_disposition(file_name: str, *, attachment: bool = True) -> str:
    """An RFC 6266 header: a plain ASCII name for old clients, the exact one in filename*."""
    kind = "attachment" if attachment else "inline"
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in file_name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def file_response(
    data: bytes, media_type: str, file_name: str, *, attachment: bool = True
) -> Response:
    """The bytes as they are, with their type and name; never cached by shared caches."""
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = content_disposition(file_name, attachment=attachment)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Length"] = str(len(data))
    return response


def error_messages(error: Exception) -> list[str]:
    """What to flash for a refused request: each field's message, or the error's own."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict) and errors:
        return [str(message) for message in errors.values()]
    return [str(getattr(error, "message", None) or error)]
