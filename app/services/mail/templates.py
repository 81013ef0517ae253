"""E-mail templates: a template of kind "email", written and versioned like a document's.

Its body is sandboxed Jinja with the documents' context (app/services/rendering), read
as a message: the first line is the subject, the rest the HTML body, e.g.

    Objet : Votre avis d'échéance, contrat {{ policy.number }}

    <p>Bonjour {{ client.display_name }},</p>

The plain-text part is made from the HTML (every client reads one or the other).
Render errors name the template line, as for documents.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from flask_babel import gettext as _

from app.services.rendering.compiling import compile_template, render_text
from app.services.rendering.context import plain_context
from app.services.rendering.errors import RenderError, TemplateSyntaxProblem
from app.services.rendering.limits import (
    MAX_OUTPUT_CHARS,
    configured_timeout,
    run_with_time_limit,
)
from app.services.rendering.sandbox import render_locale
from app.services.rendering.sanitize import sanitize_html

SUBJECT_LINE = re.compile(r"^\s*(?:objet|subject)\s*:\s*(.*)$", re.IGNORECASE)
SUBJECT_MAX = 300


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def check_email_body(body: str) -> None:
    """TemplateSyntaxProblem unless the first line gives the subject."""
    first = next((line for line in body.splitlines() if line.strip()), "")
    if not SUBJECT_LINE.match(first):
        raise TemplateSyntaxProblem(
            _("The first line of an e-mail template is its subject: « Objet : … »."), line=1
        )


def render_email(
    body: str, context: Mapping[str, Any], *, locale: str = "fr", timeout: float | None = None
) -> RenderedEmail:
    """Subject, HTML and text of ``body`` rendered with ``context``; RenderError otherwise."""
    check_email_body(body)
    data = plain_context(context)
    data["locale"] = locale

    def work() -> str:
        token = render_locale.set(locale)
        try:
            return render_text(compile_template(body), data, MAX_OUTPUT_CHARS)
        finally:
            render_locale.reset(token)

    rendered = run_with_time_limit(work, configured_timeout(timeout))
    first, _newline, rest = rendered.lstrip().partition("\n")
    match = SUBJECT_LINE.match(first)
    # Autoescaping wrote the subject for HTML; a header is plain text, on one line.
    subject = " ".join(html.unescape(match.group(1) if match else "").split())[:SUBJECT_MAX]
    if not subject:
        raise RenderError(_("The subject of this e-mail is empty once rendered."), line=1)
    cleaned = sanitize_html(rest.strip()).html
    return RenderedEmail(subject=subject, html=cleaned, text=html_to_text(cleaned))


class _Text(HTMLParser):
    BREAKS = {"br"}
    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "table", "tr", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "td":
            self.parts.append("  ")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.href:
            # A link's address must survive in plain text.
            self.parts.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """Readable plain text: paragraphs kept, links written out."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
