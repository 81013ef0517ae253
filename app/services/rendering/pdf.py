"""HTML to PDF through one small interface, with two engines.

- ``weasyprint`` (default): maintained, fast, CSS paged media (``@page`` margin
  boxes for headers, footers and page numbers). Its URL fetcher here refuses
  everything but data: URIs.
- ``pdfkit`` (wkhtmltopdf): for installations that want it. wkhtmltopdf is
  archived with an unfixed SSRF, so it always runs with local file access and
  JavaScript off, its load errors ignored (a refused image is not a failure),
  behind a proxy that does not exist (nothing it would fetch can leave), and
  with a timeout taken from the render's time limit.

Both get HTML that ``sanitize_html`` already stripped of every URL but data:.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
from typing import Any, Protocol

import pdfkit
from flask import current_app, has_app_context
from flask_babel import gettext as _

from app.services.rendering.errors import RenderError, RenderTimeout
from app.services.rendering.limits import remaining_time
from app.services.rendering.stylesheets import shared_sheets

ENGINES = ("weasyprint", "pdfkit")
# Nothing listens on the discard port of the loopback; a connection there is refused at once.
DEAD_PROXY = "http://127.0.0.1:9"


class PdfEngine(Protocol):
    name: str

    def convert(self, html: str) -> bytes: ...


def _refused_url_fetcher():  # noqa: ANN202 (WeasyPrint's class, imported lazily)
    # A new fetcher per render (it holds no state across documents); its class once.
    return _data_only_fetcher_class()(timeout=1, allow_redirects=False)


@functools.cache
def _data_only_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):
        """Decodes data: URIs; refuses files, HTTP and every other scheme."""

        def fetch(self, url: str, headers: dict | None = None):  # noqa: ANN201
            if not url.lower().lstrip().startswith("data:"):
                raise ValueError("Only data: URIs are allowed in documents.")
            return super().fetch(url, headers)

    return DataOnlyFetcher


_thread_fonts = threading.local()


def _font_config() -> Any:
    """This thread's FontConfiguration (fonts seen by one document at a time).

    Building one loads Fontconfig's font list and starts an empty Pango font map:
    about a quarter of a one-page render here. Kept per thread, since Pango's font
    maps are not shared across threads.
    """
    config = getattr(_thread_fonts, "config", None)
    if config is None:
        config = _thread_fonts.config = _own_fonts_class()()
    return config


@functools.cache
def _own_fonts_class() -> type:
    from weasyprint.text.fonts import FontConfiguration

    class OwnFontsNoted(FontConfiguration):
        """Notes when a document brings fonts of its own (@font-face)."""

        document_fonts = False

        def add_font_face(self, rule_descriptors: Any, url_fetcher: Any) -> Any:
            self.document_fonts = True
            return super().add_font_face(rule_descriptors, url_fetcher)

    return OwnFontsNoted


class WeasyPrintEngine:
    name = "weasyprint"

    def __init__(self, share_stylesheets: bool = True) -> None:
        # Imported here, before the render's time limit starts: a limit striking in the
        # middle of the first import would leave WeasyPrint half-imported for the
        # process's whole life.
        from weasyprint import HTML

        _own_fonts_class()
        _data_only_fetcher_class()
        self._html = HTML
        self.share_stylesheets = share_stylesheets

    def convert(self, html: str) -> bytes:
        font_config = _font_config()
        document = self._html(string=html, base_url=None, url_fetcher=_refused_url_fetcher())
        try:
            # Parsed <style> sheets are shared by text (app/services/rendering/stylesheets.py).
            with shared_sheets(self.share_stylesheets):
                return document.write_pdf(font_config=font_config)
        except BaseException:
            # A render stopped half-way (time limit, error) may leave the caches half
            # written: the next render starts from a new configuration.
            _thread_fonts.config = None
            raise
        finally:
            if font_config.document_fonts:
                # Its fonts would stay in the configuration (and could stand in for the
                # fonts of another agency's documents): the next render starts afresh.
                _thread_fonts.config = None


class PdfkitEngine:
    name = "pdfkit"

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary

    def _binary(self) -> str:
        path = self.binary or shutil.which("wkhtmltopdf")
        if not path or not shutil.which(path):
            raise RenderError(
                _("The pdfkit engine needs wkhtmltopdf: install it or set WKHTMLTOPDF_PATH.")
            )
        return path

    def command(self) -> list[str]:
        # pdfkit adds --quiet itself (we never ask it to be verbose).
        options = {
            "disable-local-file-access": "",
            "disable-javascript": "",
            "disable-plugins": "",
            "encoding": "UTF-8",
            "proxy": DEAD_PROXY,
            "load-error-handling": "ignore",
            "load-media-error-handling": "ignore",
            "page-size": "A4",
            "margin-top": "15mm",
            "margin-bottom": "15mm",
            "margin-left": "15mm",
            "margin-right": "15mm",
        }
        configuration = pdfkit.configuration(wkhtmltopdf=self._binary())
        return pdfkit.PDFKit("", "string", options=options, configuration=configuration).command(
            "-"
        )

    def convert(self, html: str) -> bytes:
        command = self.command()
        remaining = remaining_time()
        # Outside a limited render (a direct call), wkhtmltopdf still gets a bound.
        timeout = 60.0 if remaining is None else max(remaining, 0.01)
        # No shell; the input goes through stdin, the PDF comes back on stdout. A minimal
        # environment: the process renders untrusted HTML and must not see our secrets.
        process = subprocess.Popen(  # noqa: S603
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
        try:
            data, errors = process.communicate(html.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RenderTimeout() from None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if not data.startswith(b"%PDF"):
            detail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise RenderError(
                _(
                    "wkhtmltopdf could not convert the document (%(detail)s).",
                    detail=detail[0][:200],
                )
            )
        return data


def pdf_engine(name: str | None = None) -> PdfEngine:
    """The engine called ``name``; None: PDF_ENGINE from the app config, else WeasyPrint."""
    binary = None
    share_stylesheets = True
    if name is None and has_app_context():
        name = current_app.config.get("PDF_ENGINE")
    if has_app_context():
        binary = current_app.config.get("WKHTMLTOPDF_PATH")
        share_stylesheets = bool(current_app.config.get("PDF_STYLESHEET_CACHE", True))
    name = (name or "weasyprint").strip().lower()
    if name == "weasyprint":
        return WeasyPrintEngine(share_stylesheets)
    if name in ("pdfkit", "wkhtmltopdf"):
        return PdfkitEngine(binary)
    raise RenderError(
        _(
            "Unknown PDF engine '%(name)s': use one of %(engines)s (PDF_ENGINE setting).",
            name=name,
            engines=", ".join(ENGINES),
        )
    )
