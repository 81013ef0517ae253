"""Screen labels: field names, enum values and money, translated at render time.

English msgids, French in app/translations. Labels are lazy so one view class
serves every language: the string is looked up when the page is rendered.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _
from wtforms.fields.choices import SelectChoice

from app.services.vocabulary import ENUM_LABELS, enum_label  # noqa: F401 (views import them from here)
from app.views.dates import format_when

# One label per column name, shared by every view that shows the column.
COLUMN_LABELS: dict[str, Any] = {
    "id": _("Id"),
    "name": _("Name"),
    "code": _("Code"),
    "contact_name": _("Contact"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "kind": _("Kind"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "company_name": _("Company name"),
    "siren": _("SIREN"),
    "address": _("Address"),
    "postal_code": _("Postal code"),
    "city": _("City"),
    "birth_date": _("Birth date"),
    "notes": _("Notes"),
    "number": _("Policy number"),
    "client": _("Client"),
    "client_id": _("Client"),
    "company": _("Insurer"),
    "company_id": _("Insurer"),
    "line_of_business": _("Line of business"),
    "status": _("Status"),
    "effective_date": _("Effective date"),
    "expiry_date": _("Expiry date"),
    # The annual premium, taxes included (the documents split it by the payment frequency).
    "premium": _("Annual premium incl. tax"),
    "currency": _("Currency"),
    "payment_frequency": _("Payment frequency"),
    "renewal_of": _("Renewal of"),
    "renewal_of_id": _("Renewal of"),
    "orias_number": _("ORIAS number"),
    "organisation": _("Organisation"),
    # What the cancellation rules read (app/models/policy.py).
    "echeance_day": _("Échéance: day"),
    "echeance_month": _("Échéance: month"),
    "tacit_renewal": _("Tacit renewal"),
    "notice_months": _("Notice period (months)"),
    "use": _("Use"),
    "borrower": _("Loan insurance"),
    "group_contract": _("Group contract"),
    # Renewal cycles (the Échéances screen) and terms.
    "policy": _("Contract"),
    "insurer": _("Insurer"),
    "echeance": _("Échéance"),
    "last_day_to_refuse": _("Last day to refuse"),
    "avis_sent_on": _("Avis sent on"),
    "avis_channel": _("Sent by"),
    "chatel_window_end": _("Chatel window ends"),
    "previous_premium": _("Previous premium"),
    "proposed_premium": _("Proposed premium"),
    "change_percent": _("Premium change"),
    "decision": _("Decision"),
    "decision_reason": _("Reason"),
    "avis_late": _("Alert"),
    "due_within": _("Days before the échéance"),
    "avis_sent": _("Avis sent"),
    "start_date": _("Start"),
    "end_date": _("End"),
    "sequence": _("Term"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
    "erased_at": _("Personal data erased on"),
    # The claim a message was sent from (its history entry names it).
    "claim_id": _("Claim"),
}


def column_labels(*names: str) -> dict[str, Any]:
    """The labels of these columns (every one must have a label: a missing one is a bug)."""
    return {name: COLUMN_LABELS[name] for name in names}


def enum_choices(
    enum_class: type[enum.Enum], members: Iterable[enum.Enum] | None = None
) -> list[SelectChoice]:
    """One option per member (value, lazy label), in declaration order (or ``members``')."""
    chosen = enum_class if members is None else members
    return [SelectChoice(member.value, ENUM_LABELS[enum_class][member]) for member in chosen]


def enum_formatter(enum_class: type[enum.Enum]) -> Callable[[Any], str]:
    # FAB hands list/show formatters the enum's .value, not the member.
    return lambda value: enum_label(value, enum_class)


class Money:
    """An amount with its currency, for list and show cells."""

    __slots__ = ("amount", "currency")

    def __init__(self, amount: Decimal | None, currency: str | None) -> None:
        self.amount = amount
        self.currency = currency or "EUR"

    def format(self) -> str:
        if self.amount is None:
            return ""
        return format_currency(self.amount, self.currency, locale=str(get_locale() or "fr"))

    def __str__(self) -> str:
        return self.format()


def money_text(amount: Decimal | None, currency: str | None = None) -> str:
    """An amount in the reader's style, for templates ("420,50 €")."""
    return Money(amount, currency).format()


def percent_change(value: Decimal | None) -> str:
    """A signed change in percent, in the reader's style ("+4,50 %")."""
    if value is None:
        return ""
    text = format_decimal(value, "+0.00;-0.00", locale=str(get_locale() or "fr"))
    return f"{text} %"


def money_formatter(value: Any) -> str:
    if isinstance(value, Money):
        return value.format()
    return "" if value is None else str(value)


def date_formatter(value: Any) -> str:
    """A date or datetime as the reader writes it (app/views/dates.py): 31/12/2026 14:05
    in French, 31 Dec 2026 14:05 in English, in the organisation's time zone."""
    return format_when(value)


def yes_no(value: Any) -> str:
    """A boolean cell in words ("Oui"/"Non"), not Python's True/False."""
    return str(_("Yes") if value else _("No"))
