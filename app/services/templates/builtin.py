"""The built-in document templates, loaded on first run and shared with every agency.

Their bodies live in app/data/templates/: ``<key>.html`` holds the content of one
document and ``_layout.html`` the look they share (letterhead, A4 page, footer
with the page number and the ORIAS mention), put together here so the stored
version is one self-contained body, the one an operator reads and edits
(the sandboxed renderer loads no other file). An XLSX template is ``<key>.json``,
the renderer's sheet description.

Loading is idempotent by ``builtin_key``: a missing built-in template is added with
its current body as version 1, published. A built-in template whose body changed in a
release (a new entry in ``Builtin.revisions``) gets that body as its next version
when it is loaded again (every start of run.py, ``flask monassurance load-templates``):
published at once if the published version is still one MonAssurance wrote, added
unpublished (its changelog says so) if an operator published their own. Documents
keep the version they were rendered with (``Document.template_version_id``), so the
ones already generated stay as they were. A built-in template whose name an operator
already gave a shared template of their own is skipped, rather than make two of the
same name. Earlier bodies are kept byte for byte in ``history/<key>.<n>.html`` (or ``.json``), the
record of what each revision replaced (docs/templates.md, "Built-in templates").
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OutputFormat, Template, TemplateKind, TemplateVersion
from app.services import audit
from app.services.templates.authoring import CHANGELOG_MAX_LENGTH, name_taken, next_number

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "data" / "templates"
HISTORY_DIR = TEMPLATE_DIR / "history"
LAYOUT_FILE = "_layout.html"
AUTHOR = "MonAssurance"
FIRST_CHANGELOG = "Modèle fourni avec MonAssurance."
# A body that changed in a release without a revision entry (before revisions existed).
UPDATED_CHANGELOG = "Mise à jour du modèle fourni avec MonAssurance."
NOT_PUBLISHED = (
    "Non publiée : la version publiée est la vôtre ; publiez celle-ci pour adopter ce changement."
)


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    kind: TemplateKind
    output_format: OutputFormat
    description: str
    # The changelog of each revision after the first, oldest first: add one whenever the
    # body changes, and keep the replaced body in history/<key>.<revision>.<ext>.
    revisions: tuple[str, ...] = ()

    @property
    def revision(self) -> int:
        """The number of the body in app/data/templates (1 for a template never changed)."""
        return 1 + len(self.revisions)


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
        "Atteste que le client est assuré, pour la période en cours du contrat.",
        revisions=(
            "La période attestée est la période en cours (de la dernière échéance à la "
            "prochaine), non plus de la souscription à la dernière échéance.",
        ),
    ),
    Builtin(
        "avis_echeance",
        "Avis d'échéance",
        TemplateKind.notice,
        OutputFormat.pdf,
        "La période qui s'ouvre à l'échéance et ses paiements, la date limite pour refuser "
        "la reconduction (loi Chatel, délai de vingt jours si l'avis est tardif), et les "
        "droits de résiliation Hamon et santé.",
        revisions=(
            "Facture la période à venir (de l'échéance à l'échéance suivante) et non la période "
            "écoulée ; indique la date limite de dénonciation et, pour un avis tardif, le délai "
            "de vingt jours (L113-15-1) ; rappelle le droit Hamon (auto, habitation) et la "
            "résiliation infra-annuelle santé ; pas de mention Chatel pour un contrat "
            "professionnel.",
        ),
    ),
    Builtin(
        "lettre_resiliation",
        "Lettre de résiliation",
        TemplateKind.other,
        OutputFormat.pdf,
        "Accusé de réception de la demande de résiliation du client : contrat, motif et "
        "article du code des assurances, dates d'envoi et de réception, date d'effet.",
    ),
    Builtin(
        "mise_en_demeure",
        "Mise en demeure (cotisation impayée)",
        TemplateKind.notice,
        OutputFormat.pdf,
        "Lettre recommandée de l'article L113-3 : la somme due et les quittances impayées, la "
        "date de suspension des garanties (30 jours après l'envoi) et celle à partir de "
        "laquelle l'assureur peut résilier (10 jours plus tard) ; L132-20 pour la vie.",
    ),
    Builtin(
        "lettre_relance",
        "Lettre de relance",
        TemplateKind.notice,
        OutputFormat.pdf,
        "Relance d'une cotisation impayée : la somme restant due et ses quittances, et la date "
        "à partir de laquelle une mise en demeure (L113-3) pourra être envoyée.",
    ),
    Builtin(
        "lettre_rappel_echeance",
        "Avis de prélèvement / Rappel d'échéance",
        TemplateKind.notice,
        OutputFormat.pdf,
        "Le courrier envoyé quelques jours avant l'échéance (réglage de l'agence, envoi par "
        "courrier) : les quittances à échoir et la somme à régler, ou à prélever sous le "
        "mandat SEPA du contrat.",
    ),
    Builtin(
        "document_entree_relation",
        "Document d'entrée en relation (DER)",
        TemplateKind.other,
        OutputFormat.pdf,
        "Présentation du cabinet remise avant toute souscription : ORIAS, statut, "
        "rémunération, réclamations, médiation et autorité de contrôle.",
        revisions=(
            "Remis au client avant tout contrat (prospect compris) : le numéro de dossier et "
            "l'assureur ne sont cités que pour un document établi sur un contrat.",
        ),
    ),
    Builtin(
        "fiche_information_conseil",
        "Fiche d'information et de conseil (FIC)",
        TemplateKind.other,
        OutputFormat.pdf,
        "Les exigences et besoins du client (le questionnaire de la branche et ses "
        "réponses), les offres étudiées, la recommandation et ses raisons, et le droit de "
        "renonciation d'une vente à distance ou par démarchage (L521-4, L112-2-1, L112-9).",
    ),
    Builtin(
        "echeancier",
        "Échéancier (tableur)",
        TemplateKind.notice,
        OutputFormat.xlsx,
        "Les échéances de paiement de la période en cours dans un classeur, avec leur total.",
        revisions=(
            "La période, la cotisation et les échéances sont celles de la période en cours, non "
            "plus de la souscription à la dernière échéance.",
        ),
    ),
    Builtin(
        "email_avis_echeance",
        "Envoi de l'avis d'échéance",
        TemplateKind.email,
        OutputFormat.html,
        "Le message qui accompagne l'avis d'échéance joint : l'échéance, la cotisation de la "
        "période qui s'ouvre et la date limite pour dénoncer le contrat.",
    ),
    Builtin(
        "email_rappel_echeance",
        "Rappel avant échéance",
        TemplateKind.email,
        OutputFormat.html,
        "Le rappel envoyé quelques jours avant l'échéance d'une quittance (réglage de "
        "l'agence) : la quittance, sa date d'échéance et le montant à régler.",
    ),
    Builtin(
        "email_relance_impaye",
        "Relance de cotisation impayée",
        TemplateKind.email,
        OutputFormat.html,
        "La relance envoyée quelques jours après l'échéance : la somme restant due et ses "
        "quittances, et la date à partir de laquelle une mise en demeure (L113-3) pourra partir.",
    ),
)


def builtin_body(builtin: Builtin, revision: int | None = None) -> str:
    """The full body of a built-in template at ``revision`` (the current one by default)."""
    revision = builtin.revision if revision is None else revision
    extension = "json" if builtin.output_format == OutputFormat.xlsx else "html"
    if not 1 <= revision <= builtin.revision:
        raise ValueError(f"{builtin.key} has no revision {revision}")
    if revision < builtin.revision:
        return (HISTORY_DIR / f"{builtin.key}.{revision}.{extension}").read_text(encoding="utf-8")
    if builtin.output_format == OutputFormat.xlsx:
        return (TEMPLATE_DIR / f"{builtin.key}.json").read_text(encoding="utf-8")
    content = (TEMPLATE_DIR / f"{builtin.key}.html").read_text(encoding="utf-8")
    if builtin.kind is TemplateKind.email:
        return content  # a message: its subject line first, no letterhead
    layout = (TEMPLATE_DIR / LAYOUT_FILE).read_text(encoding="utf-8")
    return layout.replace("@@TITLE@@", builtin.name).replace("@@CONTENT@@", content.strip())


def load_builtin_templates(session: Session) -> int:
    """Add the missing built-in templates and the new revisions of those already there.

    Returns how many templates were added or given a new version. Never commits; never
    changes or deletes a version, nor unpublishes an operator's own.
    """
    keys = [builtin.key for builtin in BUILTINS]
    existing = {
        template.builtin_key: template
        for template in session.scalars(select(Template).where(Template.builtin_key.in_(keys)))
    }
    changed = 0
    for builtin in BUILTINS:
        template = existing.get(builtin.key)
        if template is not None:
            changed += _upgrade(session, template, builtin)
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
        template.published_version = _add_version(session, template, body, 1, FIRST_CHANGELOG)
        changed += 1
    if changed:
        session.flush()
    return changed


def written_by_monassurance(version: TemplateVersion | None) -> bool:
    """Whether a version is one this loader wrote (no user is its author)."""
    return version is not None and version.author_id is None and version.author_name == AUTHOR


def _upgrade(session: Session, template: Template, builtin: Builtin) -> int:
    """Give ``template`` the current body of ``builtin`` if none of its versions has it."""
    body = builtin_body(builtin)
    digest = _sha256(body)
    if session.scalar(
        select(TemplateVersion.id).where(
            TemplateVersion.template_id == template.id, TemplateVersion.sha256 == digest
        )
    ):
        return 0  # this revision is there already (published or not: the operator decides)
    published = template.published_version
    adopt = written_by_monassurance(published)
    changelog = builtin.revisions[-1] if builtin.revisions else UPDATED_CHANGELOG
    if not adopt:
        # The operator published their own version: offer this one, do not impose it.
        changelog = f"{changelog} {NOT_PUBLISHED}"[:CHANGELOG_MAX_LENGTH]
    version = _add_version(session, template, body, next_number(session, template), changelog)
    if adopt:
        template.published_version = version
        session.flush()
        audit.record(
            session,
            "publish",
            "Template",
            template.id,
            {"version": [published.number, version.number]},
            actor=audit.Actor(None, AUTHOR, None),
        )
    log.info(
        "built-in template %r: revision %d added as version %d%s",
        builtin.key,
        builtin.revision,
        version.number,
        " and published" if adopt else " (not published: the operator's version stays)",
    )
    return 1


def _add_version(
    session: Session, template: Template, body: str, number: int, changelog: str
) -> TemplateVersion:
    version = TemplateVersion(
        template_id=template.id,
        number=number,
        body=body,
        changelog=changelog,
        sha256=_sha256(body),
        author_name=AUTHOR,
    )
    session.add(version)
    session.flush()
    return version


def _sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
