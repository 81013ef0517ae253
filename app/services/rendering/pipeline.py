"""check_template and render: the two calls the rest of the application makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from app.models import OutputFormat
from app.services.rendering.compiling import compile_template, render_text
from app.services.rendering.context import plain_context
from app.services.rendering.errors import RenderError, TemplateSyntaxProblem
from app.services.rendering.formatting import babel_locale
from app.services.rendering.legal import orias_number, with_charset, with_orias_footer
from app.services.rendering.limits import (
    MAX_OUTPUT_CHARS,
    configured_timeout,
    run_with_time_limit,
)
from app.services.rendering.pdf import pdf_engine
from app.services.rendering.sandbox import render_locale
from app.services.rendering.sanitize import sanitize_html
from app.services.rendering.sheets import check_description


@dataclass(frozen=True)
class RenderedFile:
    data: bytes
    media_type: str
    extension: str
    engine: str  # jinja | weasyprint | pdfkit | xlsxwriter


def _output_format(output_format: OutputFormat | str) -> OutputFormat:
    try:
        return OutputFormat(output_format)
    except ValueError:
        raise RenderError(_("Unknown output format '%(format)s'.", format=output_format)) from None


def check_template(body: str, output_format: OutputFormat | str) -> None:
    """Raise TemplateSyntaxProblem (with its line) unless ``body`` compiles for this format."""
    kind = _output_format(output_format)
    if not isinstance(body, str):
        raise TemplateSyntaxProblem(_("The template body must be text."))

    def work() -> None:
        if kind is OutputFormat.xlsx:
            check_description(body)
        else:
            compile_template(body)

    # Compiling folds constant expressions, which runs filters: bounded like a render.
    run_with_time_limit(work, configured_timeout(None))


def render_html_document(body: str, context: dict[str, Any], locale: str) -> str:
    """The rendered, sanitised HTML, with the ORIAS footer when the text does not show it."""
    text = render_text(compile_template(body), context, MAX_OUTPUT_CHARS)
    sanitized = sanitize_html(text)
    document = with_orias_footer(sanitized.html, sanitized.text, orias_number(context), locale)
    return with_charset(document)


def render(
    body: str,
    output_format: OutputFormat | str,
    context: Mapping[str, Any],
    *,
    locale: str = "fr",
    engine: str | None = None,
    timeout: float | None = None,
) -> RenderedFile:
    """Render ``body`` with ``context`` within the time limit.

    html gives text/html; pdf renders the HTML then converts it (``engine``,
    else PDF_ENGINE, else WeasyPrint); xlsx reads ``body`` as a sheet
    description. ``locale`` ("fr" or "en") drives the date/money/number
    filters and replaces ``context["locale"]``. Raises RenderError or
    RenderTimeout, whose ``message`` is safe to show.
    """
    kind = _output_format(output_format)
    seconds = configured_timeout(timeout)
    babel_locale(locale)  # refuse an unknown locale before any work
    converter = pdf_engine(engine) if kind is OutputFormat.pdf else None
    data = plain_context(context)
    data["locale"] = locale

    def work() -> RenderedFile:
        token = render_locale.set(locale)
        try:
            if kind is OutputFormat.xlsx:
                # xlsxwriter is imported by the first spreadsheet, not at every start-up.
                from app.services.rendering.xlsx import MEDIA_TYPE, render_xlsx

                data_xlsx = render_xlsx(body, data, locale)
                return RenderedFile(data_xlsx, MEDIA_TYPE, "xlsx", "xlsxwriter")
            document = render_html_document(body, data, locale)
            if converter is None:
                return RenderedFile(document.encode("utf-8"), "text/html", "html", "jinja")
            return RenderedFile(
                converter.convert(document), "application/pdf", "pdf", converter.name
            )
        finally:
            render_locale.reset(token)

    return run_with_time_limit(work, seconds)
