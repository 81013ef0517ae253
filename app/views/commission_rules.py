"""Comptabilité › Règles de commission: the rules the agency negotiated with its insurers.

The same rows and checks as /api/v1/commission_rule/ (app/api/commission_rules.py): the
model's invariants and the cross-agency references (app/services/validation.py) and the
contract override's insurer (app/services/commissions/rule_checks.py), reported together;
saving a rule recomputes its insurer's expected commissions with the API's service call.
A rule is never deleted (its expected commissions name it): it is ended with "Valid to".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import get_locale
from flask_babel import lazy_gettext as _
from sqlalchemy import or_
from sqlalchemy.orm import Query
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app import permissions
from app.models import CommissionBasis, CommissionDue, CommissionRule, LineOfBusiness
from app.models.base import ModelValidationError
from app.services.commissions.rule_checks import check_rule, rule_saved
from app.views.base import OrganisationModelView
from app.views.date_filters import LocalDateFilterConverter, typed_moment
from app.views.fields import (
    EnumSelectField,
    LocalizedDateField,
    LocalizedDecimalField,
    LookupSelectField,
)
from app.views.interface import ListInterface
from app.views.labels import enum_formatter, money_text
from app.views.premium_cells import contract_link

RATES = ("first_year_rate", "later_years_rate", "clawback_first_year", "clawback_second_year")


def percent_text(value: Decimal | None) -> str:
    """A rate in the reader's style: "12,50 %" (empty when none)."""
    if value is None:
        return ""
    return f"{format_decimal(value, '0.00', locale=str(get_locale() or 'fr'))} %"


class ActiveOnFilter(BaseFilter):
    """Rules in force on a day: started on or before it, not ended before it."""

    name = _("Active on")

    def apply(self, query: Query, value: Any) -> Query:
        typed = typed_moment(value)
        if typed is None:
            return query
        day: dt.date = typed[0].date()
        return query.filter(
            CommissionRule.valid_from <= day,
            or_(CommissionRule.valid_to.is_(None), CommissionRule.valid_to >= day),
        )


class RuleFilterConverter(LocalDateFilterConverter):
    def convert(self, col_name: str) -> Any:
        filters = super().convert(col_name)
        if col_name == "valid_from":
            # Appended: the date filters keep their positions in list URLs.
            return [*filters, ActiveOnFilter(col_name, self.datamodel)]
        return filters


class RuleListInterface(ListInterface):
    filter_converter_class = RuleFilterConverter


LABELS: dict[str, Any] = {
    "company": _("Insurer"),
    "line_of_business": _("Line of business"),
    "product": _("Product"),
    "policy": _("Contract"),
    "policy_id": _("Contract"),
    "basis": _("Basis"),
    "first_year_rate": _("First-year rate (%)"),
    "later_years_rate": _("Later years' rate (%)"),
    "fixed_amount": _("Fixed amount"),
    "due": _("Due"),
    "valid_from": _("Valid from"),
    "valid_to": _("Valid to"),
    "clawback_first_year": _("Claw-back, first year (%)"),
    "clawback_second_year": _("Claw-back, second year (%)"),
    "note": _("Note"),
    "created_at": _("Created on"),
    "updated_at": _("Updated on"),
}


def _rate_field(label: Any) -> LocalizedDecimalField:
    return LocalizedDecimalField(label, [Optional()], places=2)


