"""The Boîte d'envoi: the agency's messages as sent, approval of held ones, and sending
a template about a contract, a client or a claim from its page.

Thin screens over app/services/mail (compose.py): refusals are flashed.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import permissions
from app.extensions import db
from app.models import Document, DocumentStatus, Message, MessageStatus, Template, TemplateKind
from app.services.errors import DomainError
from app.services.mail import compose
from app.services.scope import current_user, visible_organisation_id
from app.services.templates.access import templates_query
from app.views.base import OrganisationModelView
from app.views.fields import EnumSelectField
from app.views.interface import ListInterface
from app.views.labels import date_formatter, enum_formatter


def _record(message: Message) -> str:
    if message.claim is not None:
        return message.claim.number
    if message.policy is not None:
        return message.policy.number
    return str(message.client) if message.client is not None else ""


class MessageView(OrganisationModelView):
    route_base = "/outbox"
    class_permission_name = permissions.MESSAGE
    method_permission_name = permissions.MESSAGE_SCREEN_METHODS
    # Messages are written by the service only (compose); never edited nor deleted.
    include_route_methods = {"list", "show", "compose", "action", "action_post"}
    datamodel = ListInterface(
        Message, eager=("policy", "client", "claim"), computed={"record": _record}
    )
    show_template = "messages/show.html"
    list_title = _("Outbox")
    show_title = _("Message")
    base_order = ("id", "desc")
    list_columns = ["created_at", "status", "to_addresses", "subject", "record", "finished_at"]
    nowrap_columns = ("created_at", "finished_at")
    search_columns = ["status", "to_addresses", "subject", "created_at"]
    search_form_extra_fields = {
        "status": EnumSelectField(_("Status"), enum_class=MessageStatus),
    }
    label_columns = {
        "created_at": _("Written"),
        "status": _("Status"),
        "to_addresses": _("To"),
        "subject": _("Subject"),
        "record": _("Contract or client"),
        "finished_at": _("Sent"),
    }
    formatters_columns = {
        "status": enum_formatter(MessageStatus),
        "created_at": date_formatter,
        "finished_at": date_formatter,
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: str) -> Any:
        message = _visible(self._parse_pk(pk))
        self.update_redirect()
        return self.render_template(
            self.show_template,
            pk=message.id,
            message=message,
            status_label=enum_formatter(MessageStatus)(message.status),
            title=self.show_title,
        )

    @expose("/compose/<record>/<int:record_id>", methods=["GET", "POST"])
    @has_access
    def compose(self, record: str, record_id: int) -> Any:
        """Send an e-mail template about a contract, a client or a claim (its page's button)."""
        if record not in ("policy", "client", "claim"):
            abort(404)
        session = db.session
        user = current_user()
        try:
            target = compose.load_record(session, user, record, record_id)
        except DomainError:
            abort(404)
        templates = (
            templates_query(session, user)
            .filter(Template.kind == TemplateKind.email, Template.published_version_id.isnot(None))
            .order_by(Template.name)
            .all()
        )
        documents = _ready_documents(target.links.get("policy_id"), target.organisation_id)
        if request.method == "POST":
            try:
                message_id = compose.send_from_record(
                    session,
                    user,
                    template_id=request.form.get("template_id", type=int),
                    record_kind=record,
                    record_id=record_id,
                    to=[request.form["to"].strip()] if request.form.get("to", "").strip() else None,
                    document_ids=request.form.getlist("document_ids", type=int),
                    link=request.form.get("link") == "y",
                )
            except DomainError as error:
                session.rollback()
                flash(error.message, "danger")
            else:
                flash(_("The message is written and on its way."), "success")
                return redirect(url_for("MessageView.show", pk=message_id))
        return self.render_template(
            "messages/compose.html",
            title=_("Send by e-mail"),
            templates=templates,
            documents=documents,
            email=target.email or "",
            record=record,
            record_id=record_id,
        )

    @action(
        "approve_messages",
        _("Approve and send"),
        _("Send the selected messages?"),
        "fa-check",
        multiple=True,
        single=False,
    )
    def approve_messages(self, items: list[Message]) -> Response:
        return self._decide(items, approved=True)

    @action(
        "refuse_messages",
        _("Refuse"),
        _("Refuse the selected messages? They will not be sent."),
        "fa-ban",
        multiple=True,
        single=False,
    )
    def refuse_messages(self, items: list[Message]) -> Response:
        return self._decide(items, approved=False)

    def _decide(self, items: list[Message], *, approved: bool) -> Response:
        session = db.session
        changed = compose.approve(
            session, current_user(), [item.id for item in items], approved=approved
        )
        if approved:
            text = ngettext("%(num)d message approved.", "%(num)d messages approved.", changed)
        else:
            text = ngettext("%(num)d message refused.", "%(num)d messages refused.", changed)
        flash(text, "success" if changed else "warning")
        return redirect(self.get_redirect())


def _visible(message_id: Any) -> Message:
    scope = visible_organisation_id(current_user())
    query = select(Message).where(Message.id == message_id)
    if scope is not None:
        query = query.where(Message.organisation_id == scope)
    message = db.session.execute(query).scalar()
    if message is None:
        abort(404)
    return message


def _ready_documents(policy_id: int | None, organisation_id: int) -> list[Document]:
    if policy_id is None:
        return []
    return (
        db.session.execute(
            select(Document)
            .where(
                Document.policy_id == policy_id,
                Document.organisation_id == organisation_id,
                Document.status == DocumentStatus.ready,
            )
            .order_by(Document.id.desc())
            .limit(20)
        )
        .scalars()
        .all()
    )
