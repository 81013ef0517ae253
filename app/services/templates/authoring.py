"""Writing templates: create one, add a version, publish a version.

Decisions:
- "Shared" (no organisation) is reserved to the platform operator (SUPERADMIN).
  A shared template is printed by every agency, so an agency's manager must not
  be able to change the documents other agencies send; a MANAGER or ADMIN
  writes the templates of their own organisation only.
- Versions are numbered per template, 1, 2, 3…, and never change (the model
  refuses any UPDATE). The template row is locked while the next number is
  taken, so on PostgreSQL concurrent saves queue up; should two saves still
  collide (SQLite has no row locks), the unique constraint (template_id, number)
  refuses the second and the author gets a 409 to reload and save again, rather
  than a silent renumbering that would hide the other author's version.
- Publishing only moves ``published_version_id``: documents already made keep the
  version they pinned.

Like every service here: the acting user is explicit, nothing is committed (the
door owns the transaction), and refusals are ModelValidationError (field ->
message, 422), NotFoundError or ForbiddenError.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import OutputFormat, Template, TemplateKind, TemplateVersion
from app.models.base import ModelValidationError
from app.models.template import MAX_BODY_CHARS, TEMPLATE_FORMATS
from app.models.validators import clean_text
from app.services import audit
from app.services.errors import ConflictError, ForbiddenError
from app.services.rendering import TemplateSyntaxProblem, check_template
from app.services.scope import is_superadmin
from app.services.templates.access import check_writable

LOCALES = ("fr", "en")
NAME_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 2000
CHANGELOG_MAX_LENGTH = 500
AUTHOR_NAME_MAX_LENGTH = 128


def create_template(
    session: Session,
    user: Any,
    *,
    name: str,
    kind: TemplateKind | str,
    output_format: OutputFormat | str,
    shared: bool = False,
    locale: str = "fr",
    description: str | None = None,
) -> Template:
    """Add a template (no version yet) to the user's organisation, or shared (SUPERADMIN).

    Every field error is reported at once; a shared template asked for by anyone
    but SUPERADMIN is a ForbiddenError.
    """
    if shared and not is_superadmin(user):
        raise ForbiddenError(_("Only the platform operator creates shared templates."))
    organisation_id = None if shared else getattr(user, "organisation_id", None)
    errors: dict[str, str] = {}
    if not shared and organisation_id is None:
        errors["shared"] = _("You belong to no agency: make the template shared.")
    values: dict[str, Any] = {}
    checks = {
        "name": lambda: clean_text("name", name, required=True, max_length=NAME_MAX_LENGTH),
        "kind": lambda: _choice("kind", kind, TemplateKind),
        "output_format": lambda: _choice(
            "output_format", output_format, OutputFormat, TEMPLATE_FORMATS
        ),
        "locale": lambda: _locale(locale),
        "description": lambda: clean_text(
            "description", description, required=False, max_length=DESCRIPTION_MAX_LENGTH
        ),
    }
    for field, check in checks.items():
        try:
            values[field] = check()
        except ModelValidationError as error:
            errors.update(error.errors)
    if values.get("kind") is TemplateKind.email and values.get("output_format") not in (
        None,
        OutputFormat.html,
    ):
        errors["output_format"] = _("An e-mail template is written in HTML.")
    if "name" not in errors and name_taken(session, organisation_id, values["name"]):
        errors["name"] = _("A template with this name already exists.")
    if errors:
        raise ModelValidationError(errors)
    template = Template(
        organisation_id=organisation_id, created_by_id=getattr(user, "id", None), **values
    )
    session.add(template)
    session.flush()
    _audit(session, user, "create", template, {"name": template.name, "shared": shared})
    return template


def add_version(
    session: Session, user: Any, template: Template, *, body: str, changelog: str | None
) -> TemplateVersion:
    """Check the body (syntax errors name their line) and save it as the next version."""
    check_writable(user, template)
    errors: dict[str, str] = {}
    if not isinstance(body, str) or not body.strip():
        errors["body"] = _("The template body is empty.")
    elif len(body) > MAX_BODY_CHARS:
        errors["body"] = _("The template body is too long (200,000 characters at most).")
    else:
        try:
            check_template(body, template.output_format)
            if template.kind is TemplateKind.email:
                from app.services.mail.templates import check_email_body

                check_email_body(body)
        except TemplateSyntaxProblem as problem:
            errors["body"] = syntax_message(problem)
    try:
        changelog = clean_text(
            "changelog", changelog, required=False, max_length=CHANGELOG_MAX_LENGTH
        )
    except ModelValidationError as error:
        errors.update(error.errors)
    if errors:
        raise ModelValidationError(errors)
    version = TemplateVersion(
        template_id=template.id,
        number=next_number(session, template),
        body=body,
        changelog=changelog,
        sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        author_id=getattr(user, "id", None),
        author_name=author_name(user),
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        # Another save took this number between our read and our write.
        raise ConflictError(
            _("Another version was saved at the same moment: reload the template and save again.")
        ) from None
    _audit(session, user, "new_version", template, {"version": version.number})
    return version


def publish(session: Session, user: Any, template: Template, number: int) -> TemplateVersion:
    """Make version ``number`` the published one (the only one); documents keep theirs."""
    check_writable(user, template)
    version = find_version(session, template, number)
    if template.published_version_id != version.id:
        before = template.published_version.number if template.published_version else None
        template.published_version = version
        session.flush()
        _audit(session, user, "publish", template, {"version": [before, version.number]})
    return version


def find_version(session: Session, template: Template, number: Any) -> TemplateVersion:
    """The version numbered ``number`` of this template, else a field error on "version"."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise ModelValidationError({"version": _("Give a version number.")})
    version = session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template.id, TemplateVersion.number == number
        )
    )
    if version is None:
        raise ModelValidationError(
            {"version": _("This template has no version %(number)s.", number=number)}
        )
    return version


