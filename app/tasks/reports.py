"""Report and export tasks: run one tabular job, and sweep abandoned ones every minute.

The messages carry job ids only; app.services.reports does the work and keeps
the state in the Job row, so a lost or repeated message is harmless.
"""

from __future__ import annotations

from huey import crontab

from app.tasks.context import task_app_context
from app.tasks.queue import huey


@huey.task()
def run_tabular_job(job_id: int) -> None:
    """Produce a queued report or export (a no-op when another worker has it, or it is done)."""
    from app.services.reports.runs import run_tabular_job as run

    with task_app_context():
        run(job_id)


@huey.periodic_task(crontab(minute="*"))
def sweep_tabular_jobs() -> None:
    """Send abandoned report and export jobs again; give up on those with no attempt left."""
    from app.services.reports.sweeper import sweep_jobs

    with task_app_context():
        sweep_jobs()
