"""What the Comptabilité screens share: labels, cells, and their filters on the contract.

The notices' insurer is the contract's: "insurer" is a virtual filter column (a
condition on the notice's policy), offered as a FAB filter so the list and its URLs
(``_flt_0_insurer=<id>``) read it like any other column.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_appbuilder.models.filters import BaseFilter, Filters
from flask_babel import lazy_gettext as _
from markupsafe import Markup
from sqlalchemy import false, select
from sqlalchemy.orm import Query

from app.models import Policy
from app.views.date_filters import LocalDateFilterConverter
from app.views.fields import parse_id
from app.views.interface import ListInterface
from app.views.labels import COLUMN_LABELS, Money

PREMIUM_LABELS: dict[str, Any] = {
    "number": _("Number"),
    "policy": _("Contract"),
    "client": _("Client"),
    "insurer": _("Insurer"),
    "kind": _("Kind"),
    "instalment": _("Instalment"),
    "period_start": _("Period from"),
    "period_end": _("Period to"),
    "due_on": _("Due on"),
    "pay_by": _("Last day to pay"),
    "amount_before_tax": _("Before tax"),
    "taxes": _("Taxes"),
    "fees": _("Fees"),
    "total": _("Total"),
    "paid_amount": _("Paid"),
    "balance": _("Left to pay"),
    "collection": _("Collected"),
    "status": _("Status"),
    "stage": _("Unpaid stage"),
    "issued_on": _("Issued on"),
    "reminded_on": _("Reminded on"),
    "relanced_on": _("Relance sent on"),
    "formal_notice_sent_on": _("Formal notice sent on"),
    "registered_letter_number": _("Registered letter number"),
    "suspension_on": _("Cover suspended from"),
    "cancellable_on": _("Cancellable from"),
    "restored_at": _("Cover restored at"),
    "cancelled_on": _("Cancelled on"),
    # Payments.
    "payer": _("Payer"),
    "amount": _("Amount"),
    "received_on": _("Received on"),
    "method": _("Method"),
    "reference": _("Reference"),
    "allocated_amount": _("Allocated"),
    "unallocated": _("Not allocated"),
    "rejected_on": _("Rejected on"),
    "rejection_reason": _("Rejection reason"),
    "note": _("Note"),
    # Mandates.
    "masked_iban": _("IBAN"),
    "iban": _("IBAN"),
    "bic": _("BIC"),
    "debtor_name": _("Account holder"),
    "signed_on": _("Signed on"),
    "sequence": _("Next debit"),
    "revoked_on": _("Revoked on"),
    "client_id": _("Client"),
    "created_at": COLUMN_LABELS["created_at"],
    "updated_at": COLUMN_LABELS["updated_at"],
}


def labels(*names: str) -> dict[str, Any]:
    return {name: PREMIUM_LABELS[name] for name in names}


def money_of(amount_column: str) -> Any:
    """A computed cell: the row's amount with its currency."""
    return lambda row: Money(getattr(row, amount_column), row.currency)


def contract_link(policy: Any) -> Any:
    if policy is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(
        url_for("PolicyView.show", pk=policy.id), policy.number
    )


def client_link(client: Any) -> Any:
    if client is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("ClientView.show", pk=client.id), client)


def notice_link(notice: Any) -> Any:
    if notice is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(
        url_for("PremiumNoticeView.show", pk=notice.id), notice.number
    )


class InsurerFilter(BaseFilter):
    """The rows (notices, claims) of the contracts of one insurer (no ``arg_name``:
    screens only)."""

    name = _("Equal to")

    def apply(self, query: Query, value: Any) -> Query:
        company_id = parse_id(value)
        if company_id is None:
            return query.filter(false())
        policy_id = self.datamodel.obj.policy_id
        return query.filter(policy_id.in_(select(Policy.id).where(Policy.company_id == company_id)))


VIRTUAL_FILTERS: dict[str, list[type[BaseFilter]]] = {"insurer": [InsurerFilter]}


class NoticeFilterConverter(LocalDateFilterConverter):
    def convert(self, col_name: str) -> Any:
        extra = VIRTUAL_FILTERS.get(col_name)
        if extra is not None:
            return [filter_class(col_name, self.datamodel) for filter_class in extra]
        return super().convert(col_name)


class NoticeFilters(Filters):
    """FAB's filters, with the virtual columns readable from ``_flt_<n>_<column>`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        converter = self.filter_converter(self.datamodel)
        self._all_filters = {
            **self._all_filters,
            **{name: converter.convert(name) for name in VIRTUAL_FILTERS},
        }


class NoticeListInterface(ListInterface):
    filter_converter_class = NoticeFilterConverter

    def get_filters(
        self, search_columns: list[str] | None = None, search_filters: Any = None
    ) -> Filters:
        return NoticeFilters(
            self.filter_converter_class,
            self,
            search_columns=search_columns,
            search_filters=search_filters,
        )
