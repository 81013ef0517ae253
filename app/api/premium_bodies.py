"""The JSON bodies of the premium doors (app/api/premium_notices.py, app/api/payments.py).

Amounts are decimal strings with two decimals, as ``premium`` on the policy resource
(app/api/schemas.DecimalString): never floats. Their sign and size are the services'
rules (app/services/premiums/payments.money: above 0, to the cent), so a refusal reads
the same from every door.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.bodies import Id
from app.api.schemas import DecimalString
from app.models import Collection, NoticeKind, PaymentMethod

MANUAL_KINDS = [NoticeKind.one_off.value, NoticeKind.adjustment.value, NoticeKind.refund.value]


def money(**kwargs: object) -> DecimalString:
    return DecimalString(precision=12, scale=2, **kwargs)  # type: ignore[arg-type]


class NoticeCreateSchema(Schema):
    policy_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(MANUAL_KINDS))
    due_on = fields.Date(required=True)
    amount = money(
        required=True,
        metadata={"description": "Taxes included, above 0; a refund's amount too (stored < 0)"},
    )
    fees = money(allow_none=True, metadata={"description": "Broker's fees on top (default 0)"})
    period_start = fields.Date(
        allow_none=True, metadata={"description": "Default: the term covering due_on"}
    )
    period_end = fields.Date(allow_none=True)
    collection = fields.String(
        validate=validate.OneOf([c.value for c in Collection]),
        metadata={"description": "Who collects: broker (default) or insurer"},
    )


class IssueSchema(Schema):
    until = fields.Date(required=True, metadata={"description": "Issue what falls due by then"})
    policy_id = Id(
        allow_none=True,
        metadata={"description": "Only this contract, every instalment due by `until`"},
    )


class IssuedSchema(Schema):
    issued = fields.Integer(metadata={"description": "How many notices were issued"})


class FormalNoticeSchema(Schema):
    sent_on = fields.Date(required=True, metadata={"description": "The letter's sending date"})
    registered_letter_number = fields.String(required=True, validate=validate.Length(min=1, max=40))


class AllocationBodySchema(Schema):
    premium_notice_id = Id(required=True)
    amount = money(required=True)


class AllocationsSchema(Schema):
    allocations = fields.List(
        fields.Nested(AllocationBodySchema),
        required=True,
        validate=validate.Length(min=1, max=100),
    )


class PaymentCreateSchema(Schema):
    amount = money(required=True, metadata={"description": "Above 0, to the cent"})
    received_on = fields.Date(required=True, metadata={"description": "Not in the future"})
    method = fields.String(required=True, validate=validate.OneOf([m.value for m in PaymentMethod]))
    reference = fields.String(allow_none=True, validate=validate.Length(max=100))
    payer = fields.String(allow_none=True, validate=validate.Length(max=200))
    client_id = Id(
        allow_none=True,
        metadata={"description": "Default: the client of the first notice it pays"},
    )
    allocations = fields.List(
        fields.Nested(AllocationBodySchema),
        validate=validate.Length(max=100),
        metadata={"description": "Optional; what is not allocated stays as the client's credit"},
    )


class RejectSchema(Schema):
    reason_code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"description": "The bank's reason, e.g. SEPA AM04"},
    )
    rejected_on = fields.Date(
        allow_none=True, metadata={"description": "Default: today; not before the receipt"}
    )


# --- the contract's account (GET /api/v1/policy/<id>/account) -----------------------


class AccountNoticeSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    instalment = fields.Integer(allow_none=True)
    period_start = fields.Date()
    period_end = fields.Date()
    due_on = fields.Date()
    total = money()
    paid_amount = money()
    balance = money()
    status = fields.String()
    stage = fields.String()


class AccountPaymentSchema(Schema):
    id = fields.Integer()
    received_on = fields.Date()
    amount = money()
    method = fields.String()
    reference = fields.String(allow_none=True)
    status = fields.String()
    allocated_amount = money()
    unallocated = money()


class AccountAllocationSchema(Schema):
    id = fields.Integer()
    payment_id = fields.Integer()
    premium_notice_id = fields.Integer()
    amount = money()
    counts = fields.Boolean(metadata={"description": "False once its payment was rejected"})


class AccountSchema(Schema):
    policy_id = fields.Integer()
    currency = fields.String()
    notices = fields.List(fields.Nested(AccountNoticeSchema))
    payments = fields.List(fields.Nested(AccountPaymentSchema))
    allocations = fields.List(fields.Nested(AccountAllocationSchema))
    total_due = money(metadata={"description": "The live notices' totals"})
    total_paid = money()
    balance = money(metadata={"description": "What the client still owes (refunds deducted)"})
    credit = money(metadata={"description": "Received and not allocated: the client's credit"})
