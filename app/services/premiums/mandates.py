"""What a mandate's dates may be, against the agency's calendar.

The model checks what needs no clock (a valid IBAN and BIC, a revoked mandate's date);
this adds what does: a mandate is signed, and revoked, today or earlier, in the
agency's time zone.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Mandate
from app.models.base import ModelValidationError
from app.services.renewals.contracts import agency_today


def check_mandate_dates(session: Session, mandate: Mandate) -> None:
    today = agency_today(session, mandate.organisation_id)
    errors = {}
    if mandate.signed_on is not None and mandate.signed_on > today:
        errors["signed_on"] = _("Enter the signature date: today or an earlier day.")
    if mandate.revoked_on is not None and mandate.revoked_on > today:
        errors["revoked_on"] = _("Enter the revocation date: today or an earlier day.")
    if errors:
        raise ModelValidationError(errors)
