"""A remittance bordereau as the insurer receives it: PDF and XLSX from built-in templates.

The bodies ship beside the other built-in templates (app/data/templates/
bordereau_encaissement.html and .json) and go through the same renderer
(app/services/rendering/pipeline.py: sandbox, sanitising, ORIAS footer, time limit).
They are not per-contract documents, so they are rendered on demand from the
bordereau's rows rather than queued for a policy: an issued bordereau's lines are
frozen, so the file reads the same every time it is downloaded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.models import Organisation, OutputFormat, Remittance
from app.services.errors import InvalidRequestError
from app.services.rendering.context import organisation_context
from app.services.rendering.errors import RenderError
from app.services.rendering.pipeline import RenderedFile, render
from app.services.templates.builtin import LAYOUT_FILE, TEMPLATE_DIR

KEY = "bordereau_encaissement"
TITLE = "Bordereau d'encaissement"
CENT = Decimal("0.01")


def template_body(output_format: OutputFormat) -> str:
    if output_format is OutputFormat.xlsx:
        return (TEMPLATE_DIR / f"{KEY}.json").read_text(encoding="utf-8")
    content = (TEMPLATE_DIR / f"{KEY}.html").read_text(encoding="utf-8")
    layout = (TEMPLATE_DIR / LAYOUT_FILE).read_text(encoding="utf-8")
    # The shared letterhead names a contract's documents by the contract; this one by itself.
    layout = layout.replace("{{ policy.number }}", "{{ remittance.number }}")
    return layout.replace("@@TITLE@@", TITLE).replace("@@CONTENT@@", content.strip())


def remittance_context(session: Session, remittance: Remittance, today: Any) -> dict[str, Any]:
    """Plain data only (app/services/rendering/context.py): no ORM object reaches a template."""
    company = remittance.company
    lines = []
    for line in remittance.lines:
        notice = line.premium_notice
        policy = notice.policy
        lines.append(
            {
                "notice_number": notice.number,
                "policy_number": policy.number,
                "client_name": policy.client.display_name if policy.client else "",
                "paid_on": line.paid_on,
                "collected": line.collected.quantize(CENT),
                "commission": line.commission.quantize(CENT),
                "net": (line.collected - line.commission).quantize(CENT),
            }
        )
    return {
        "organisation": organisation_context(session.get(Organisation, remittance.organisation_id)),
        "insurer": {"name": company.name, "code": company.code, "iban": company.iban},
        "remittance": {
            "number": remittance.number,
            "status": remittance.status.value,
            "period_from": remittance.period_from,
            "period_to": remittance.period_to,
            "issued_on": remittance.issued_on,
            "premiums_collected": remittance.premiums_collected,
            "commission_retained": remittance.commission_retained,
            "net_amount": remittance.net_amount,
            "lines": lines,
        },
        "today": today,
    }


def render_bordereau(
    session: Session, remittance: Remittance, output_format: OutputFormat, today: Any
) -> RenderedFile:
    """The bordereau rendered; a 422 with the renderer's message (safe to show) if it fails."""
    try:
        return render(
            template_body(output_format),
            output_format,
            remittance_context(session, remittance, today),
            locale="fr",
        )
    except RenderError as error:
        raise InvalidRequestError(error.message) from None


def file_name(remittance: Remittance, extension: str) -> str:
    return f"bordereau-{remittance.number}.{extension}"
