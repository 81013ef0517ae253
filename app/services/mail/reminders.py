"""Premium reminders by e-mail, sent by the daily premium run (app/services/premiums/daily.py).

Two messages, each from a built-in e-mail template an operator may edit:

- the **reminder** ("Rappel avant échéance"), ``Organisation.reminder_days`` before a
  notice's due date, one per notice;
- the **relance** ("Relance de cotisation impayée"), ``Organisation.relance_days`` after
  it, one per contract, naming all its arrears (the template reads ``arrears``).

Only for agencies whose ``reminder_channel`` is e-mail and notices the broker collects
(the insurer chases its own); a client without an e-mail address gets nothing here and
the notice stays in the Impayés work list, whose bulk "Envoyer la relance" prints letters.

Idempotent: a notice reminded or relanced has ``reminded_on`` / ``relanced_on`` set to
the day in the transaction that writes its message (queue_messages commits both, then
hands the messages to Huey), so a re-run of the day, or a second worker, finds nothing
left to send. On PostgreSQL the notices are locked (SKIP LOCKED) while their messages
are written. The task rules that e-mail about a notice consult and set the same mark
(app/services/premiums/told.py): the reminder (relance) is not sent when the client was
told at that stage on or after its day, due_on - reminder_days (due_on + relance_days).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Collection,
    NoticeKind,
    NoticeStatus,
    Organisation,
    PremiumNotice,
    ReminderChannel,
    Template,
    TemplateVersion,
    UnpaidStage,
)
from app.services.mail.compose import Record, draft_for
from app.services.mail.outbox import Draft, queue_messages
from app.services.premiums import told
from app.services.rendering import load_policy_for_render, policy_context

log = logging.getLogger(__name__)

REMINDER_KEY = "email_rappel_echeance"
RELANCE_KEY = "email_relance_impaye"
OPEN = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)
# After the due date and before any mise en demeure: later, the registered letter speaks.
RELANCE_STAGES = (UnpaidStage.overdue, UnpaidStage.formal_notice_possible)


@dataclass
class ReminderRun:
    """What one agency's run sent (or, dry, would send)."""

    reminders: int = 0  # messages before the due date
    relances: int = 0  # messages after it (one per contract)
    without_address: int = 0  # contracts whose client has no e-mail address: left to letters


def send_due(
    session: Session, organisation_id: int, today: dt.date, *, dry_run: bool = False
) -> ReminderRun:
    """Write (commit) and queue the agency's reminders and relances due ``today``.

    ``dry_run`` counts what would be sent and writes nothing. Raises what rendering or
    the outbox raise (an operator's template that no longer renders): the caller logs it
    for the agency, and the next run tries again since nothing was marked.
    """
    organisation = session.get(Organisation, organisation_id)
    run = ReminderRun()
    if organisation is None or organisation.reminder_channel is not ReminderChannel.email:
        return run
    templates = {key: _published(session, key) for key in (REMINDER_KEY, RELANCE_KEY)}
    reminders = _due_reminders(session, organisation, today)
    relances = _due_relances(session, organisation, today)
    drafts: list[Draft] = []
    for notice in reminders:
        if _write(drafts, templates[REMINDER_KEY], session, [notice], today, run, dry_run):
            run.reminders += 1
            told.mark(notice, today)
    for notices in _by_contract(relances).values():
        if _write(drafts, templates[RELANCE_KEY], session, notices, today, run, dry_run):
            run.relances += 1
            for notice in notices:
                told.mark(notice, today)
    if dry_run or not drafts:
        session.rollback()  # nothing to write: release the locks, keep no half-marked notice
        return run
    queue_messages(session, organisation_id, drafts, created_by_id=None)
    return run


