"""Starting a tabular job: one Job row and its audit row, committed, then queued.

The row is the truth: when the queue refuses the message (Redis down) the job
stays queued and the sweeper (app/services/reports/sweeper.py) sends it later,
so the caller still gets its job id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Job, JobKind, JobStatus, Organisation, OutputFormat
from app.services import audit, leasing
from app.services.documents.queries import valid_id
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.reports.tabular import TABULAR_FORMATS, registered
from app.services.scope import NO_ORGANISATION, visible_organisation_id


def start_tabular_job(
    session: Session,
    user: Any,
    *,
    job_kind: JobKind,
    name: str,
    params: dict[str, Any],
    output_format: OutputFormat | str = OutputFormat.xlsx,
    organisation_id: Any = None,
    prepare: Callable[[Session, Job], None] | None = None,
) -> Job:
    """Queue the producer ``name`` for ``user``'s organisation; returns the committed Job.

    ``params`` go through the producer's check (InvalidRequestError: 422).
    ``organisation_id``: SUPERADMIN chooses the organisation (required when they
    belong to none); anyone else gets their own, and naming another answers 404.
    The job's ``params`` hold ``producer``, ``format``, ``locale`` and the checked
    ``params``; the audit trail gets ``<kind>.requested``.
    """
    producer = registered(name)
    if producer is None or producer.job_kind is not job_kind:
        raise InvalidRequestError(_("Unknown report."))
    output = _format(output_format, producer.formats)
    organisation = _organisation(session, user, organisation_id)
    checked = dict(params)
    if producer.check is not None:
        checked = producer.check(session, user, organisation, checked)
    locale = str(get_locale() or "fr")
    try:
        job = Job(
            organisation_id=organisation,
            owner_id=user.id,
            kind=job_kind,
            status=JobStatus.queued,
            progress_done=0,
            progress_total=0,
            attempts=0,
            params={"producer": name, "format": output.value, "locale": locale, "params": checked},
        )
        session.add(job)
        session.flush()
        if prepare is not None:
            prepare(session, job)
        audit.record(
            session,
            f"{job_kind.value}.requested",
            "Job",
            job.id,
            {"producer": name, "format": output.value, "params": checked},
            organisation_id=organisation,
            actor=audit.Actor(user.id, user.username, getattr(user, "organisation_id", None)),
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    enqueue_jobs(session, [job.id])
    return job


def enqueue_jobs(session: Session, job_ids: list[int]) -> int:
    """Send one run message per job; returns how many the queue accepted. Never raises."""
    from app.tasks.reports import run_tabular_job

    return leasing.send(session, Job, job_ids, run_tabular_job)


def _format(
    value: OutputFormat | str, formats: tuple[OutputFormat, ...] = TABULAR_FORMATS
) -> OutputFormat:
    try:
        output = OutputFormat(value)
    except ValueError:
        output = None
    if output not in formats:
        message = (
            _("Choose xlsx or csv.")
            if formats == TABULAR_FORMATS
            else _("Choose %(formats)s.", formats=" or ".join(f.value for f in formats))
        )
        raise InvalidRequestError(message, {"format": message})
    return output


def _organisation(session: Session, user: Any, requested: Any) -> int:
    """The organisation the job covers, through the one scoping rule (app.services.scope)."""
    scope = visible_organisation_id(user)
    if scope is None:  # SUPERADMIN: any organisation, theirs by default
        own = getattr(user, "organisation_id", None)
        if requested is None:
            if own is None:
                message = _("Choose an organisation.")
                raise InvalidRequestError(message, {"organisation_id": message})
            return own
        if not valid_id(requested) or session.get(Organisation, requested) is None:
            raise NotFoundError(_("Organisation not found."))
        return requested
    if scope == NO_ORGANISATION or requested not in (None, scope):
        raise NotFoundError(_("Organisation not found."))
    return scope
