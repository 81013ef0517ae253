"""The purge use case: find, apply when asked, and keep the proof.

Every run, dry or applied, leaves a PurgeRun row (counts, bytes, the report of items,
trigger, actor) and audit rows: one ``purge.run`` summary, and one ``document.purged``
per removed document with its reason. Orphan files (documents' and attachments') have no
row to name: each is an item of the report, with its key, size and reason, and logged.
This use case owns its transactions: applying commits batch by batch, each batch holding
document (and attachment) inserts while it checks and deletes (app.services.purge.orphans
and attachment_files explain why).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Query, Session

from app.models import Organisation, PurgeRun
from app.models.base import utcnow
from app.services import audit
from app.services.errors import DomainError, ForbiddenError, NotFoundError
from app.services.privacy import retention as client_retention
from app.services.purge import accounting, attachment_files, orphans, records
from app.services.purge.items import (
    ACCOUNTING,
    ANONYMISE,
    FAILED_DOCUMENT,
    FAILED_JOB,
    ORPHAN,
    ORPHAN_ATTACHMENT,
    RETENTION,
    SPENT_LINKS,
    TRIGGERS,
    PurgeItem,
    PurgePlan,
    PurgeScope,
    PurgeTotals,
)
from app.services.purge.retention import RetentionRules
from app.services.renewals.contracts import agency_today
from app.services.scope import is_superadmin
from app.services.storage import FileStore, StorageError, file_store

log = logging.getLogger(__name__)

# Items checked and deleted per transaction: short enough that document writers
# waiting for the lock barely notice.
BATCH = 100

Done = list[tuple[PurgeItem, bool]]  # removed items, with whether a file went with each


class PurgeError(DomainError):
    """The purge stopped (store or database unreachable); what it did so far is recorded."""

    status = 503


@dataclasses.dataclass
class Purger:
    """One purge: its scope, its store and rules, and the moment it looks at."""

    session: Session
    scope: PurgeScope
    store: FileStore
    rules: RetentionRules

    def plan(self) -> PurgePlan:
        """What would go now; writes nothing."""
        session, store, scope = self.session, self.store, self.scope
        now = utcnow()
        high_water = orphans.highest_document_id(session)
        listed = orphans.list_keys(store, scope)
        found, too_new = orphans.find_orphans(session, store, listed, high_water)
        found += attachment_files.find_orphan_attachments(
            session, store, scope, self.rules.attachment_cutoff(now)
        )
        keys = set(listed)
        expired = records.find_expired_documents(session, store, keys, self.rules, now, scope)
        already = {item.document_id for item in expired if item.document_id is not None}
        found += expired
        found += records.find_failed_documents(session, keys, self.rules, now, scope, already)
        found += records.find_failed_jobs(session, self.rules, now, scope)
        found += records.find_spent_links(session, now, scope)
        found += _clients_due(session, scope)
        found += _accounting_due(session, scope, now)
        session.commit()
        return PurgePlan(scope, now, high_water, found, too_new)

    def apply(self, plan: PurgePlan, run_id: int, actor: audit.Actor, done: Done) -> None:
        """Delete exactly the plan's items that still qualify, batch by batch (appends to done)."""
        now, rules, scope, store = plan.found_at, self.rules, self.scope, self.store
        removers: dict[str, Callable[[list[PurgeItem]], Done]] = {
            ORPHAN: lambda batch: orphans.delete_orphans(self.session, store, batch),
            ORPHAN_ATTACHMENT: lambda batch: attachment_files.delete_orphan_attachments(
                self.session, store, batch, rules.attachment_cutoff(now)
            ),
            RETENTION: lambda batch: records.delete_expired_documents(
                self.session, store, batch, rules, now, scope, run_id, actor
            ),
            FAILED_DOCUMENT: lambda batch: records.delete_failed_documents(
                self.session, store, batch, rules, now, scope, run_id, actor
            ),
            FAILED_JOB: lambda batch: records.delete_failed_jobs(
                self.session, batch, rules, now, scope
            ),
            SPENT_LINKS: lambda batch: records.delete_spent_links(self.session, batch, now, scope),
            ANONYMISE: lambda batch: self._anonymise(batch, run_id, actor),
            ACCOUNTING: lambda batch: self._delete_accounting(batch, now, run_id, actor),
        }
        for category, remove in removers.items():
            items = plan.of(category)
            for start in range(0, len(items), BATCH):
                orphans.hold_document_inserts(self.session, run_id)
                removed = remove(items[start : start + BATCH])
                self.session.commit()
                done.extend(removed)

    def _anonymise(self, batch: list[PurgeItem], run_id: int, actor: audit.Actor) -> Done:
        """Erase each client that retention still says to anonymise (asked again now)."""
        done: Done = []
        for item in batch:
            assert item.organisation_id is not None and item.client_id is not None
            if client_retention.anonymise(
                self.session,
                item.organisation_id,
                item.client_id,
                actor=actor,
                store=self.store,
                run_id=run_id,
            ):
                done.append((item, False))
        return done

    def _delete_accounting(
        self, batch: list[PurgeItem], found_at: dt.datetime, run_id: int, actor: audit.Actor
    ) -> Done:
        """Each agency's accounting past retention, committed every accounting.BATCH notices
        (the conditions asked again each time); one ``accounting.purged`` entry per agency."""
        done: Done = []
        for item in batch:
            assert item.organisation_id is not None
            organisation = self.session.get(Organisation, item.organisation_id)
            if organisation is None:
                continue
            cut = accounting.AccountingCut.of(
                organisation, agency_today(self.session, organisation.id), found_at
            )
            deleted = accounting.Deleted()
            while accounting.delete_batch(self.session, cut, deleted):
                self.session.commit()
            if not deleted.notices:
                continue
            audit.record(
                self.session,
                "accounting.purged",
                "Organisation",
                organisation.id,
                {
                    "purge_run": run_id,
                    "first_kept_day": cut.first_kept.isoformat(),
                    "years": cut.years,
                    **deleted.as_changes(),
                },
                organisation_id=organisation.id,
                actor=actor,
            )
            reason = cut.reason(deleted.notices, deleted.payments)
            done.append((dataclasses.replace(item, reason=reason, count=deleted.notices), False))
        return done


