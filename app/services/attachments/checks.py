"""What an uploaded file is, decided from its bytes; refusals say why.

Safe by construction: the type comes from the content (``filetype``'s signatures), never
from the name or the browser's header, and must be on the allow-list and agree with the
name's extension. A PDF holding JavaScript, an embedded file or a launch action is
**refused**, not stripped: rewriting a PDF could change what the client signed, and the
broker can ask for a clean copy. Names keep their words but never a path part or a
control character: such a name is refused, as a sign the upload is not what it claims.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass

import filetype
from flask_babel import gettext as _

from app.services.errors import InvalidRequestError

# Extension as sent -> (the type read from the content, the media type served).
ALLOWED: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "jpg": ("jpg", "image/jpeg"),
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
    "heic": ("heic", "image/heic"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "txt": ("txt", "text/plain; charset=utf-8"),
}
MAX_NAME_CHARS = 200
# PDF names that run code or carry other files when the PDF is opened.
PDF_ACTIVE_NAMES = frozenset(
    {"JavaScript", "JS", "EmbeddedFile", "EmbeddedFiles", "Launch", "RichMedia", "XFA"}
)
_PDF_NAME = re.compile(rb"/([A-Za-z0-9#]+)")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_DRIVE = re.compile(r"^[A-Za-z]:")  # C:constat.pdf is a path on Windows
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')
# Decompressed PDF streams read at most this much in all (a compression bomb stops here).
PDF_SCAN_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Checked:
    file_name: str
    kind: str  # the type read from the content: pdf, jpg, png, heic, docx, xlsx, txt
    media_type: str


def refuse(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, {"file": message})


def clean_name(raw: str) -> str:
    """The name kept and served; refuses path parts and control characters."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise refuse(_("The file has no name."))
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise refuse(_("The file name holds control characters."))
    if "/" in name or "\\" in name or name.startswith("..") or _DRIVE.match(name):
        raise refuse(_("The file name holds a path: send the file's name only."))
    name = _UNSAFE_NAME_CHARS.sub("_", " ".join(name.split()))
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        keep = MAX_NAME_CHARS - len(extension) - 1
        name = f"{stem[:keep]}{dot}{extension}" if dot and keep > 0 else name[:MAX_NAME_CHARS]
    return name


def check(data: bytes, raw_name: str, max_bytes: int) -> Checked:
    """The file's clean name and type, or InvalidRequestError saying why it is refused."""
    name = clean_name(raw_name)
    if not data:
        raise refuse(_("The file is empty."))
    if len(data) > max_bytes:
        raise refuse(_("The file is larger than %(mb)s MB.", mb=round(max_bytes / 1024 / 1024, 1)))
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    allowed = ALLOWED.get(extension)
    if allowed is None:
        raise refuse(
            _("Send a PDF, JPEG, PNG, HEIC, DOCX, XLSX or TXT file (the name says otherwise).")
        )
    expected, media_type = allowed
    guessed = filetype.guess(data)
    kind = guessed.extension if guessed is not None else ("txt" if _plain_text(data) else None)
    if kind != expected:
        raise refuse(_("The file's content is not what its name says."))
    if kind == "pdf" and pdf_is_active(data):
        raise refuse(
            _("The PDF holds JavaScript, embedded files or actions: send a copy without them.")
        )
    return Checked(file_name=name, kind=kind, media_type=media_type)


def pdf_is_active(data: bytes) -> bool:
    """Whether a PDF names JavaScript, embedded files or a launch action, even compressed."""
    if _names_active(data):
        return True
    budget = PDF_SCAN_LIMIT
    for match in _PDF_STREAM.finditer(data):
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue  # not Flate (an image's stream): its names are not PDF objects
        budget -= len(inflated)
        if _names_active(inflated):
            return True
        if budget <= 0:
            return True  # too much to read: refused rather than let through unread
    return False


def _names_active(chunk: bytes) -> bool:
    for match in _PDF_NAME.finditer(chunk):
        # A name may be written with #xx escapes (/J#61vaScript): read it as the viewer does.
        name = _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name.decode("latin-1") in PDF_ACTIVE_NAMES:
            return True
    return False


def _plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)
