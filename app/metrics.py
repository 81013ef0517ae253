"""Business counters exported at /metrics beside the HTTP metrics."""

from __future__ import annotations

import logging
import math

from prometheus_client import Counter, Gauge, Histogram

_log = logging.getLogger(__name__)

POLICIES_CREATED = Counter("monassurance_policies_created_total", "Policies created", ["channel"])
CLIENTS_CREATED = Counter("monassurance_clients_created_total", "Clients created", ["channel"])

# --- documents (issue 5): names as the issue gives them -----------------------------
# Counted where the render happens: the Huey consumer in production, which serves
# them itself when WORKER_METRICS_PORT is set (app/tasks/documents.py); the web
# process counts the renders it runs inline (HUEY_IMMEDIATE).
DOCUMENTS_GENERATED = Counter(
    "documents_generated_total",
    "Documents finished, by format and outcome (status: ready or failed)",
    ["format", "status"],
)
DOCUMENT_RENDER_SECONDS = Histogram(
    "document_render_seconds",
    "Time to render one document, template to bytes, by format and engine",
    ["format", "engine"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
# --- reports and exports (issue 7): names as the issue gives them ---------------------
# Counted where the job runs (the consumer, or the web process in immediate mode),
# labelled by the producer's name (portfolio, premiums, an export's list...).
REPORT_JOBS_TOTAL = Counter(
    "report_jobs_total",
    "Report and export jobs finished, by type and outcome (status: succeeded or failed)",
    ["job_type", "status"],
)
# inc/dec around each run: "livesum" adds the live processes' values under gunicorn.
REPORT_JOBS_ACTIVE = Gauge(
    "report_jobs_active",
    "Report and export jobs running now in this process (summed over live processes)",
    ["job_type"],
    multiprocess_mode="livesum",
)
# Read from the database and the queue when /metrics is scraped (refresh_live_gauges):
# the same answer whichever process is asked. "livemostrecent": under gunicorn's
# multiprocess mode, the value of the worker that answered the latest scrape.
JOBS_IN_FLIGHT = Gauge(
    "jobs_in_flight",
    "Documents rendering now (status running, under a worker's lease)",
    multiprocess_mode="livemostrecent",
)
QUEUE_DEPTH = Gauge(
    "queue_depth",
    "Tasks waiting in the Huey queue (NaN when the queue cannot be read)",
    multiprocess_mode="livemostrecent",
)

# --- outages (issue 11): app/ops/outages.py -------------------------------------------
RATE_LIMIT_STORAGE_LOST = Counter(
    "rate_limit_storage_lost_total",
    "Times the rate-limit storage (Redis) stopped answering and limits fell back to memory",
)
# 1 in each process judging limits in memory; "livemax": 1 when any live worker does.
RATE_LIMIT_IN_MEMORY = Gauge(
    "rate_limit_in_memory",
    "1 while rate limits are judged in this process's memory because Redis does not answer",
    multiprocess_mode="livemax",
)
SERVICE_UNAVAILABLE = Counter(
    "service_unavailable_responses_total",
    "Requests answered 503 because a dependency did not answer, by dependency",
    ["dependency"],
)


def refresh_live_gauges() -> None:
    """Set the gauges read at scrape time; needs an app context. Never raises."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Document, DocumentStatus

    try:
        with db.engine.connect() as connection:
            # Counted on the (status, lease_expires_at) index.
            running = connection.execute(
                select(func.count())
                .select_from(Document)
                .where(Document.status == DocumentStatus.running)
            ).scalar_one()
        JOBS_IN_FLIGHT.set(running)
    except Exception as error:  # a scrape must not fail because the database is away
        _log.warning("jobs_in_flight not refreshed: %s", type(error).__name__)
        JOBS_IN_FLIGHT.set(math.nan)
    try:
        from app.tasks.queue import huey

        QUEUE_DEPTH.set(huey.pending_count())
    except Exception as error:  # Redis down
        _log.warning("queue_depth not refreshed: %s", type(error).__name__)
        QUEUE_DEPTH.set(math.nan)
