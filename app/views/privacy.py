"""The client page's RGPD actions: "Exporter les données (RGPD)" and "Anonymiser".

A mixin of ClientView (app/views/portfolio.py). Both need ``can_privacy`` on Client
(MANAGER and above, docs/permissions.md) and call the same services as the API
(app/services/privacy); a refusal (legal holds, already erased) is flashed.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_appbuilder.actions import action
from flask_babel import lazy_gettext as _
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app import permissions
from app.extensions import db
from app.services.errors import DomainError
from app.services.privacy.erase import erase_client
from app.services.privacy.export import start_data_export
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user

PRIVACY_ACTIONS = {
    "export_personal_data": permissions.PRIVACY,
    "erase_personal_data": permissions.PRIVACY,
}


def _refused(error: DomainError) -> str:
    return " ".join([error.message, *(str(text) for text in error.errors.values())])


def _one(items: list[Any]) -> Any | None:
    # Our views hand actions the scoped rows, a list even from the show page
    # (app/views/base.py): another agency's id gives an empty one.
    return items[0] if len(items) == 1 else None


class ClientPrivacyActions:
    """The two actions, on one client at a time (its page)."""

    get_redirect: Any

    @action(
        "export_personal_data",
        _("Export data (RGPD)"),
        "",
        "fa-download",
        multiple=False,
        single=True,
    )
    def export_personal_data(self, items: list[Any]) -> Response:
        item = _one(items)
        if item is None:
            flash(_("Choose one client."), "warning")
            return redirect(self.get_redirect())
        session = db.session
        try:
            job = start_data_export(session, current_user(), item)
        except DomainError as error:
            session.rollback()
            flash(_refused(error), "warning")
            return redirect(self.get_redirect())
        except SQLAlchemyError:
            session.rollback()
            flash(_("The database is unavailable, try again later."), "danger")
            return redirect(self.get_redirect())
        flash(_("Data export started: the ZIP is being prepared."), "info")
        return redirect(url_for("JobView.show", pk=job.id))

    @action(
        "erase_personal_data",
        _("Anonymise"),
        _("Erase this client’s personal data? Amounts and dates are kept. This cannot be undone."),
        "fa-user-secret",
        multiple=False,
        single=True,
    )
    def erase_personal_data(self, items: list[Any]) -> Response:
        item = _one(items)
        if item is None:
            flash(_("Choose one client."), "warning")
            return redirect(self.get_redirect())
        session = db.session
        try:
            erase_client(session, item, today=agency_today(session, item.organisation_id))
            session.commit()
        except DomainError as error:
            session.rollback()
            flash(_refused(error), "warning")
            return redirect(self.get_redirect())
        except SQLAlchemyError:
            session.rollback()
            flash(_("The database is unavailable, try again later."), "danger")
            return redirect(self.get_redirect())
        flash(_("The client’s personal data were erased."), "success")
        return redirect(self.get_redirect())
