"""File names of generated documents: French, ASCII-safe, bounded."""

from __future__ import annotations

import re
import unicodedata

from app.models import TemplateKind

# For a template whose name gives no slug at all (only punctuation).
PREFIXES = {
    TemplateKind.contract: "contrat",
    TemplateKind.attestation: "attestation",
    TemplateKind.notice: "avis-echeance",
    TemplateKind.report: "rapport",
    TemplateKind.other: "document",
    TemplateKind.email: "e-mail",
}
MAX_FILE_NAME = 120
MAX_PREFIX = 50
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str) -> str:
    """ASCII letters, digits, '.', '_' and '-' only; accents folded (É -> E)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", ascii_text)
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    # No leading dot (hidden file) nor trailing dots/dashes.
    return cleaned.strip(".-_")


def template_prefix(name: str | None, builtin_key: str | None, kind: TemplateKind | str) -> str:
    """The first part of the file names of a template's documents: the template's own slug.

    A built-in template's key (``document_entree_relation``), else its name
    (``Lettre de résiliation`` -> ``lettre-de-resiliation``), so two templates of one
    kind (the avis PDF and the échéancier XLSX) never share a name.
    """
    words = re.sub(r"[._-]+", "-", slug(builtin_key or name or "")).lower()
    prefix = words[:MAX_PREFIX].strip("-")
    return prefix or PREFIXES.get(TemplateKind(kind), "document")


def file_name_for(prefix: str, policy_number: str | None, document_id: int, extension: str) -> str:
    """E.g. ``conditions-particulieres-POL-2026-0042.pdf``; the document id stands in for a
    missing number. ``prefix`` comes from template_prefix."""
    prefix = slug(prefix).lower()[:MAX_PREFIX] or "document"
    extension = slug(extension or "").lower()[:10] or "bin"
    name = slug(policy_number or "") or str(int(document_id))
    room = MAX_FILE_NAME - len(prefix) - len(extension) - 2
    name = name[:room].rstrip(".-_") or str(int(document_id))
    return f"{prefix}-{name}.{extension}"
