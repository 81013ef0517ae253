"""How long documents are kept, per template kind (defaults and reasons: docs/operations.md).

- contract: for the life of the policy, then RETENTION_CONTRACT_YEARS_AFTER_EXPIRY years
  after its expiry date (a contract with no policy: that many years after it was made);
- attestation, notice, report, other: RETENTION_<KIND>_DAYS days after it was made;
- a document no template made (a report or list export job's file, template_id NULL):
  the report kind's RETENTION_REPORT_DAYS;
- failed jobs, and failed documents that have no file: FAILED_JOB_RETENTION_DAYS days;
- an attachment file with no row: ATTACHMENT_ORPHAN_GRACE_HOURS hours after it was written
  (an upload still in flight has its file before its row is committed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.sql.elements import ColumnElement

from app.models import Document, Policy, Template, TemplateKind

DAYS_SETTINGS = {
    TemplateKind.attestation: "RETENTION_ATTESTATION_DAYS",
    TemplateKind.notice: "RETENTION_NOTICE_DAYS",
    TemplateKind.report: "RETENTION_REPORT_DAYS",
    TemplateKind.other: "RETENTION_OTHER_DAYS",
    TemplateKind.email: "RETENTION_OTHER_DAYS",  # none is made: e-mail templates make messages
}


@dataclass(frozen=True)
class RetentionRules:
    contract_years: int
    days: Mapping[TemplateKind, int]
    failed_days: int
    attachment_grace_hours: int = 24

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetentionRules:
        rules = cls(
            contract_years=int(config["RETENTION_CONTRACT_YEARS_AFTER_EXPIRY"]),
            days={kind: int(config[name]) for kind, name in DAYS_SETTINGS.items()},
            failed_days=int(config["FAILED_JOB_RETENTION_DAYS"]),
            attachment_grace_hours=int(config.get("ATTACHMENT_ORPHAN_GRACE_HOURS", 24)),
        )
        # A negative period would put the cut-off in the future and delete everything.
        periods = (rules.contract_years, rules.failed_days, rules.attachment_grace_hours)
        if min(*periods, *rules.days.values()) < 0:
            raise ValueError("retention periods cannot be negative")
        return rules

    def attachment_cutoff(self, now: dt.datetime) -> dt.datetime:
        """Attachment files written before this, with no row, are orphans."""
        return now - dt.timedelta(hours=self.attachment_grace_hours)

    def failed_cutoff(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.failed_days)

    def expired(self, now: dt.datetime) -> ColumnElement[bool]:
        """Documents past retention at ``now``; the query outer-joins Template and Policy."""
        contract_made_before = years_before(now, self.contract_years)
        policy_expired_before = years_before(now.date(), self.contract_years)
        by_kind = [
            and_(
                Template.kind == TemplateKind.contract,
                or_(
                    and_(
                        Document.policy_id.is_not(None), Policy.expiry_date < policy_expired_before
                    ),
                    and_(Document.policy_id.is_(None), Document.created_at < contract_made_before),
                ),
            )
        ]
        for kind, days in self.days.items():
            of_kind = Template.kind == kind
            if kind is TemplateKind.report:
                of_kind = or_(of_kind, Document.template_id.is_(None))
            by_kind.append(and_(of_kind, Document.created_at < now - dt.timedelta(days=days)))
        return or_(*by_kind)

    def reason(
        self, kind: TemplateKind | None, created_at: dt.datetime, expiry: dt.date | None
    ) -> str:
        """Why a document is past retention, in words kept in the report and the audit trail.

        ``kind`` None: a document no template made (a report or an export), kept as a report.
        """
        kind = kind or TemplateKind.report
        if kind is TemplateKind.contract and expiry is not None:
            return (
                f"contract of a policy that expired on {expiry.isoformat()}: kept "
                f"{self.contract_years} years after expiry, until "
                f"{years_after(expiry, self.contract_years).isoformat()}"
            )
        made = created_at.date()
        if kind is TemplateKind.contract:
            return (
                f"contract with no policy made on {made.isoformat()}: kept "
                f"{self.contract_years} years, until "
                f"{years_after(made, self.contract_years).isoformat()}"
            )
        days = self.days[kind]
        until = made + dt.timedelta(days=days)
        return (
            f"{kind.value} made on {made.isoformat()}: kept {days} days, until {until.isoformat()}"
        )

    def failed_reason(self, what: str, when: dt.datetime) -> str:
        return (
            f"{what} failed on {when.date().isoformat()}: failures are kept {self.failed_days} days"
        )


def years_before(moment: Any, years: int) -> Any:
    """The same day ``years`` earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def finished(column_finished: Any, column_updated: Any) -> ColumnElement[Any]:
    """When a failed row failed: its finish time, else its last change."""
    return func.coalesce(column_finished, column_updated)
