"""/api/v1/commission_rule/: the commissions the agency negotiated with its insurers.

A rule is for an insurer, optionally narrowed to a line of business, a product or one
contract (the most specific valid rule applies). Saving a rule recomputes its insurer's
expected commissions. A rule is never deleted (its expected commissions name it): end
it with ``valid_to`` and add the new one. MANAGER and above (resource Commission).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.models import CommissionRule
from app.services.commissions.rule_checks import check_rule, rule_saved

FIELDS = [
    "company_id",
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


class CommissionRuleApi(OrganisationModelRestApi):
    class_permission_name = permissions.COMMISSION
    method_permission_name = permissions.API_METHODS
    resource_name = "commission_rule"
    datamodel = SQLAInterface(CommissionRule)
    include_route_methods = {"get", "get_list", "info", "post", "put"}
    list_columns = ["id", *FIELDS]
    show_columns = ["id", *FIELDS, "created_at", "updated_at"]
    add_columns = FIELDS
    edit_columns = FIELDS
    search_columns = ["company_id", "line_of_business", "product", "policy_id", "valid_from"]
    order_columns = ["id", "company_id", "valid_from"]
    base_order = ("id", "asc")
    description_columns = {
        "company_id": lazy_gettext("The insurer (/api/v1/company/)."),
        "line_of_business": lazy_gettext("Empty: every line of business of the insurer."),
        "product": lazy_gettext("Empty: every product; else the contracts' product name."),
        "policy_id": lazy_gettext("A contract this rule overrides every other rule for."),
        "basis": lazy_gettext("rate (a percentage of the premium before tax) or fixed."),
        "first_year_rate": lazy_gettext(
            "Percentage on notices whose period starts in the contract's first year."
        ),
        "later_years_rate": lazy_gettext("Percentage on later years' notices."),
        "fixed_amount": lazy_gettext("With basis fixed: the commission per notice."),
        "due": lazy_gettext("on_issue (the notice's issue) or on_payment (once it is paid)."),
        "clawback_first_year": lazy_gettext(
            "Percentage of the commission taken back when the contract ends in its first year."
        ),
        "clawback_second_year": lazy_gettext(
            "Percentage taken back when the contract ends in its second year."
        ),
    }

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        # FAB's enum field refuses null even on a nullable column: empty means "every line".
        for schema in (self.add_model_schema, self.edit_model_schema):
            field = schema.fields.get("line_of_business")
            if field is not None:
                field.allow_none = True

    def pre_add(self, item: CommissionRule) -> None:
        check_rule(self.datamodel.session, item)

    def pre_update(self, item: CommissionRule) -> None:
        check_rule(self.datamodel.session, item)

    def post_add(self, item: CommissionRule) -> None:
        self._recompute(item)

    def post_update(self, item: CommissionRule) -> None:
        self._recompute(item)

    def _recompute(self, item: Any) -> None:
        # After the rule's own commit: the rule stands even if this fails, and the daily
        # premium run catches the expectations up.
        with self.transaction():
            rule_saved(self.datamodel.session, item)
