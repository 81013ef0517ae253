"""The agency or broker that owns clients, policies and users."""

from __future__ import annotations

import enum
import re

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _
from sqlalchemy import Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.models.base import ModelValidationError, Timestamped
from app.services.timezones import DEFAULT_TIMEZONE, TIMEZONE_MAX_LENGTH, is_valid_timezone

# ORIAS registration numbers are 8 digits (registre unique des intermédiaires).
DEFAULT_RENEWAL_LEAD_DAYS = 90
RETENTION_DEFAULTS = {
    "retention_prospect_years": 3,
    "retention_contract_years": 5,
    "retention_claim_years": 0,
    "retention_accounting_years": 10,
}
# Code de commerce L123-22: accounting is kept 10 years at least; an agency may keep longer.
MIN_ACCOUNTING_YEARS = 10
RETENTION_FIELDS = tuple(RETENTION_DEFAULTS)
ORIAS_PATTERN = re.compile(r"^[0-9]{8}$")  # ASCII only: \d also matches "８"


class ReminderChannel(enum.Enum):
    """How the agency's premium reminder and relance go out (app/services/mail/reminders.py)."""

    email = "email"  # queued by the daily run to each client with an address
    letter = "letter"  # printed by staff from the Impayés work list; nothing e-mailed


class Organisation(Timestamped, Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    orias_number: Mapped[str] = mapped_column(String(8), unique=True, nullable=False)
    # What the broker's documents print (letterhead, DER): all optional.
    address: Mapped[str | None] = mapped_column(String(250))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    # Where clients send a complaint, and the consumer mediator they may then turn to.
    complaints_contact: Mapped[str | None] = mapped_column(Text)
    mediator: Mapped[str | None] = mapped_column(Text)
    # The IANA zone its people read times in (the database keeps UTC): app/services/timezones.py.
    timezone: Mapped[str] = mapped_column(
        String(TIMEZONE_MAX_LENGTH),
        nullable=False,
        default=DEFAULT_TIMEZONE,
        server_default=DEFAULT_TIMEZONE,
    )

    # E-mail (app/services/mail): the sender address and where answers go. Empty: the
    # agency's own e-mail address, else the deployment's MAIL_DEFAULT_SENDER.
    mail_from: Mapped[str | None] = mapped_column(String(254))
    mail_reply_to: Mapped[str | None] = mapped_column(String(254))

    # SEPA direct debit as creditor (app/services/premiums/debits.py): its identifier (ICS)
    # and the account the debits are paid into. Empty: the agency does not debit.
    sepa_creditor_identifier: Mapped[str | None] = mapped_column(String(35))
    sepa_creditor_iban: Mapped[str | None] = mapped_column(String(34))
    sepa_creditor_bic: Mapped[str | None] = mapped_column(String(11))

    # How many days before an échéance its renewal cycle opens (app/services/renewals/cycles.py).
    renewal_lead_days: Mapped[int] = mapped_column(
        Integer,
        nullable=False,
        default=DEFAULT_RENEWAL_LEAD_DAYS,
        server_default=str(DEFAULT_RENEWAL_LEAD_DAYS),
    )

    # Premium notices: issued this many days before their due date; the reminder before
    # it and the relance after it (the agency's choices; L113-3 deadlines are fixed in law).
    premium_issue_days: Mapped[int] = mapped_column(
        Integer, nullable=False, default=30, server_default="30"
    )
    reminder_days: Mapped[int] = mapped_column(
        Integer, nullable=False, default=15, server_default="15"
    )
    relance_days: Mapped[int] = mapped_column(
        Integer, nullable=False, default=5, server_default="5"
    )
    # E-mail: the daily run sends both by e-mail (a client without an address gets the
    # letter from the work list); letter: staff send them from the work list.
    reminder_channel: Mapped[ReminderChannel] = mapped_column(
        Enum(ReminderChannel, name="reminder_channel", native_enum=False, length=10),
        nullable=False,
        default=ReminderChannel.email,
        server_default=ReminderChannel.email.value,
    )

    # RGPD retention (app/services/privacy/holds.py; defaults: CNIL, ../shared/domain.md):
    # years after the last contact for prospects, after the last contract's end for former
    # clients, after a claim's prescription day; then the purge anonymises the client.
    retention_prospect_years: Mapped[int] = mapped_column(
        Integer, nullable=False, default=3, server_default="3"
    )
    retention_contract_years: Mapped[int] = mapped_column(
        Integer, nullable=False, default=5, server_default="5"
    )
    retention_claim_years: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    # Years after the closing of a financial year (31 December) before the purge deletes
    # its accounting entries (app/services/purge/accounting.py); the law's 10 at least.
    retention_accounting_years: Mapped[int] = mapped_column(
        Integer, nullable=False, default=10, server_default="10"
    )

    @validates(*RETENTION_FIELDS)
    def _check_retention_years(self, key: str, value: int | None) -> int:
        value = RETENTION_DEFAULTS[key] if value is None else int(value)
        if key == "retention_accounting_years" and not MIN_ACCOUNTING_YEARS <= value <= 100:
            raise ModelValidationError(
                {
                    key: str(
                        _(
                            "The law (Code de commerce L123-22) keeps accounting 10 years at "
                            "least: enter a number of years from 10 to 100."
                        )
                    )
                }
            )
        if not 0 <= value <= 100:
            raise ModelValidationError({key: str(_("Enter a number of years from 0 to 100."))})
        return value

    @validates("premium_issue_days", "reminder_days", "relance_days")
    def _check_premium_days(self, key: str, value: int | None) -> int:
        value = (
            {"premium_issue_days": 30, "reminder_days": 15, "relance_days": 5}[key]
            if value is None
            else int(value)
        )
        if not 0 <= value <= 366:
            raise ModelValidationError({key: str(_("Enter a number of days from 0 to 366."))})
        return value

    @validates("reminder_channel")
    def _check_reminder_channel(
        self, _key: str, value: ReminderChannel | str | None
    ) -> ReminderChannel:
        if value is None or value == "":
            return ReminderChannel.email
        try:
            return ReminderChannel(value)
        except ValueError:
            raise ModelValidationError(
                {"reminder_channel": str(_("Choose e-mail or letter."))}
            ) from None

    @validates("renewal_lead_days")
    def _check_lead_days(self, _key: str, value: int | None) -> int:
        value = DEFAULT_RENEWAL_LEAD_DAYS if value is None else int(value)
        if not 1 <= value <= 366:
            raise ModelValidationError(
                {"renewal_lead_days": str(_("Enter a number of days from 1 to 366."))}
            )
        return value

    @validates("orias_number")
    def _check_orias(self, _key: str, value: str) -> str:
        value = (value or "").strip()
        if not ORIAS_PATTERN.match(value):
            raise ModelValidationError({"orias_number": str(_("An ORIAS number has 8 digits."))})
        return value

    @validates("sepa_creditor_identifier", "sepa_creditor_iban", "sepa_creditor_bic")
    def _check_sepa_creditor(self, key: str, value: str | None) -> str | None:
        from app.services.bank_accounts import (
            BankDetailsError,
            valid_bic,
            valid_creditor_identifier,
            valid_iban,
        )

        if not (value or "").strip():
            return None
        check = {
            "sepa_creditor_identifier": valid_creditor_identifier,
            "sepa_creditor_iban": valid_iban,
            "sepa_creditor_bic": valid_bic,
        }[key]
        try:
            return check(value)
        except BankDetailsError:
            message = {
                "sepa_creditor_identifier": _(
                    "This SEPA creditor identifier is not valid (e.g. FR72ZZZ123456)."
                ),
                "sepa_creditor_iban": _(
                    "This IBAN is not valid (its length, country or check digits)."
                ),
                "sepa_creditor_bic": _("This BIC is not valid (8 or 11 letters and digits)."),
            }[key]
            raise ModelValidationError({key: str(message)}) from None

    @validates("timezone")
    def _check_timezone(self, _key: str, value: str | None) -> str:
        value = (value or "").strip()
        if not is_valid_timezone(value):
            raise ModelValidationError(
                {"timezone": str(_("Choose a time zone from the list (e.g. Europe/Paris)."))}
            )
        return value

    def __repr__(self) -> str:
        return self.name
