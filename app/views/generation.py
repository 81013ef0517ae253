"""Generating documents from the policy screens: one from a policy's page, many from its list.

The policy page's "Generate a document" form is a page of DocumentView (its
permission: Document can_write); the list's bulk action belongs to PolicyView
(Policy can_write) and asks for the template on a confirmation page before it
queues one batch job. app.services.documents checks scope and writes the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from app.extensions import db
from app.models import Policy, Template, TemplateKind
from app.models.base import ModelValidationError
from app.services import documents as document_service
from app.services import templates as template_service
from app.services.errors import DomainError
from app.services.scope import current_user, visible_organisation_id
from app.views import lookup_sources
from app.views.responses import error_messages

# Kinds rendered from one policy's data; reports are made from a whole portfolio.
POLICY_TEMPLATE_KINDS = (
    TemplateKind.contract,
    TemplateKind.attestation,
    TemplateKind.notice,
    TemplateKind.other,
)


class GenerateForm(FlaskForm):
    template_id = SelectField(_("Template"), [InputRequired()], coerce=int)
    format = SelectField(
        _("Format"),
        choices=[
            SelectChoice("", _("The template's format")),
            SelectChoice("pdf", _("PDF")),
            SelectChoice("html", _("HTML")),
        ],
        default="",
    )
    compress = BooleanField(_("Compress the stored file"))
    encrypt = BooleanField(_("Encrypt the stored file"))


class BatchForm(FlaskForm):
    template_id = SelectField(_("Template"), [InputRequired()], coerce=int)


class GeneratePage:
    """DocumentView's /generate/<policy id> page (a mixin, to keep that module short)."""

    @expose("/generate/<pk>", methods=["GET", "POST"])
    @has_access
    def generate(self, pk: str) -> Any:
        """Generate one document from a policy: choose the template, format and storage."""
        policy_id = self._parse_pk(pk)
        policy_text = lookup_sources.label(
            db.session, "policy", policy_id, visible_organisation_id()
        )
        if policy_text is None:
            abort(404)
        form = GenerateForm()
        form.template_id.choices = policy_template_choices()
        encryption = bool(current_app.config.get("STORAGE_ENCRYPTION_KEYS"))
        if not encryption:
            del form.encrypt
        if form.validate_on_submit():
            session = db.session
            try:
                document_service.request_document(
                    session,
                    current_user(),
                    template_id=form.template_id.data,
                    policy_id=policy_id,
                    format=form.format.data or None,
                    compress=bool(form.compress.data),
                    encrypt=encryption and bool(form.encrypt.data),
                )
            except (ModelValidationError, DomainError) as error:
                session.rollback()
                for message in error_messages(error):
                    flash(message, "danger")
            else:
                flash(str(_("Document queued.")), "success")
                return redirect(url_for("DocumentView.list", _flt_0_policy=policy_id))
        elif request.method == "POST":
            flash(str(_("The form has errors: please correct the fields shown below.")), "danger")
        return self.render_template(
            "documents/generate.html",
            form=form,
            policy_id=policy_id,
            policy_text=policy_text,
            title=_("Generate a document"),
        )


def policy_template_choices() -> list[SelectChoice]:
    """The published templates the user may see that are made from one policy."""
    query = (
        template_service.templates_query(db.session, current_user())
        .filter(
            Template.published_version_id.isnot(None),
            Template.kind.in_(POLICY_TEMPLATE_KINDS),
        )
        .order_by(Template.name)
    )
    return [SelectChoice(template.id, template.name) for template in query.limit(500)]


def generate_documents_step(view: Any, policies: Iterable[Policy]) -> Any:
    """The policy list's bulk action: ask for the template, then queue one batch job."""
    policies = list(policies)
    if not policies:
        flash(str(_("No policy selected.")), "warning")
        return redirect(view.get_redirect())
    form = BatchForm(request.form if "template_id" in request.form else None)
    form.template_id.choices = policy_template_choices()
    if "template_id" in request.form and form.validate():
        session = db.session
        try:
            job = document_service.request_batch(
                session,
                current_user(),
                template_id=form.template_id.data,
                policy_ids=[policy.id for policy in policies],
            )
        except (ModelValidationError, DomainError) as error:
            session.rollback()
            for message in error_messages(error):
                flash(message, "danger")
        else:
            flash(
                ngettext("%(num)d document queued.", "%(num)d documents queued.", len(policies)),
                "success",
            )
            return redirect(url_for("JobView.show", pk=job.id))
    return view.render_template(
        "documents/batch_confirm.html",
        form=form,
        policies=policies,
        action_url=url_for(f"{type(view).__name__}.action_post"),
        title=_("Generate documents"),
    )
