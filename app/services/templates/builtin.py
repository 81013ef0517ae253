"""The built-in document templates, loaded on first run and shared with every agency.

Their bodies live in app/data/templates/: ``<key>.html`` holds the content of one
document and ``_layout.html`` the look they share (letterhead, A4 page, footer
with the page number and the ORIAS mention), put together here so the stored
version is one self-contained body, the one an operator reads and edits
(the sandboxed renderer loads no other file). An XLSX template is ``<key>.json``,
the renderer's sheet description.

Loading is idempotent by ``builtin_key``: a key already present is left alone,
whatever the operator did to that template since (new versions, another
published one). A built-in template whose name an operator already gave a
shared template of their own is skipped too, rather than make two of the same name.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OutputFormat, Template, TemplateKind, TemplateVersion
from app.services.templates.authoring import name_taken

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "data" / "templates"
LAYOUT_FILE = "_layout.html"
AUTHOR = "MonAssurance"
FIRST_CHANGELOG = "Modèle fourni avec MonAssurance."


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    kind: TemplateKind
    output_format: OutputFormat
    description: str


BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "conditions_particulieres",
        "Conditions particulières",
        TemplateKind.contract,
        OutputFormat.pdf,
        "Le contrat du client : parties, garanties souscrites, dates, cotisation et "
        "échéancier, durée et résiliation, signatures.",
    ),
    Builtin(
        "attestation_assurance",
        "Attestation d'assurance",
        TemplateKind.attestation,
        OutputFormat.pdf,
        "Atteste que le client est assuré, pour la période de validité du contrat.",
    ),
    Builtin(
        "avis_echeance",
        "Avis d'échéance",
        TemplateKind.notice,
        OutputFormat.pdf,
        "Montant et dates des prochains paiements, moyens de paiement et rappel du "
        "droit de résiliation (loi Chatel).",
    ),
    Builtin(
        "document_entree_relation",
        "Document d'entrée en relation (DER)",
        TemplateKind.other,
        OutputFormat.pdf,
        "Présentation du cabinet remise avant toute souscription : ORIAS, statut, "
        "rémunération, réclamations, médiation et autorité de contrôle.",
    ),
    Builtin(
        "echeancier",
        "Échéancier (tableur)",
        TemplateKind.notice,
        OutputFormat.xlsx,
        "Les échéances de paiement du contrat dans un classeur, avec leur total.",
    ),
)


def builtin_body(builtin: Builtin) -> str:
    """The full body of a built-in template, as stored in its first version."""
    if builtin.output_format == OutputFormat.xlsx:
        return (TEMPLATE_DIR / f"{builtin.key}.json").read_text(encoding="utf-8")
    content = (TEMPLATE_DIR / f"{builtin.key}.html").read_text(encoding="utf-8")
    layout = (TEMPLATE_DIR / LAYOUT_FILE).read_text(encoding="utf-8")
    return layout.replace("@@TITLE@@", builtin.name).replace("@@CONTENT@@", content.strip())


def load_builtin_templates(session: Session) -> int:
    """Add the built-in templates that are missing, shared and with version 1 published.

    Returns how many were added. Never commits, never changes an existing template.
    """
    keys = [builtin.key for builtin in BUILTINS]
    existing = set(
        session.scalars(select(Template.builtin_key).where(Template.builtin_key.in_(keys)))
    )
    added = 0
    for builtin in BUILTINS:
        if builtin.key in existing:
            continue
        if name_taken(session, None, builtin.name):
            log.warning("built-in template %r skipped: a shared template has its name", builtin.key)
            continue
        body = builtin_body(builtin)
        template = Template(
            organisation_id=None,
            name=builtin.name,
            kind=builtin.kind,
            output_format=builtin.output_format,
            locale="fr",
            description=builtin.description,
            builtin_key=builtin.key,
        )
        session.add(template)
        session.flush()
        version = TemplateVersion(
            template_id=template.id,
            number=1,
            body=body,
            changelog=FIRST_CHANGELOG,
            sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
            author_name=AUTHOR,
        )
        session.add(version)
        session.flush()
        template.published_version = version
        added += 1
    if added:
        session.flush()
    return added
