"""Reports and exports as jobs: the generic "tabular job" runner, and the reports on it.

How to add a producer (a list export, a new report)
----------------------------------------------------
1. Write a function ``produce(session, request) -> Tabular``. ``request`` is a
   ``TabularRequest``: ``organisation_id`` (every query MUST filter on it — the
   worker has no user and no request), ``params`` (what your check returned),
   ``owner_id``, ``job_id``. Return ``Tabular(file_stem, sheets)``: each ``Sheet``
   has a ``title``, a ``header`` (translated with gettext: the worker runs under
   the requester's locale), ``rows`` — a *callable* returning an iterator of row
   sequences, called once when the sheet is written, so stream from the database
   (``session.execute(select(...).execution_options(yield_per=2000))`` or keyset
   pages by id) and never build a list of every row — and ``total``, the number of
   rows it will yield (a ``count()``), for progress. Optional ``column_widths``
   and ``number_formats`` (column index -> XLSX format, e.g. ``"#,##0.00"``).
   Raise ``TabularError(message)`` for a deterministic refusal (the job fails
   with that message, no retry); database and storage errors are retried.
2. Optionally write ``check(session, user, organisation_id, params) -> dict``: runs
   in the request, with the organisation the job will cover,
   validates and normalises the parameters (raise
   ``app.services.errors.InvalidRequestError`` for a 422) and returns what the
   job stores (JSON-serialisable: dates as ISO strings).
3. Register it at import time of your module, and make sure the module is
   imported in the worker too (import it from your door's module and from
   ``tabular._load_builtin_producers``, or from ``app/tasks/``)::

       register_producer("export-policies", produce, check=check, job_kind=JobKind.export)

4. Start it from your door: ``job = start_tabular_job(session, user,
   job_kind=JobKind.export, name="export-policies", params={...},
   output_format="csv")``. It commits the Job (+ audit row) then queues it;
   answer 202 ``{"job_id": job.id}`` or redirect to the job's screen. The worker
   writes the file (XLSX with every sheet, or CSV with the first sheet: UTF-8
   with BOM, ``;``-separated), reports progress (rows done / total of all sheets),
   and delivers ONE Document (``job.document_id``) named
   ``<file_stem>-<YYYY-MM-DD>.<xlsx|csv>``, downloadable like any document.
   Metrics: ``report_jobs_total{job_type=<name>,status}`` and
   ``report_jobs_active{job_type=<name>}``.

Modules: tabular (sheets, registry, writers), jobs (start and queue), runs (the
worker: claim, progress, deliver), sweeper (lost messages, dead workers),
portfolio (the portfolio and premiums-by-month reports).
"""

from app.services.reports.jobs import enqueue_jobs, start_tabular_job
from app.services.reports.runs import run_tabular_job
from app.services.reports.sweeper import sweep_jobs
from app.services.reports.tabular import (
    TABULAR_FORMATS,
    Producer,
    Sheet,
    Tabular,
    TabularError,
    TabularRequest,
    register_producer,
)

__all__ = [
    "TABULAR_FORMATS",
    "Producer",
    "Sheet",
    "Tabular",
    "TabularError",
    "TabularRequest",
    "enqueue_jobs",
    "register_producer",
    "run_tabular_job",
    "start_tabular_job",
    "sweep_jobs",
]
