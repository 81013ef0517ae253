"""Errors of the rendering service: each carries a message that is safe to show to users."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class RenderError(Exception):
    """A template could not be rendered.

    ``message`` says why in words a template author understands (no stack
    trace, no server path); ``line`` is the template line when known.
    """

    default_message = _l("The document could not be rendered.")

    def __init__(self, message: str | None = None, *, line: int | None = None) -> None:
        self.message = str(message or self.default_message)
        self.line = line
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.line:
            return str(_l("Line %(line)s: %(message)s", line=self.line, message=self.message))
        return self.message


class TemplateSyntaxProblem(RenderError):  # noqa: N818 (name fixed by the contract)
    """The template body cannot be compiled (Jinja syntax, or an invalid sheet description)."""

    default_message = _l("The template has a syntax error.")


class RenderTimeout(RenderError):  # noqa: N818 (name fixed by the contract)
    """The render took longer than its time limit and was stopped."""

    default_message = _l("The document took too long to render and was stopped.")
