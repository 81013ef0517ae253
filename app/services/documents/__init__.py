"""Durable document generation: ask, render on a worker, sweep, download.

Modules by use case: requests (ask for one document or a batch), queueing (hand
ids to Huey after the commit), worker (claim, render, store, settle), progress
(job counters), sweeper (what a dead worker or a lost message left behind),
delivery (download), queries (organisation scope).
"""

from app.services.documents.delivery import Download, StorageUnavailableError, open_download
from app.services.documents.queries import (
    documents_query,
    jobs_query,
    visible_document,
    visible_job,
)
from app.services.documents.requests import COMPATIBLE_FORMATS, request_batch, request_document
from app.services.documents.sweeper import SweepResult, sweep
from app.services.documents.worker import run_render

__all__ = [
    "COMPATIBLE_FORMATS",
    "Download",
    "StorageUnavailableError",
    "SweepResult",
    "documents_query",
    "jobs_query",
    "open_download",
    "request_batch",
    "request_document",
    "run_render",
    "sweep",
    "visible_document",
    "visible_job",
]
