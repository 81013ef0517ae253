"""Bodies, answers and list filters of /api/v1/renewal/ (app/api/renewals.py).

The list filters through FAB's ``q`` like every resource; three of its filter columns
are not columns of the cycle: ``company_id`` and ``line_of_business`` are its contract's,
and ``avis_sent`` says whether the avis went out. They filter with a subquery on the
contract (the list joins nothing more, its count stays on the base table) and stay out of
FAB's global table of operator names, which maps "eq" to its own FilterEqual for every
resource.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import Boolean, Column, select
from sqlalchemy.orm import Query

from app.api.bodies import Id
from app.api.schemas import TEXT_MAX_LENGTH, DecimalString
from app.models import NoticeChannel, Policy, RenewalCycle, RenewalDecision, TermStatus
from app.services.renewals.renewing import RENEW_BATCH_MAX

DECISIONS = [decision.value for decision in RenewalDecision]
CHANNELS = [channel.value for channel in NoticeChannel]


# --- bodies ---------------------------------------------------------------------------


class RenewalEditSchema(Schema):
    """PUT: any of the three; what is left out stays as it is."""

    proposed_premium = DecimalString(
        precision=12,
        scale=2,
        metadata={"description": "The coming term's annual premium incl. tax, above 0"},
    )
    decision = fields.String(validate=validate.OneOf(DECISIONS))
    decision_reason = fields.String(
        allow_none=True,
        validate=validate.Length(max=TEXT_MAX_LENGTH),
        metadata={"description": "Why (empty or null clears it)"},
    )


class NoticeSchema(Schema):
    sent_on = fields.Date(
        metadata={"description": "The day the avis is sent (default: the agency's today)"}
    )
    channel = fields.String(
        validate=validate.OneOf(CHANNELS), metadata={"description": "Default: post"}
    )


def _bounded_ids(data: Any, limit: int) -> None:
    ids = data.get("ids") if isinstance(data, dict) else None
    if isinstance(ids, list) and not 1 <= len(ids) <= limit:
        raise ValidationError({"ids": [_("Give between 1 and %(limit)d ids.", limit=limit)]})


class RenewBatchSchema(Schema):
    ids = fields.List(
        Id(),
        required=True,
        metadata={"description": f"1 to {RENEW_BATCH_MAX} renewal ids of your agency"},
    )

    @pre_load
    def _bounded(self, data: Any, **kwargs: Any) -> Any:
        # Checked before marshmallow reads every item of a list that is too long anyway.
        _bounded_ids(data, RENEW_BATCH_MAX)
        return data


class NoticeBatchSchema(NoticeSchema):
    ids = fields.List(
        Id(),
        required=True,
        metadata={"description": "1 to DOCUMENT_BATCH_MAX (default 1000) renewal ids"},
    )

    @pre_load
    def _bounded(self, data: Any, **kwargs: Any) -> Any:
        _bounded_ids(data, int(current_app.config["DOCUMENT_BATCH_MAX"]))
        return data


# --- answers ----------------------------------------------------------------------------


class TermSchema(Schema):
    id = fields.Integer()
    sequence = fields.Integer(metadata={"description": "1 for the contract's first term"})
    start_date = fields.Date()
    end_date = fields.Date()
    premium = DecimalString(precision=12, scale=2)
    status = fields.String(metadata={"enum": [status.value for status in TermStatus]})


class RenewedSchema(Schema):
    id = fields.Integer(metadata={"description": "The renewal (cycle)"})
    policy_id = fields.Integer()
    created = fields.Boolean(metadata={"description": "False: it was renewed before"})
    term = fields.Nested(TermSchema)


class RenewedBatchSchema(Schema):
    count = fields.Integer()
    result = fields.List(fields.Nested(RenewedSchema))


class NoticeAcceptedSchema(Schema):
    id = fields.Integer(metadata={"description": "The renewal (cycle)"})
    avis_sent_on = fields.Date()
    chatel_window_end = fields.Date(
        allow_none=True, metadata={"description": "Set when the avis is late (L113-15-1)"}
    )
    document_id = fields.Integer()
    document_status = fields.String(metadata={"enum": ["queued", "running", "ready", "failed"]})


class NoticeBatchAcceptedSchema(Schema):
    job_id = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    total = fields.Integer(metadata={"description": "How many avis the job makes"})


def describe_renewed(renewed: Any) -> dict[str, Any]:
    """The answer's item for one renewal, to dump with RenewedSchema (once for a batch)."""
    term = renewed.term
    return {
        "id": renewed.cycle.id,
        "policy_id": renewed.cycle.policy_id,
        "created": renewed.created,
        "term": {
            "id": term.id,
            "sequence": term.sequence,
            "start_date": term.start_date,
            "end_date": term.end_date,
            "premium": term.premium,
            "status": term.status.value,
        },
    }


# --- list filters beyond the cycle's own columns ------------------------------------------


class UnregisteredFilter(BaseFilter):
    """A filter of this resource only: kept out of FAB's global operator table."""

    def __init__(self, column_name: str, datamodel: Any, is_related_view: bool = False) -> None:
        # BaseFilter.__init__ would make this class every resource's filter for arg_name.
        self.column_name = column_name
        self.datamodel = datamodel
        self.model = datamodel.obj
        self.is_related_view = is_related_view


class ContractFilter(UnregisteredFilter):
    """Cycles whose contract's column (of the same name) matches, through a subquery."""

    def condition(self, column: Any, value: Any) -> Any:
        raise NotImplementedError

    def apply(self, query: Query, value: Any) -> Query:
        column = getattr(Policy, self.column_name)
        contracts = select(Policy.id).where(self.condition(column, value))
        return query.filter(RenewalCycle.policy_id.in_(contracts))


class ContractEqual(ContractFilter):
    name = lazy_gettext("Equal to")
    arg_name = "eq"

    def condition(self, column: Any, value: Any) -> Any:
        return column == value


class ContractNotEqual(ContractFilter):
    name = lazy_gettext("Not Equal to")
    arg_name = "neq"

    def condition(self, column: Any, value: Any) -> Any:
        return column != value


class ContractIn(ContractFilter):
    name = lazy_gettext("In")
    arg_name = "in"

    def condition(self, column: Any, value: Any) -> Any:
        return column.in_(value)


class AvisSent(UnregisteredFilter):
    name = lazy_gettext("Equal to")
    arg_name = "eq"

    def apply(self, query: Query, value: Any) -> Query:
        sent = RenewalCycle.avis_sent_on
        return query.filter(sent.is_not(None) if value else sent.is_(None))


CONTRACT_FILTERS = [ContractEqual, ContractNotEqual, ContractIn]
# Filter column -> (the column its values are checked against, its filters).
EXTRA_FILTERS: dict[str, tuple[Column, list[type[UnregisteredFilter]]]] = {
    "company_id": (Policy.__table__.c.company_id, CONTRACT_FILTERS),
    "line_of_business": (Policy.__table__.c.line_of_business, CONTRACT_FILTERS),
    "avis_sent": (Column("avis_sent", Boolean()), [AvisSent]),
}