def next_number(session: Session, template: Template) -> int:
    # Lock the template row first (PostgreSQL; ignored by SQLite) so two saves
    # of the same template take their numbers one after the other.
    session.execute(select(Template.id).where(Template.id == template.id).with_for_update())
    highest = session.scalar(
        select(func.max(TemplateVersion.number)).where(TemplateVersion.template_id == template.id)
    )
    return (highest or 0) + 1


def syntax_message(problem: TemplateSyntaxProblem) -> str:
    """'Line 3: unexpected '}'' — the line first, so the author finds it at once."""
    message = str(getattr(problem, "message", None) or problem)
    if problem.line is None:
        return message
    return _("Line %(line)d: %(message)s", line=problem.line, message=message)


def author_name(user: Any) -> str | None:
    if user is None:
        return None
    full = f"{getattr(user, 'first_name', '') or ''} {getattr(user, 'last_name', '') or ''}"
    name = " ".join(full.split()) or getattr(user, "username", None)
    return name[:AUTHOR_NAME_MAX_LENGTH] if name else None


def _choice(field: str, value: Any, enum_class: type, allowed: Any = None) -> Any:
    allowed = tuple(enum_class) if allowed is None else allowed
    try:
        member = value if isinstance(value, enum_class) else enum_class(value)
        if member in allowed:
            return member
        raise ValueError(value)
    except ValueError:
        choices = ", ".join(member.value for member in allowed)
        raise ModelValidationError(
            {field: _("Choose one of: %(choices)s.", choices=choices)}
        ) from None


def _locale(value: Any) -> str:
    value = value.strip() if isinstance(value, str) else value
    if value not in LOCALES:
        raise ModelValidationError({"locale": _("Choose French (fr) or English (en).")})
    return value


def name_taken(session: Session, organisation_id: int | None, name: str) -> bool:
    # Whatever the case, like agency names; the constraint alone would let "Avis"
    # and "avis" live side by side, and ignores shared templates (NULL). Compared
    # in Python: SQLite's lower() leaves "É" alone, and an agency has few templates.
    owner = (
        Template.organisation_id.is_(None)
        if organisation_id is None
        else Template.organisation_id == organisation_id
    )
    names = session.scalars(select(Template.name).where(owner))
    return any(existing.casefold() == name.casefold() for existing in names)


def _audit(
    session: Session, user: Any, action: str, template: Template, changes: dict[str, Any]
) -> None:
    organisation_id = getattr(user, "organisation_id", None)
    audit.record(
        session,
        action,
        "Template",
        template.id,
        changes,
        organisation_id=template.organisation_id or organisation_id,
        actor=audit.Actor(
            getattr(user, "id", None), getattr(user, "username", None), organisation_id
        ),
    )
