"""The advice duty's other screens: the DER/FIC register, the needs questionnaires, and
the withdrawal window shown on a contract converted from a quote."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from app import permissions
from app.extensions import db
from app.models import (
    ComplianceDocument,
    ComplianceKind,
    ComplianceStatus,
    DeliveryMethod,
    LineOfBusiness,
    NeedsQuestionnaire,
    Quote,
)
from app.services.advice.questionnaire import check_questionnaire
from app.views.base import OrganisationModelView
from app.views.fields import EnumSelectField, LookupSelectField
from app.views.interface import ListInterface
from app.views.labels import date_formatter, enum_formatter
from app.views.premium_cells import client_link


class ComplianceDocumentView(OrganisationModelView):
    """Every DER and FIC of the agency and where each stands; acted on from the proposal."""

    class_permission_name = permissions.PROPOSAL
    method_permission_name = permissions.SCREEN_METHODS
    include_route_methods = {"list", "show"}
    datamodel = ListInterface(ComplianceDocument, eager=("client",))
    list_title = _("DER and FIC")
    show_title = _("Compliance document")
    list_columns = ["kind", "client", "proposal", "status", "sent_on", "signed_on", "signed_by"]
    show_columns = [*list_columns, "sent_by", "document", "created_at"]
    search_columns = ["kind", "client", "status", "signed_on"]
    order_columns = ["kind", "status", "sent_on", "signed_on"]
    base_order = ("id", "desc")
    label_columns = {
        "kind": _("Document"),
        "client": _("Client"),
        "proposal": _("Proposal"),
        "status": _("Status"),
        "sent_on": _("Sent on"),
        "sent_by": _("Sent how"),
        "signed_on": _("Signed on"),
        "signed_by": _("Signed how"),
        "document": _("File"),
        "created_at": _("Generated on"),
    }
    formatters_columns = {
        "kind": enum_formatter(ComplianceKind),
        "client": client_link,
        "proposal": lambda proposal: str(proposal) if proposal is not None else "",
        "status": enum_formatter(ComplianceStatus),
        "sent_by": enum_formatter(DeliveryMethod),
        "signed_by": enum_formatter(DeliveryMethod),
        "document": lambda document: str(document) if document is not None else "",
    }
    search_form_extra_fields = {
        "client": LookupSelectField(_("Client"), kind="client"),
        "kind": EnumSelectField(_("Document"), enum_class=ComplianceKind),
        "status": EnumSelectField(_("Status"), enum_class=ComplianceStatus),
    }


class NeedsQuestionnaireView(OrganisationModelView):
    """An agency's own questions per line; a line without one asks the built-in questions."""

    class_permission_name = permissions.QUESTIONNAIRE
    method_permission_name = permissions.SCREEN_METHODS
    include_route_methods = {"list", "show", "add", "edit"}
    datamodel = ListInterface(NeedsQuestionnaire)
    list_title = _("Needs questionnaires")
    show_title = _("Needs questionnaire")
    add_title = _("New needs questionnaire")
    edit_title = _("Edit needs questionnaire")
    list_columns = ["line_of_business", "questions"]
    show_columns = ["line_of_business", "questions", "updated_at"]
    add_columns = ["line_of_business", "questions"]
    edit_columns = ["questions"]
    order_columns = ["line_of_business"]
    base_order = ("line_of_business", "asc")
    label_columns = {
        "line_of_business": _("Line of business"),
        "questions": _("Questions"),
        "updated_at": _("Updated on"),
    }
    description_columns = {
        "questions": _("One question a line, asked before advising (printed on the FIC)."),
    }
    formatters_columns = {
        "line_of_business": enum_formatter(LineOfBusiness),
        "questions": lambda text: "; ".join((text or "").splitlines()),
    }
    add_form_extra_fields = {
        "line_of_business": EnumSelectField(
            _("Line of business"), [InputRequired()], enum_class=LineOfBusiness
        ),
        "questions": TextAreaField(_("Questions"), [InputRequired()], render_kw={"rows": 8}),
    }
    edit_form_extra_fields = {"questions": add_form_extra_fields["questions"]}
    unique_constraints = {
        "uq_needs_questionnaire_line": (
            "line_of_business",
            _("This line has its questionnaire already: edit it."),
        ),
        "needs_questionnaire.organisation_id, needs_questionnaire.line_of_business": (
            "line_of_business",
            _("This line has its questionnaire already: edit it."),
        ),
    }

    def pre_add(self, item: NeedsQuestionnaire) -> None:
        super().pre_add(item)
        check_questionnaire(item)

    def pre_update(self, item: NeedsQuestionnaire) -> None:
        super().pre_update(item)
        check_questionnaire(item)


class PolicyWithdrawalBlock:
    """PolicyView mixin: the withdrawal window of a contract sold away from the agency."""

    def _get_show_widget(self, pk: Any, item: Any, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)  # type: ignore[misc]
        quote = db.session.scalar(select(Quote).where(Quote.policy_id == item.id).limit(1))
        if quote is not None:
            widgets["advice"] = {
                "proposal_id": quote.proposal_id,
                "withdrawal_ends_on": date_formatter(quote.withdrawal_ends_on)
                if quote.withdrawal_ends_on
                else "",
            }
        return widgets
