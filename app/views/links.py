"""Screens of signed links: share a document by link (copy, revoke) and rotate the signing keys.

- ``/links/<document id>``: choose how long the link lives and whether it works
  once, get the URL in a field with a "Copy" button (app/static/js/copy-link.js:
  a served script, no inline code), and revoke every link of the document.
  ``Document`` permissions: issuing reads, revoking writes (as the API).
- ``/signing-keys/``: ADMIN lists the keys and rotates them (``SigningKey``),
  under Administration; with LINK_SIGNING_KEYS set it explains where to rotate.

Thin doors over app.services.links: the organisation check is the service's.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField

from app import permissions
from app.extensions import db
from app.services import links
from app.services.audit import Actor
from app.services.errors import DomainError
from app.services.links import keys as link_keys
from app.services.links.clock import now
from app.services.scope import current_user
from app.views.fields import parse_id

# Lifetimes offered on the screen (seconds), within LINK_TTL_MAX_SECONDS.
OFFERED_LIFETIMES = (300, 900, 1800, 3600)


def lifetime_label(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    return ngettext("%(num)d second", "%(num)d seconds", seconds)


class LinkForm(FlaskForm):
    ttl = SelectField(_l("Valid for"), coerce=int)
    single_use = BooleanField(_l("Works only once"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class LinkView(BaseView):
    route_base = "/links"
    class_permission_name = permissions.DOCUMENT
    method_permission_name = permissions.SCREEN_METHODS
    default_view = "link"

    @expose("/<pk>", methods=["GET", "POST"])
    @has_access
    def link(self, pk: str) -> Any:
        """Issue a link (POST) and show it with a copy button."""
        document = self._document(pk)
        form = _link_form()
        url = expires_at = None
        if request.method == "POST" and form.validate_on_submit():
            try:
                issued = links.issue_link(
                    db.session,
                    current_user(),
                    document.id,
                    ttl=form.ttl.data,
                    single_use=form.single_use.data,
                )
                db.session.commit()
            except links.LinksUnavailableError as error:
                db.session.rollback()
                flash(error.message, "danger")
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "warning")
            else:
                url = url_for("download.download_link", token=issued.token, _external=True)
                expires_at = issued.expires_at
        return self.render_template(
            "links/link.html",
            document=document,
            form=form,
            url=url,
            expires_at=expires_at,
            single_use=bool(url and form.single_use.data),
            revoke_form=ConfirmForm(),
            may_revoke=self.appbuilder.sm.has_access("can_write", permissions.DOCUMENT),
        )

    @expose("/<pk>/revoke", methods=["POST"])
    @has_access
    def revoke_links(self, pk: str) -> Response:
        """Every link of the document issued until now stops working."""
        document = self._document(pk)
        if ConfirmForm().validate_on_submit():
            try:
                links.revoke_links(db.session, current_user(), document.id)
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "warning")
            else:
                flash(_("Every link of this document was revoked."), "success")
        return redirect(url_for("LinkView.link", pk=document.id))

    def _document(self, pk: str) -> Any:
        from app.services.documents import visible_document

        document_id = parse_id(pk)
        document = (
            visible_document(db.session, current_user(), document_id) if document_id else None
        )
        if document is None:
            abort(404)  # another agency's document: the same answer as a missing one
        return document


def _link_form() -> LinkForm:
    form = LinkForm()
    longest = int(current_app.config["LINK_TTL_MAX_SECONDS"])
    default = min(int(current_app.config["LINK_TTL_SECONDS"]), longest)
    offered = sorted({default, *(s for s in OFFERED_LIFETIMES if s <= longest)})
    form.ttl.choices = [(seconds, lifetime_label(seconds)) for seconds in offered]
    if request.method == "GET":
        form.ttl.data = default
    return form


class SigningKeyView(BaseView):
    route_base = "/signing-keys"
    class_permission_name = permissions.SIGNING_KEY
    method_permission_name = permissions.SCREEN_METHODS
    default_view = "list"

    @expose("/", methods=["GET"])
    @has_access
    def list(self) -> Any:
        error = None
        try:
            rows = link_keys.describe_keys(db.session)
        except links.KeyConfigError as problem:
            rows, error = [], str(problem)
        from_environment = bool(rows) and rows[0].source == link_keys.ENV
        return self.render_template(
            "links/keys.html",
            rows=rows,
            moment=now(),
            error=error,
            from_environment=from_environment or error is not None,
            ttl_max=int(current_app.config["LINK_TTL_MAX_SECONDS"]),
            form=ConfirmForm(),
            may_rotate=self.appbuilder.sm.has_access("can_write", permissions.SIGNING_KEY),
        )

    @expose("/rotate", methods=["POST"])
    @has_access
    def rotate_keys(self) -> Response:
        if ConfirmForm().validate_on_submit():
            user = current_user()
            actor = Actor(user.id, user.username, getattr(user, "organisation_id", None))
            try:
                result = link_keys.rotate(db.session, actor=actor)
                db.session.commit()
            except (links.EnvironmentKeysError, links.KeyConfigError) as error:
                db.session.rollback()
                flash(str(error), "warning")
            else:
                flash(
                    _(
                        "New signing key %(kid)s. Links signed before keep working until "
                        "they expire.",
                        kid=result.new_kid,
                    ),
                    "success",
                )
        return redirect(url_for("SigningKeyView.list"))