def _accounting_due(session: Session, scope: PurgeScope, now: dt.datetime) -> list[PurgeItem]:
    """One item per agency with accounting entries past retention today."""
    query = select(Organisation).order_by(Organisation.id)
    if scope.organisation_id is not None:
        query = query.where(Organisation.id == scope.organisation_id)
    found = []
    for organisation in session.scalars(query).all():
        cut = accounting.AccountingCut.of(organisation, agency_today(session, organisation.id), now)
        notices, payments = accounting.count_due(session, cut)
        if notices:
            found.append(
                PurgeItem(
                    category=ACCOUNTING,
                    reason=cut.reason(notices, payments),
                    organisation_id=organisation.id,
                    count=notices,
                )
            )
    return found


def _clients_due(session: Session, scope: PurgeScope) -> list[PurgeItem]:
    """One item per client the agencies' retention periods say to anonymise today."""
    return [
        PurgeItem(
            category=ANONYMISE,
            reason=f"client {client_id}: {due.reason}",
            organisation_id=organisation_id,
            client_id=client_id,
        )
        for organisation_id, client_id, due in client_retention.due_clients(
            session, scope.organisation_id
        )
    ]


def scope_for(user: Any) -> PurgeScope:
    """SUPERADMIN purges every organisation; anyone else (ADMIN) their own only."""
    if is_superadmin(user):
        return PurgeScope(None)
    if getattr(user, "organisation_id", None) is None:
        raise ForbiddenError("Your account belongs to no organisation.")
    return PurgeScope(user.organisation_id)


def actor_for(user: Any) -> audit.Actor:
    return audit.Actor(user.id, user.username, getattr(user, "organisation_id", None))


def organisation_scope(session: Session, organisation_id: int | None) -> PurgeScope:
    """The scope an operator names (CLI): an existing organisation, or every one."""
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise NotFoundError(f"no organisation with id {organisation_id}")
    return PurgeScope(organisation_id)


def purger(session: Session, scope: PurgeScope, store: FileStore | None = None) -> Purger:
    """A purger with the app's store and retention rules."""
    return Purger(
        session, scope, store or file_store(), RetentionRules.from_config(current_app.config)
    )


