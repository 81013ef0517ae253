"""The JSON bodies of the claim doors (app/api/claims.py).

Dates are ISO dates; amounts are decimal strings (app/api/schemas.DecimalString), never
floats. The rules between fields (a loss known after it occurred, nothing in the
future, a liability share of 0, 50 or 100) are the service's, so that a refusal reads
the same from every door (app/services/claims/lifecycle.py).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.bodies import Id, StrictBoolean
from app.api.schemas import DecimalString
from app.models import ClaimNature, ClaimStatus, CloseReason, SettlementKind


def _money(**kwargs: object) -> DecimalString:
    return DecimalString(precision=12, scale=2, allow_none=True, **kwargs)  # type: ignore[arg-type]


class ClaimFieldsSchema(Schema):
    """What a claim says: created with it, corrected with ``PUT``."""

    nature = fields.String(validate=validate.OneOf([n.value for n in ClaimNature]))
    occurred_on = fields.Date(metadata={"description": "The day of the loss, not in the future"})
    known_on = fields.Date(
        allow_none=True,
        metadata={
            "description": "The day the client knew of it (default: occurred_on); for a "
            "catastrophe naturelle, the day the arrêté was published"
        },
    )
    client_declared_on = fields.Date(
        allow_none=True, metadata={"description": "The client's declaration, measured (L113-2)"}
    )
    insurer_declared_on = fields.Date(allow_none=True)
    insurer_claim_number = fields.String(allow_none=True, validate=validate.Length(max=60))
    circumstances = fields.String(allow_none=True, validate=validate.Length(max=10000))
    place = fields.String(allow_none=True, validate=validate.Length(max=200))
    third_parties = fields.String(allow_none=True, validate=validate.Length(max=10000))
    liability_share = fields.Integer(
        allow_none=True, strict=True, metadata={"description": "0, 50 or 100 (%)"}
    )
    expert = fields.String(allow_none=True, validate=validate.Length(max=200))
    estimate = _money(metadata={"description": "0 or more, to the cent"})
    excess = _money(metadata={"description": "The franchise, 0 or more"})


class ClaimCreateSchema(ClaimFieldsSchema):
    policy_id = Id(required=True)
    nature = fields.String(required=True, validate=validate.OneOf([n.value for n in ClaimNature]))
    occurred_on = fields.Date(required=True)


class ClaimStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ClaimStatus]))
    reason = fields.String(
        allow_none=True,
        validate=validate.OneOf([r.value for r in CloseReason]),
        metadata={"description": "Required when closing, refused otherwise"},
    )


class SettlementSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in SettlementKind]))
    amount = DecimalString(
        precision=12, scale=2, required=True, metadata={"description": "Above 0, to the cent"}
    )
    paid_on = fields.Date(required=True, metadata={"description": "Not in the future"})
    counterparty = fields.String(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Who pays or receives it"},
    )
    collected_by_broker = StrictBoolean(
        metadata={"description": "The money passed through the broker (default false)"}
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class DocumentAskSchema(Schema):
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DocumentReceivedSchema(Schema):
    received_on = fields.Date(
        allow_none=True, metadata={"description": "Default: today; not in the future"}
    )