class CommissionRuleView(OrganisationModelView):
    route_base = "/commissionrules"
    class_permission_name = permissions.COMMISSION
    method_permission_name = permissions.SCREEN_METHODS
    # Ended, never deleted: the expected commissions keep naming their rule.
    include_route_methods = {"list", "show", "add", "edit"}
    datamodel = RuleListInterface(CommissionRule, eager=("company", "policy"))
    list_title = _("Commission rules")
    show_title = _("Commission rule")
    add_title = _("New commission rule")
    edit_title = _("Edit commission rule")

    list_columns = [
        "company",
        "line_of_business",
        "product",
        "policy",
        "first_year_rate",
        "later_years_rate",
        "fixed_amount",
        "due",
        "valid_from",
        "valid_to",
    ]
    show_columns = [
        "company",
        "line_of_business",
        "product",
        "policy",
        "basis",
        "first_year_rate",
        "later_years_rate",
        "fixed_amount",
        "due",
        "valid_from",
        "valid_to",
        "clawback_first_year",
        "clawback_second_year",
        "note",
    ]
    add_columns = [
        "company",
        "line_of_business",
        "product",
        "policy_id",
        "basis",
        "first_year_rate",
        "later_years_rate",
        "fixed_amount",
        "due",
        "valid_from",
        "valid_to",
        "clawback_first_year",
        "clawback_second_year",
        "note",
    ]
    edit_columns = add_columns
    search_columns = ["company", "line_of_business", "valid_from"]
    order_columns = ["valid_from", "valid_to"]
    base_order = ("valid_from", "desc")
    label_columns = LABELS
    description_columns = {
        "line_of_business": _("Empty: every line of business of the insurer."),
        "product": _("Empty: every product; else the contracts' product name."),
        "policy_id": _("A contract this rule overrides every other rule for."),
        "first_year_rate": _("On notices whose period starts in the contract's first year."),
        "valid_to": _("A rule is never deleted: end it here and add the new one."),
        "clawback_first_year": _(
            "Share of the commission taken back when the contract ends in its first year."
        ),
        "clawback_second_year": _("Share taken back when the contract ends in its second year."),
    }
    formatters_columns = {
        "line_of_business": lambda value: (
            enum_formatter(LineOfBusiness)(value) if value else str(_("All"))
        ),
        "basis": enum_formatter(CommissionBasis),
        "due": enum_formatter(CommissionDue),
        "policy": contract_link,
        "fixed_amount": money_text,
        **dict.fromkeys(RATES, percent_text),
    }
    add_form_extra_fields = {
        "line_of_business": EnumSelectField(
            _("Line of business"), [Optional()], enum_class=LineOfBusiness
        ),
        "product": StringField(_("Product"), [Optional(), Length(max=100)]),
        "policy_id": LookupSelectField(_("Contract"), [Optional()], kind="policy"),
        "basis": EnumSelectField(_("Basis"), [InputRequired()], enum_class=CommissionBasis),
        "first_year_rate": _rate_field(_("First-year rate (%)")),
        "later_years_rate": _rate_field(_("Later years' rate (%)")),
        "fixed_amount": _rate_field(_("Fixed amount")),
        "due": EnumSelectField(_("Due"), [InputRequired()], enum_class=CommissionDue),
        "valid_from": LocalizedDateField(_("Valid from"), [InputRequired()]),
        "valid_to": LocalizedDateField(_("Valid to"), [Optional()]),
        "clawback_first_year": _rate_field(_("Claw-back, first year (%)")),
        "clawback_second_year": _rate_field(_("Claw-back, second year (%)")),
        "note": TextAreaField(_("Note"), [Optional()]),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "line_of_business": EnumSelectField(_("Line of business"), enum_class=LineOfBusiness),
    }

    def pre_add(self, item: CommissionRule) -> None:
        self._checked(item, super().pre_add)

    def pre_update(self, item: CommissionRule) -> None:
        self._checked(item, super().pre_update)

    def _checked(self, item: CommissionRule, checks: Any) -> None:
        # The API's checks, every field error reported at once.
        errors: dict[str, str] = {}
        for step in (checks, lambda rule: check_rule(self.datamodel.session, rule)):
            try:
                step(item)
            except ModelValidationError as error:
                errors.update(error.errors)
        if errors:
            raise ModelValidationError(errors)

    def post_add(self, item: CommissionRule) -> None:
        self._recompute(item)

    def post_update(self, item: CommissionRule) -> None:
        self._recompute(item)

    def _recompute(self, item: CommissionRule) -> None:
        # After the rule's own commit, as the API does: the rule stands even if this
        # fails, and the daily premium run catches the expectations up.
        session = self.datamodel.session
        try:
            rule_saved(session, item)
            session.commit()
        except Exception:
            session.rollback()
            raise
