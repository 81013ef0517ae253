"""/api/v1/organisation/: the agencies, for the platform operator (SUPERADMIN).

Only SUPERADMIN holds this API's permissions (app/services/roles.py). A base
filter still limits any other caller to their own organisation, should a role
be granted read access one day. DELETE is refused (422) while the organisation
has users or data. The letterhead fields (address, phone, e-mail, complaints
contact, mediator) are optional and printed on the agency's documents; the time
zone (``timezone``, an IANA name such as Europe/Paris, the default) is the one
its screens show times in, refused with 422 when unknown. The premium settings
(``premium_issue_days``, ``reminder_days``, ``relance_days``: 0 to 366;
``reminder_channel``: ``email`` or ``letter``) are changed with PUT, as are the
retention periods in years (``retention_accounting_years`` 10 to 100: 422 below the law's
10).
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import json_object
from app.models import Organisation
from app.models.organisation import RETENTION_FIELDS
from app.services.organisations import (
    LETTERHEAD_FIELDS,
    ORGANISATION_SELF_FILTERS,
    PREMIUM_SETTINGS_FIELDS,
    SEPA_CREDITOR_FIELDS,
    add_organisation,
    check_organisation,
    prepare_deletion,
)


class OrganisationApi(OrganisationModelRestApi):
    class_permission_name = permissions.ORGANISATION
    method_permission_name = permissions.API_METHODS
    resource_name = "organisation"
    datamodel = SQLAInterface(Organisation)
    base_filters = ORGANISATION_SELF_FILTERS
    list_columns = ["id", "name", "orias_number", "created_at", "updated_at"]
    # The letterhead (optional) and the time zone (IANA name, Europe/Paris by default)
    # are shown and written one organisation at a time.
    # RGPD retention in years (app/services/privacy/holds.py): prospects 3, former
    # clients 5 after their last contract, claims 0 after their prescription day;
    # accounting 10 after its financial year (L123-22's minimum, app/services/purge/accounting.py).
    show_columns = [
        *list_columns,
        *LETTERHEAD_FIELDS,
        "timezone",
        *SEPA_CREDITOR_FIELDS,
        *PREMIUM_SETTINGS_FIELDS,
        *RETENTION_FIELDS,
    ]
    add_columns = ["name", "orias_number", *LETTERHEAD_FIELDS, "timezone", *SEPA_CREDITOR_FIELDS]
    # The premium settings and retention periods have their defaults on creation.
    edit_columns = [*add_columns, *PREMIUM_SETTINGS_FIELDS, *RETENTION_FIELDS]
    search_columns = ["name", "orias_number"]
    order_columns = ["id", "name", "orias_number", "created_at"]
    base_order = ("name", "asc")

    def post_headless(self) -> Response:
        # The base class gives new rows the caller's organisation: an organisation has none.
        body = json_object()
        session = self.datamodel.session
        with self.transaction():
            item = self.add_model_schema.load(body)
            add_organisation(session, item)
        return self.response(201, id=item.id, result=self.show_model_schema.dump(item))

    def pre_update(self, item: Organisation) -> None:
        check_organisation(self.datamodel.session, item)

    def pre_delete(self, item: Organisation) -> None:
        prepare_deletion(self.datamodel.session, item)

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        text = str(error.orig).lower()
        if "orias" in text:
            return {"orias_number": _("An agency with this ORIAS number already exists.")}
        if "name" in text:
            return {"name": _("An agency with this name already exists.")}
        if "foreign key" in text:
            return _("This agency still has users or data: it cannot be deleted.")
        return super().integrity_message(error)
