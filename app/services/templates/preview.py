"""Preview a template version, with sample data or one real policy of the user's agency.

Outputs:
- HTML and PDF templates preview as ``html`` (for the page) or ``pdf``;
- an XLSX template previews as ``xlsx`` (the workbook itself) or as ``html``: the
  rendered workbook read back and shown as plain tables, so the screen shows what
  the sheet will hold without a spreadsheet program. PDF is refused for XLSX
  templates: there is no such document to preview.
"""

from __future__ import annotations

import html
import io
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Organisation, OutputFormat, Template, TemplateVersion
from app.models.base import ModelValidationError
from app.services.errors import NotFoundError
from app.services.rendering import (
    RenderedFile,
    RenderError,
    TemplateSyntaxProblem,
    load_policy_for_render,
    policy_context,
    render,
    sample_context,
)
from app.services.scope import visible_organisation_id
from app.services.templates.access import check_readable, valid_id
from app.services.templates.authoring import find_version, syntax_message

OUTPUTS = {
    OutputFormat.html: ("html", "pdf"),
    OutputFormat.pdf: ("html", "pdf"),
    OutputFormat.xlsx: ("html", "xlsx"),
}
PREVIEW_MAX_ROWS = 200  # per sheet, in the HTML preview of a workbook


def preview(
    session: Session,
    user: Any,
    template: Template,
    *,
    version: int | None = None,
    policy_id: int | None = None,
    output: str = "html",
) -> RenderedFile:
    """Render version ``version`` (default: the published one, else the latest).

    With ``policy_id``, the data of that policy, which must belong to the user's
    organisation (NotFoundError otherwise); without, sample data under the
    user's agency letterhead. Render errors come back as a field error on "body".
    """
    check_readable(user, template)
    allowed = OUTPUTS[template.output_format]
    if output not in allowed:
        raise ModelValidationError(
            {"output": _("Choose one of: %(choices)s.", choices=", ".join(allowed))}
        )
    chosen = _version(session, template, version)
    if policy_id is not None:
        policy = None
        if valid_id(policy_id):
            policy = load_policy_for_render(session, policy_id, visible_organisation_id(user))
        if policy is None:
            raise NotFoundError(_("Policy not found."))
        context = policy_context(policy, locale=template.locale)
    else:
        context = sample_context(_organisation(session, user), locale=template.locale)
    # An XLSX template always renders its workbook; "html" then shows it as tables.
    is_workbook = template.output_format == OutputFormat.xlsx
    target = OutputFormat.xlsx if is_workbook else OutputFormat(output)
    try:
        rendered = render(chosen.body, target, context, locale=template.locale)
    except TemplateSyntaxProblem as problem:
        raise ModelValidationError({"body": syntax_message(problem)}) from None
    except RenderError as error:
        raise ModelValidationError(
            {"body": str(getattr(error, "message", None) or error)}
        ) from None
    if is_workbook and output == "html":
        return workbook_as_html(rendered.data, title=template.name)
    return rendered


def _version(session: Session, template: Template, number: int | None) -> TemplateVersion:
    if number is not None:
        return find_version(session, template, number)
    if template.published_version is not None:
        return template.published_version
    latest = session.scalar(
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template.id)
        .order_by(TemplateVersion.number.desc())
        .limit(1)
    )
    if latest is None:
        raise ModelValidationError({"version": _("This template has no version yet.")})
    return latest


def _organisation(session: Session, user: Any) -> Organisation | None:
    organisation_id = getattr(user, "organisation_id", None)
    return session.get(Organisation, organisation_id) if organisation_id else None


def workbook_as_html(data: bytes, *, title: str) -> RenderedFile:
    """The sheets of a workbook as escaped HTML tables (first rows of each)."""
    from openpyxl import load_workbook  # heavy: imported by the first preview, not at start-up

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:'DejaVu Sans',sans-serif;font-size:10pt}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #c8ccd2;padding:2px 6px}"
        "tr:first-child td{font-weight:bold;background:#eef1f5}</style></head><body>",
    ]
    try:
        for sheet in workbook.worksheets:
            parts.append(f"<h2>{html.escape(sheet.title)}</h2><table>")
            shown = 0
            hidden = 0
            # The declared <dimension> would limit what read-only mode reads: ours writes
            # none today, but the preview must show what the workbook holds, not what it says.
            sheet.reset_dimensions()
            for row in sheet.iter_rows(min_row=1, min_col=1, values_only=True):
                if shown >= PREVIEW_MAX_ROWS:
                    hidden += 1
                    continue
                cells = "".join(f"<td>{_cell(value)}</td>" for value in row)
                parts.append(f"<tr>{cells}</tr>")
                shown += 1
            parts.append("</table>")
            if hidden:
                parts.append(f"<p>{html.escape(_('%(count)d more rows.', count=hidden))}</p>")
    finally:
        workbook.close()
    parts.append("</body></html>")
    return RenderedFile(
        data="".join(parts).encode("utf-8"),
        media_type="text/html; charset=utf-8",
        extension="html",
        engine="openpyxl",
    )


def _cell(value: Any) -> str:
    return "" if value is None else html.escape(str(value))
