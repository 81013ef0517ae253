"""What the screens answer besides pages: files (downloads, previews) and refusal messages."""

from __future__ import annotations

from werkzeug.wrappers import Response

from app.api.files import content_disposition as rfc6266_disposition


def content_disposition(file_name: str, *, attachment: bool = True) -> str:
    """An RFC 6266 header, the same as the API's (app/api/files.py)."""
    return rfc6266_disposition("attachment" if attachment else "inline", file_name)


def file_response(
    data: bytes, media_type: str, file_name: str, *, attachment: bool = True
) -> Response:
    """The bytes as they are, with their type and name; never cached by shared caches."""
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = content_disposition(file_name, attachment=attachment)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Length"] = str(len(data))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def error_messages(error: Exception) -> list[str]:
    """What to flash for a refused request: each field's message, or the error's own."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict) and errors:
        return [str(message) for message in errors.values()]
    return [str(getattr(error, "message", None) or error)]
