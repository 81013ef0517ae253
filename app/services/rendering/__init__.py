"""Rendering: user-written templates to HTML, PDF and XLSX, sandboxed and bounded.

The public names below are the contract other services code against
(docs/templates.md is the guide for template authors).
"""

from app.services.rendering.context import (
    context_sha256,
    load_policy_for_render,
    policy_context,
    sample_context,
)
from app.services.rendering.errors import RenderError, RenderTimeout, TemplateSyntaxProblem
from app.services.rendering.names import file_name_for, template_prefix
from app.services.rendering.pipeline import RenderedFile, check_template, render

__all__ = [
    "RenderError",
    "RenderTimeout",
    "RenderedFile",
    "TemplateSyntaxProblem",
    "check_template",
    "context_sha256",
    "file_name_for",
    "load_policy_for_render",
    "policy_context",
    "render",
    "sample_context",
    "template_prefix",
]
