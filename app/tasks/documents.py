"""Document tasks: render one document, sweep every minute, and the worker's metrics.

The messages carry ids only; app.services.documents does the work and keeps
the state in the database row, so a lost or repeated message is harmless.
"""

from __future__ import annotations

import logging
import os
import threading

from huey import crontab

from app.tasks.context import task_app, task_app_context
from app.tasks.queue import huey
from config import env_int, env_str

log = logging.getLogger(__name__)


@huey.task()
def render_document(document_id: int) -> None:
    """Render a queued document (a no-op when another worker has it, or it is done)."""
    from app.services.documents import run_render

    with task_app_context():
        run_render(document_id)


@huey.periodic_task(crontab(minute="*"))
def sweep_documents() -> None:
    """Send abandoned documents again and give up on those with no attempt left."""
    from app.services.documents import sweep

    with task_app_context():
        sweep()


# --- the worker's own /metrics --------------------------------------------------------

_metrics_lock = threading.Lock()
_metrics_pid: int | None = None


class _ScrapeCollector:
    """The default registry, with the database- and queue-backed gauges refreshed first."""

    def collect(self):  # noqa: ANN201 (prometheus_client's collector protocol)
        from prometheus_client import REGISTRY

        from app.metrics import refresh_live_gauges

        with task_app().app_context():
            refresh_live_gauges()
        yield from REGISTRY.collect()


@huey.on_startup()
def serve_worker_metrics() -> None:
    """With WORKER_METRICS_PORT set, serve this consumer's metrics over HTTP (once per process).

    Renders happen here, not in the web server, so their counters live here:
    Prometheus scrapes the worker as a target of its own.
    """
    global _metrics_pid
    port = env_int("WORKER_METRICS_PORT", 0)
    if not port:
        return
    with _metrics_lock:
        if _metrics_pid == os.getpid():
            return  # each worker thread runs the start-up hooks
        _metrics_pid = os.getpid()
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_ScrapeCollector())
        host = env_str("WORKER_METRICS_HOST", "127.0.0.1") or "127.0.0.1"
        try:
            start_http_server(port, addr=host, registry=registry)
        except OSError as error:
            log.error("worker metrics: cannot listen on %s:%s (%s)", host, port, error.strerror)
            return
        log.info("worker metrics served on http://%s:%s/metrics", host, port)
