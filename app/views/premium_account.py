"""The contract's account on its page (Compte): notices, payments, and which paid which.

A PolicyView mixin: the block shows for whoever may read premium notices (every staff
role), from the same data as GET /api/v1/policy/<id>/account (app/services/premiums/
accounts.py), with labels and amounts written for the reader.
"""

from __future__ import annotations

from typing import Any

from app import permissions
from app.extensions import db
from app.models import NoticeStatus, PaymentMethod, PaymentStatus, UnpaidStage
from app.services.premiums.accounts import policy_account
from app.views.labels import Money, date_formatter, enum_label
from app.views.premiums import amount_text


class PolicyAccountBlock:
    """PolicyView mixin: the contract's account (notices, payments, allocations, balance)."""

    appbuilder: Any

    def _get_show_widget(self, pk: Any, item: Any, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)  # type: ignore[misc]
        if self.appbuilder.sm.has_access("can_read", permissions.PREMIUM_NOTICE):
            widgets["account"] = account_for_screen(policy_account(db.session, item))
        return widgets

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("account_day", date_formatter)
        kwargs.setdefault("account_money", amount_text)
        return super().render_template(template, **kwargs)  # type: ignore[misc]


def account_for_screen(account: dict[str, Any]) -> dict[str, Any]:
    """The account with the labels the block shows; each allocation names its notice and
    payment (the API gives their ids, the screen their number and date)."""
    currency = account["currency"]
    for notice in account["notices"]:
        notice["status_label"] = enum_label(notice["status"], NoticeStatus)
        notice["stage_label"] = enum_label(notice["stage"], UnpaidStage)
    for payment in account["payments"]:
        payment["method_label"] = enum_label(payment["method"], PaymentMethod)
        payment["status_label"] = enum_label(payment["status"], PaymentStatus)
    notices = {notice["id"]: notice for notice in account["notices"]}
    payments = {payment["id"]: payment for payment in account["payments"]}
    for allocation in account["allocations"]:
        allocation["notice"] = notices[allocation["premium_notice_id"]]
        allocation["payment"] = payments[allocation["payment_id"]]
    account["text"] = {
        key: Money(account[key], currency).format()
        for key in ("total_due", "total_paid", "balance", "credit")
    }
    return account
