"""The forms of the proposal's page (app/views/advice.py) and how it flashes a refusal."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.models import DeliveryMethod, LineOfBusiness, SaleChannel
from app.services.errors import DomainError
from app.views.fields import (
    EnumSelectField,
    LocalizedDateField,
    LocalizedDecimalField,
    LookupSelectField,
)

CLIENT_FIELD = LookupSelectField(
    _("Client"), [DataRequired()], kind="client", description=_("Type a name to search.")
)
PROPOSAL_FIELDS: dict[str, Any] = {
    "line_of_business": EnumSelectField(
        _("Line of business"), [InputRequired()], enum_class=LineOfBusiness
    ),
    "sale_channel": EnumSelectField(_("Sale channel"), [InputRequired()], enum_class=SaleChannel),
    "recommendation": TextAreaField(_("Recommendation"), [Optional(), Length(max=5000)]),
    "reasons": TextAreaField(_("Reasons for the recommendation"), [Optional(), Length(max=5000)]),
}


class QuoteForm(FlaskForm):
    company_id = LookupSelectField(_("Insurer"), [DataRequired()], kind="company")
    product = StringField(_("Product"), [Optional(), Length(max=100)])
    premium = LocalizedDecimalField(_("Annual premium"), [Optional()])
    valid_until = LocalizedDateField(_("Valid until"), [Optional()])


class StepForm(FlaskForm):
    on = LocalizedDateField(_("On"), [Optional()])
    by = EnumSelectField(_("How"), [InputRequired()], enum_class=DeliveryMethod)


class ConvertForm(FlaskForm):
    effective_date = LocalizedDateField(_("Effective date"), [Optional()])
    policy_number = StringField(_("Policy number from the insurer"), [Optional(), Length(max=40)])


def flash_refusal(error: Exception) -> None:
    """The refusal's message, then each field's and each missing item's."""
    if isinstance(error, DomainError):
        flash(str(error.message), "danger")
        messages = [*(error.errors or {}).values()]
        messages += [item["label"] for item in getattr(error, "missing", [])]
    else:
        messages = list(getattr(error, "errors", {}).values()) or [str(error)]
    for message in messages:
        flash(str(message), "danger")
