"""The complaints' legal deadlines, as pure functions (no Flask, no database).

ACPR recommendation 2022-R-01 (traitement des réclamations), §3: a complaint is
acknowledged within 10 jours ouvrables of its receipt (unless answered within them),
and answered within 2 months of its receipt. Jours ouvrables are Monday to Saturday,
less the French public holidays (the ``holidays`` package): the ACPR's own words are
"dans les dix jours ouvrables", not "jours ouvrés" (Monday to Friday, which the claims'
L113-2 delay uses), see app/services/working_days.py. The day of receipt does not
count. A 10th day falling on a Saturday stays the deadline: the earlier date is the
safe one for the agency (no prorogation as for court delays, CPC art. 642). Two months
run from the day of receipt to the same day two months on, or to the last day of that
month when it has no such day (31 December -> 28 or 29 February), as the Code civil
counts months (art. 641).
"""

from __future__ import annotations

import datetime as dt

from app.services.renewals.rules import add_months
from app.services.working_days import add_ouvrable_days

ACKNOWLEDGEMENT_OUVRABLE_DAYS = 10
ANSWER_MONTHS = 2


def acknowledgement_due(received_on: dt.date) -> dt.date:
    return add_ouvrable_days(received_on, ACKNOWLEDGEMENT_OUVRABLE_DAYS)


def answer_due(received_on: dt.date) -> dt.date:
    return add_months(received_on, ANSWER_MONTHS)


def met(done_on: dt.date | None, due_on: dt.date) -> bool | None:
    """Whether a deadline was kept: None while nothing has been done."""
    return None if done_on is None else done_on <= due_on
