"""A task rule's e-mail: its published template sent to each record's client, once.

A rule with an ``email_template_id`` writes, for every record it fires for (the same
triggers as its tasks, app/services/tasks/triggers.py), one message to the record's
client through the outbox (app/services/mail/outbox.py). The message carries the rule
and the record (rule_id, rule_key), unique together: the daily run inserts with
ON CONFLICT DO NOTHING, so a re-run or a second worker never writes, nor sends, a
message twice. The engine commits the agency's tasks and messages together, then hands
the new messages to the queue (the sweeper does if the queue is down).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Message, TaskRule, Template, TemplateKind, TemplateVersion
from app.services.errors import DomainError
from app.services.mail.compose import draft_for, record_in_scope
from app.services.mail.outbox import build_messages
from app.services.premiums import told
from app.services.rendering.errors import RenderError
from app.services.tasks.triggers import Candidate, candidates, moment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedMessage:
    """A message a rule writes (or, in a dry run, would write)."""

    rule_id: int
    rule_name: str
    to: str
    subject: str
    client_id: int
    policy_id: int
    renewal_cycle_id: int | None
    premium_notice_id: int | None
    # The rule's moment for the notice (anchor + offset): what its "already told" is
    # measured from (app/services/premiums/told.py).
    moment: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "to": self.to,
            "subject": self.subject,
            "client_id": self.client_id,
            "policy_id": self.policy_id,
            "renewal_cycle_id": self.renewal_cycle_id,
            "premium_notice_id": self.premium_notice_id,
        }


def usable_template(
    session: Session, organisation_id: int, template_id: int | None
) -> tuple[Template, TemplateVersion] | None:
    """The rule's e-mail template and its published version, if the agency may use it."""
    if template_id is None or not 0 < template_id < 2**31:
        return None
    template = session.get(Template, template_id)
    if template is None or template.organisation_id not in (None, organisation_id):
        return None
    if template.kind is not TemplateKind.email or template.published_version_id is None:
        return None
    version = session.get(TemplateVersion, template.published_version_id)
    return (template, version) if version is not None else None


def template_problem(session: Session, rule: TaskRule) -> str | None:
    """Why the rule's e-mail template cannot be used, or None (check_rule's question)."""
    if rule.email_template_id is None:
        return None
    if usable_template(session, rule.organisation_id, rule.email_template_id) is None:
        return _("Choose a published e-mail template of the agency.")
    return None


def _record(candidate: Candidate) -> tuple[str, int]:
    if candidate.renewal_cycle_id is not None:
        return "renewal_cycle", candidate.renewal_cycle_id
    if candidate.premium_notice_id is not None:
        return "premium_notice", candidate.premium_notice_id
    return "policy", candidate.policy_id


def plan_messages(
    session: Session, rule: TaskRule, today: dt.date
) -> list[tuple[PlannedMessage, Message]]:
    """The messages ``rule`` writes today, built (not added).

    Raises RenderError when the template is no longer usable or does not render for a
    record (the message names the line): the rule is skipped, as a failing title is.
    """
    if rule.email_template_id is None:
        return []
    found = usable_template(session, rule.organisation_id, rule.email_template_id)
    if found is None:
        raise RenderError(_("Choose a published e-mail template of the agency."))
    template, version = found
    planned = []
    for candidate in candidates(session, rule, today, for_messages=True):
        kind, record_id = _record(candidate)
        try:
            draft = draft_for(
                template, version, record_in_scope(session, rule.organisation_id, kind, record_id)
            )
        except DomainError as error:
            # The template fails for this record: it would for others, the rule is skipped.
            raise RenderError(f"{kind} {record_id}: {error.message}") from None
        try:
            [message] = build_messages(session, rule.organisation_id, [draft], created_by_id=None)
        except DomainError as error:
            # This client's address is refused: the others still get theirs.
            log.warning("task rule %s: no message for %s %s: %s", rule.id, kind, record_id, error)
            continue
        message.rule_id = rule.id
        message.rule_key = candidate.rule_key
        plan = PlannedMessage(
            rule_id=rule.id,
            rule_name=rule.name,
            to=message.to_addresses,
            subject=message.subject,
            client_id=candidate.client_id,
            policy_id=candidate.policy_id,
            renewal_cycle_id=candidate.renewal_cycle_id,
            premium_notice_id=candidate.premium_notice_id,
            moment=(
                moment(rule, candidate.anchor) if candidate.premium_notice_id is not None else None
            ),
        )
        planned.append((plan, message))
    return planned


def untold(
    session: Session, planned: list[tuple[PlannedMessage, Message]], today: dt.date
) -> list[tuple[PlannedMessage, Message]]:
    """The planned messages whose notice's client is not told since the rule's moment;
    their notices marked today.

    The daily reminders and relances share the mark (app/services/premiums/told.py).
    Messages about a policy or a renewal cycle pass as they are.
    """
    moments = {
        plan.premium_notice_id: plan.moment
        for plan, _message in planned
        if plan.premium_notice_id is not None and plan.moment is not None
    }
    if not moments:
        return planned
    may_tell = told.claim(session, moments, today)
    return [
        (plan, message)
        for plan, message in planned
        if plan.premium_notice_id is None or plan.premium_notice_id in may_tell
    ]
