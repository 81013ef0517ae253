"""A recorded cancellation as plain data: what the acknowledgement letter states.

The dates and the article are those the rules gave when it was recorded
(app/services/renewals/cancellations.py); the words of the ground and the reason
are in the template's language.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import has_app_context
from flask_babel import force_locale

from app.models import Cancellation
from app.services.rendering.instalments import add_months
from app.services.renewals.facts import BASIS, Ground, Reason
from app.services.renewals.reasons import ground_label, reason_text

REASON_KEYS = frozenset(str(reason) for reason in Reason)


def _words(ground: str, reason: str, locale: str) -> tuple[str, str | None]:
    def both() -> tuple[str, str | None]:
        # The insurer's non-payment cancellation has a reason of its own (not a Reason key).
        text = reason_text(reason) if reason in REASON_KEYS else None
        return ground_label(ground), text

    if not has_app_context():
        return both()
    with force_locale(locale):
        return both()


def cancellation_data(
    *,
    ground: str,
    requested_on: dt.date,
    received_on: dt.date,
    effective_on: dt.date,
    basis: str,
    reason: str,
    note: str | None,
    locale: str,
) -> dict[str, Any]:
    label, text = _words(ground, reason, locale)
    return {
        "ground": ground,
        "ground_label": label,
        "basis": basis,
        "reason": reason,
        "reason_text": text,
        "requested_on": requested_on,
        "received_on": received_on,
        "effective_on": effective_on,
        "note": note,
    }


def cancellation_context(cancellation: Cancellation | None, locale: str) -> dict[str, Any] | None:
    """The contract's cancellation, or None when none is recorded."""
    if cancellation is None:
        return None
    return cancellation_data(
        ground=cancellation.ground,
        requested_on=cancellation.requested_on,
        received_on=cancellation.received_on,
        effective_on=cancellation.effective_on,
        basis=cancellation.basis,
        reason=cancellation.reason,
        note=cancellation.note,
        locale=locale,
    )


def sample_cancellation(today: dt.date, locale: str) -> dict[str, Any]:
    """A Hamon request received today, for previews: effective one month later."""
    return cancellation_data(
        ground=str(Ground.hamon),
        requested_on=today - dt.timedelta(days=2),
        received_on=today,
        effective_on=add_months(today, 1),
        basis=BASIS[Ground.hamon],
        reason=str(Reason.after_first_year),
        note=None,
        locale=locale,
    )
