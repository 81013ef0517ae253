"""Compile template bodies in the sandbox, and turn Jinja's errors into ours."""

from __future__ import annotations

import decimal
import functools
import logging
from types import TracebackType
from typing import Any

from flask_babel import gettext as _
from jinja2 import Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError

from app.services.rendering.errors import RenderError, TemplateSyntaxProblem
from app.services.rendering.guards import TooLargeError
from app.services.rendering.sandbox import environment

log = logging.getLogger(__name__)

# Tags that load another template: there is no loader, a template is self-contained.
_LOADING_NODES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
TEMPLATE_FILENAME = "<template>"

# Errors a template can cause by itself (bad data, a typo, a refused operation).
TEMPLATE_ERRORS = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
    RecursionError,
    MemoryError,
)


def refuse_loading_tags(tree: nodes.Template) -> None:
    for node in tree.find_all(_LOADING_NODES):
        tag = type(node).__name__.lower().replace("fromimport", "from … import")
        raise TemplateSyntaxProblem(
            _(
                "'%(tag)s' is not available: a template cannot load files or other templates.",
                tag=tag,
            ),
            line=node.lineno,
        )


@functools.lru_cache(maxsize=64)
def compile_template(body: str) -> Template:
    """The sandboxed template for ``body`` (cached: a batch renders one body many times)."""
    env = environment()
    try:
        tree = env.parse(body)
        refuse_loading_tags(tree)
        return env.from_string(tree)
    except TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(exc.message or _("Syntax error."), line=exc.lineno) from None
    except RecursionError:
        raise TemplateSyntaxProblem(_("The template is nested too deeply.")) from None


def template_line(tb: TracebackType | None, filename: str = TEMPLATE_FILENAME) -> int | None:
    """The template line of the innermost template frame (Jinja rewrites tracebacks so)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def as_render_error(exc: BaseException, *, line: int | None = None) -> RenderError:
    """A RenderError a template author can act on, for an error raised while rendering."""
    if isinstance(exc, RenderError):
        return exc
    line = line if line is not None else template_line(exc.__traceback__)
    if isinstance(exc, TemplateSyntaxError):
        return TemplateSyntaxProblem(exc.message or _("Syntax error."), line=exc.lineno)
    if isinstance(exc, TooLargeError):
        return RenderError(str(exc), line=line)
    if isinstance(exc, SecurityError):
        return RenderError(_("Not allowed in a template: %(reason)s", reason=str(exc)), line=line)
    if isinstance(exc, UndefinedError):
        return RenderError(str(exc), line=line)
    if isinstance(exc, RecursionError):
        return RenderError(_("The template calls itself too deeply (recursion)."), line=line)
    if isinstance(exc, decimal.DecimalException):
        return RenderError(_("A calculation gave an invalid or too large number."), line=line)
    if isinstance(exc, MemoryError):
        return RenderError(_("The template needs too much memory."), line=line)
    log.info("template error: %r", exc)
    message = str(exc) or type(exc).__name__
    return RenderError(f"{message[:300]}", line=line)


def render_text(template: Template, context: dict[str, Any], limit: int) -> str:
    """Render, streaming, and stop as soon as the output passes ``limit`` characters."""
    from app.services.rendering.limits import check_output_size

    chunks = []
    size = 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            check_output_size(size, limit)
            chunks.append(chunk)
    except TEMPLATE_ERRORS as exc:
        raise as_render_error(exc) from None
    return "".join(chunks)
