"""The ORIAS mention every document of a broker must carry.

A French insurance intermediary shows its ORIAS registration number on the
documents it gives clients.
A template usually prints it in its letterhead; when the rendered document does
not show it, we add a small legal footer rather than let a document go out
without it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from app.services.rendering.errors import RenderError

_MENTIONS = {
    "fr": "Intermédiaire immatriculé à l'ORIAS sous le n° {number} — www.orias.fr",
    "en": "Intermediary registered with ORIAS under no. {number} — www.orias.fr",
}
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_HEAD_START = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
_META_CHARSET = re.compile(r"<meta\s[^>]*charset", re.IGNORECASE)


def orias_number(context: Mapping[str, Any]) -> str:
    organisation = context.get("organisation")
    number = organisation.get("orias_number") if isinstance(organisation, Mapping) else None
    if not number:
        raise RenderError(
            _(
                "The data has no ORIAS number (organisation.orias_number): "
                "every document must show it."
            )
        )
    return str(number)


def orias_mention(number: str, locale: str) -> str:
    language = (locale or "fr")[:2].lower()
    return _MENTIONS.get(language, _MENTIONS["en"]).format(number=number)


def with_orias_footer(document: str, visible_text: str, number: str, locale: str) -> str:
    """``document`` with the legal footer added before </body> unless its text shows ``number``."""
    if number in visible_text:
        return document
    footer = (
        '<footer class="orias-legal" style="margin-top:2em;font-size:8pt;color:#555">'
        f"{html.escape(orias_mention(number, locale))}</footer>"
    )
    ends = list(_BODY_END.finditer(document))
    if ends:
        position = ends[-1].start()
        return document[:position] + footer + document[position:]
    return document + footer


def with_charset(document: str) -> str:
    """Declare UTF-8 in the document, so a browser opening the file reads accents right."""
    if _META_CHARSET.search(document):
        return document
    head = _HEAD_START.search(document)
    if head:
        return document[: head.end()] + '<meta charset="utf-8">' + document[head.end() :]
    if document[:15].upper() == "<!DOCTYPE HTML>":
        return document[:15] + '<meta charset="utf-8">' + document[15:]
    return '<meta charset="utf-8">' + document
