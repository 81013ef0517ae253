"""Organisations (agencies): the platform operator's screen.

Only SUPERADMIN holds its permissions (roles.py grants it to no other role); the
base filter would still show anyone else only their own organisation. The same
checks as /api/v1/organisation/ (app.services.organisations): names unique
whatever their case, 8-digit ORIAS numbers, no delete while users or data remain.
"""

from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _
from sqlalchemy.exc import IntegrityError
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app import permissions
from app.models import Organisation, ReminderChannel
from app.models.base import ModelValidationError
from app.models.organisation import MIN_ACCOUNTING_YEARS, ORIAS_PATTERN, RETENTION_FIELDS
from app.services.organisations import (
    LETTERHEAD_FIELDS,
    NAME_MAX_LENGTH,
    ORGANISATION_SELF_FILTERS,
    PREMIUM_SETTINGS_FIELDS,
    SEPA_CREDITOR_FIELDS,
    add_organisation,
    check_organisation,
    prepare_deletion,
)
from app.services.timezones import DEFAULT_TIMEZONE, timezone_names
from app.views.base import GuardedModelView
from app.views.fields import EnumSelectField
from app.views.labels import column_labels, date_formatter, enum_formatter
from app.views.users import OrganisationUserView

ORIAS_HELP = _("8 digits, from the ORIAS register.")
RETENTION_LABELS = {
    "retention_prospect_years": _("Prospects kept (years after the last contact)"),
    "retention_contract_years": _("Former clients kept (years after the last contract)"),
    "retention_claim_years": _("Claims kept (years after prescription)"),
    "retention_accounting_years": _("Accounting kept (years after the financial year)"),
}
PREMIUM_DAY_LABELS = {
    "premium_issue_days": _("Premium notices issued (days before due)"),
    "reminder_days": _("Premium reminder (days before due)"),
    "relance_days": _("Relance (days after due)"),
}
TIMEZONE_HELP = _("The agency's times (audit log, documents, jobs) are shown in this zone.")


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in timezone_names()]


class OrganisationView(GuardedModelView):
    class_permission_name = permissions.ORGANISATION
    method_permission_name = permissions.SCREEN_METHODS
    datamodel = SQLAInterface(Organisation)
    base_filters = ORGANISATION_SELF_FILTERS
    list_title = _("Agencies")
    show_title = _("Agency")
    add_title = _("New agency")
    edit_title = _("Edit agency")

    list_columns = ["name", "orias_number", "created_at"]
    # The letterhead fields are optional: what the agency's documents print.
    add_columns = ["name", "orias_number", *LETTERHEAD_FIELDS, "timezone", *SEPA_CREDITOR_FIELDS]
    # The premium settings keep their defaults on creation (30, 15, 5 days, e-mail).
    # RGPD retention periods (app/services/privacy/holds.py): defaults on creation too.
    edit_columns = [*add_columns, *PREMIUM_SETTINGS_FIELDS, *RETENTION_FIELDS]
    show_columns = [
        "name",
        "orias_number",
        *LETTERHEAD_FIELDS,
        "timezone",
        *SEPA_CREDITOR_FIELDS,
        *PREMIUM_SETTINGS_FIELDS,
        *RETENTION_FIELDS,
        "created_at",
        "updated_at",
    ]
    search_columns = ["name", "orias_number"]
    order_columns = ["name", "orias_number", "created_at"]
    base_order = ("name", "asc")
    label_columns = {
        **column_labels("name", "orias_number", "address", "postal_code", "city", "phone"),
        **column_labels("email", "created_at", "updated_at"),
        "complaints_contact": _("Complaints contact"),
        "mediator": _("Mediator"),
        "timezone": _("Time zone"),
        "sepa_creditor_identifier": _("SEPA creditor identifier (ICS)"),
        "sepa_creditor_iban": _("IBAN credited by direct debits"),
        "sepa_creditor_bic": _("BIC credited by direct debits"),
        **PREMIUM_DAY_LABELS,
        **RETENTION_LABELS,
        "reminder_channel": _("Reminders and relances sent by"),
    }
    description_columns = {
        "orias_number": ORIAS_HELP,
        "complaints_contact": _(
            "Where clients send a complaint (service, address, e-mail), printed on the DER."
        ),
        "mediator": _("The consumer mediator clients may turn to, with its address."),
        "timezone": TIMEZONE_HELP,
        "sepa_creditor_identifier": _(
            "Given by the agency's bank to debit its clients (e.g. FR72ZZZ123456)."
        ),
        "retention_contract_years": _(
            "Then the purge anonymises the client (CNIL: 5 years after the contract's end)."
        ),
        "retention_accounting_years": _(
            "Then the purge deletes the premium notices and payments of erased clients and "
            "ended contracts (Code de commerce L123-22: 10 years at least)."
        ),
    }
    # Our own fields instead of FAB's, whose Unique validator only says "Already exists.".
    add_form_extra_fields = {
        "name": StringField(_("Name"), [InputRequired(), Length(max=NAME_MAX_LENGTH)]),
        "orias_number": StringField(
            _("ORIAS number"),
            [InputRequired(), Regexp(ORIAS_PATTERN, message=_("An ORIAS number has 8 digits."))],
            description=ORIAS_HELP,
        ),
        # DataRequired, not InputRequired: a form posted without it keeps the default.
        "timezone": SelectField(
            _("Time zone"),
            [DataRequired()],
            choices=_timezone_choices,
            default=DEFAULT_TIMEZONE,
            description=TIMEZONE_HELP,
            widget=Select2Widget(),
        ),
    }
    # Optional: a form posted without them keeps the stored values (blank: the defaults).
    edit_form_extra_fields = {
        **add_form_extra_fields,
        **{
            name: IntegerField(label, [Optional(), NumberRange(min=0, max=366)])
            for name, label in PREMIUM_DAY_LABELS.items()
        },
        **{
            name: IntegerField(
                label,
                [
                    Optional(),
                    NumberRange(
                        min=MIN_ACCOUNTING_YEARS if name == "retention_accounting_years" else 0,
                        max=100,
                    ),
                ],
            )
            for name, label in RETENTION_LABELS.items()
        },
        "reminder_channel": EnumSelectField(
            _("Reminders and relances sent by"),
            [Optional()],
            enum_class=ReminderChannel,
            description=_(
                "E-mail: the daily run e-mails them to clients with an address. Letter: "
                "send them from the Impayés work list."
            ),
        ),
    }
    formatters_columns = {
        "created_at": date_formatter,
        "updated_at": date_formatter,
        "reminder_channel": enum_formatter(ReminderChannel),
    }
    # The users of the organisation, under its page (scoped like the users screen).
    related_views = [OrganisationUserView]
    # Two saves racing past check_unique: the constraint decides (PostgreSQL names, SQLite columns).
    unique_constraints = {
        "orias_number": (
            "orias_number",
            _("An agency with this ORIAS number already exists."),
        ),
        "organisation_name_key": ("name", _("An agency with this name already exists.")),
        "organisation.name": ("name", _("An agency with this name already exists.")),
    }

    def check_unique(self, item: Organisation) -> None:
        check_organisation(self.datamodel.session, item)

    def pre_add(self, item: Organisation) -> None:
        super().pre_add(item)
        # The new agency gets its default task categories and rules in the same commit.
        try:
            add_organisation(self.datamodel.session, item)
        except IntegrityError as error:  # two saves raced past the check: say which field
            raise ModelValidationError(self._integrity_errors(error)) from None

    def pre_delete(self, item: Organisation) -> None:
        prepare_deletion(self.datamodel.session, item)