def _write(
    drafts: list[Draft],
    template: tuple[Template, TemplateVersion] | None,
    session: Session,
    notices: list[PremiumNotice],
    today: dt.date,
    run: ReminderRun,
    dry_run: bool,
) -> bool:
    """Add the message about ``notices`` (one contract's) to ``drafts``; False when none goes."""
    if template is None:
        return False
    first = notices[0]
    policy = load_policy_for_render(session, first.policy_id, first.organisation_id)
    if policy is None:
        return False
    if not policy.client.email:
        run.without_address += 1
        return False
    if dry_run:
        return True
    context = policy_context(policy, today=today)
    if len(notices) == 1 and template[0].builtin_key == REMINDER_KEY:
        context["notice"] = _notice_context(first)
    links: dict[str, int | None] = {"policy_id": policy.id, "client_id": policy.client_id}
    if len(notices) == 1:
        links["premium_notice_id"] = first.id
    record = Record(first.organisation_id, policy.client.email, context, links)
    drafts.append(draft_for(template[0], template[1], record))
    return True


def _due_reminders(
    session: Session, organisation: Organisation, today: dt.date
) -> list[PremiumNotice]:
    """Open notices due within the agency's reminder days, not told since that day."""
    days = dt.timedelta(days=organisation.reminder_days)
    found = _locked(
        session,
        organisation.id,
        told.maybe_untold(today),
        PremiumNotice.due_on > today,
        PremiumNotice.due_on <= today + days,
    )
    # The reminder's moment, due_on - reminder_days: a rule's e-mail before it (a
    # deliberate earlier step) does not stand for the reminder; one since it does.
    return [notice for notice in found if not told.told_since(notice, today, notice.due_on - days)]


def _due_relances(
    session: Session, organisation: Organisation, today: dt.date
) -> list[PremiumNotice]:
    """Unpaid notices past due by the agency's relance days, before any mise en demeure,
    not told since that day."""
    days = dt.timedelta(days=organisation.relance_days)
    found = _locked(
        session,
        organisation.id,
        told.maybe_untold(today),
        PremiumNotice.due_on <= today - days,
        PremiumNotice.stage.in_(RELANCE_STAGES),
        PremiumNotice.formal_notice_sent_on.is_(None),
    )
    # The relance's moment, due_on + relance_days: a rule's e-mail before it (say at
    # due + 3) does not stand for the relance; one since it (or the relance itself) does.
    return [notice for notice in found if not told.told_since(notice, today, notice.due_on + days)]


def _locked(session: Session, organisation_id: int, *conditions: Any) -> list[PremiumNotice]:
    query = (
        select(PremiumNotice)
        .where(
            PremiumNotice.organisation_id == organisation_id,
            PremiumNotice.status.in_(OPEN),
            PremiumNotice.kind != NoticeKind.refund,
            PremiumNotice.collection == Collection.broker,
            PremiumNotice.total > PremiumNotice.paid_amount,
            *conditions,
        )
        .order_by(PremiumNotice.policy_id, PremiumNotice.due_on, PremiumNotice.id)
        # Two runs at once: the second skips what the first is writing, then finds it marked.
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def _by_contract(notices: list[PremiumNotice]) -> dict[int, list[PremiumNotice]]:
    grouped: dict[int, list[PremiumNotice]] = {}
    for notice in notices:
        grouped.setdefault(notice.policy_id, []).append(notice)
    return grouped


def _notice_context(notice: PremiumNotice) -> dict[str, Any]:
    return {
        "number": notice.number,
        "due_on": notice.due_on,
        "pay_by": notice.pay_by,
        "period_start": notice.period_start,
        "period_end": notice.period_end,
        "total": notice.total,
        "balance": notice.balance,
    }


def _published(session: Session, key: str) -> tuple[Template, TemplateVersion] | None:
    """The built-in e-mail template and its published version; None (logged) if missing."""
    template = session.scalar(select(Template).where(Template.builtin_key == key))
    version = (
        session.get(TemplateVersion, template.published_version_id)
        if template is not None and template.published_version_id
        else None
    )
    if version is None:
        log.warning("built-in e-mail template %r missing or unpublished: nothing sent", key)
        return None
    return template, version