def plan_purge(session: Session, scope: PurgeScope, store: FileStore | None = None) -> PurgePlan:
    """A preview (the confirmation page): what would go now, recorded nowhere."""
    return purger(session, scope, store).plan()


def run_purge(
    session: Session,
    *,
    scope: PurgeScope,
    trigger: str,
    apply: bool,
    actor: audit.Actor,
    store: FileStore | None = None,
) -> PurgeRun:
    """Find what goes (and delete it when ``apply``); always record the run. Commits."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown purge trigger {trigger!r}")
    work = purger(session, scope, store)  # a bad retention setting fails here, before any row
    run = PurgeRun(
        trigger=trigger,
        applied=apply,
        actor_id=actor.user_id,
        actor_name=actor.username,
        organisation_id=scope.organisation_id,
        status="running",
    )
    session.add(run)
    session.commit()
    run_id = run.id
    plan: PurgePlan | None = None
    done: Done = []
    try:
        plan = work.plan()
        if apply:
            work.apply(plan, run_id, actor, done)
    except (StorageError, SQLAlchemyError, OSError) as error:
        session.rollback()
        log.exception("purge run %s stopped", run_id)
        _record(session, run_id, plan, done, actor, apply, error=f"{type(error).__name__}: {error}")
        session.commit()
        raise PurgeError(
            f"The purge stopped ({error}); run #{run_id} records what it did."
        ) from error
    _record(session, run_id, plan, done, actor, apply)
    session.commit()
    return session.get(PurgeRun, run_id)


def _record(
    session: Session,
    run_id: int,
    plan: PurgePlan | None,
    done: Done,
    actor: audit.Actor,
    applied: bool,
    error: str | None = None,
) -> None:
    """Write the run's counts, report and status, and the summary audit row."""
    items = plan.items if plan is not None else []
    if applied:
        removed = {_identity(item): file_removed for item, file_removed in done}
        counts = {_identity(item): item.count for item, _file in done}
        report = [
            dataclasses.replace(item, count=counts.get(_identity(item), item.count)).as_report(
                removed=_identity(item) in removed
            )
            for item in items
        ]
        totals = PurgeTotals()
        for item, file_removed in done:
            totals.add(item, file_removed=file_removed)
    else:
        report = [item.as_report() for item in items]
        totals = PurgeTotals.of_plan(items)
    status = "failed" if error else "done"
    session.execute(
        update(PurgeRun)
        .where(PurgeRun.id == run_id)
        .values(
            finished_at=utcnow(),
            status=status,
            files_count=totals.files,
            bytes_total=totals.bytes,
            documents_count=totals.documents,
            jobs_count=totals.jobs,
            report=report,
            error=error[:1000] if error else None,
        )
    )
    scope_id = plan.scope.organisation_id if plan is not None else None
    audit.record(
        session,
        "purge.run",
        "PurgeRun",
        run_id,
        {
            "applied": applied,
            "status": status,
            "files": totals.files,
            "attachment_files": totals.attachment_files,
            "bytes": totals.bytes,
            "documents": totals.documents,
            "jobs": totals.jobs,
            "spent_links": totals.spent_links,
            "clients_anonymised": totals.clients,
            "accounting_notices": totals.accounting_notices,
            "items": len(items),
            "left_for_later": plan.files_left_for_later if plan is not None else 0,
            **({"error": error[:500]} if error else {}),
        },
        organisation_id=scope_id,
        actor=actor,
    )


def _identity(item: PurgeItem) -> tuple[Any, ...]:
    return (
        item.category,
        item.key,
        item.document_id,
        item.job_id,
        item.client_id,
        item.attachment_id,
    )


# --- what the screen lists ---------------------------------------------------------------


def runs_query(session: Session, user: Any) -> Query[PurgeRun]:
    """Purge runs the user may see: their organisation's; SUPERADMIN every one."""
    query = session.query(PurgeRun)
    scope = scope_for(user)
    if not scope.everything:
        query = query.filter(PurgeRun.organisation_id == scope.organisation_id)
    return query


def visible_run(session: Session, user: Any, run_id: int) -> PurgeRun | None:
    return runs_query(session, user).filter(PurgeRun.id == run_id).one_or_none()
