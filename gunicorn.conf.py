"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Read from the environment: PORT (8000), HOST (0.0.0.0 here: a container or a
reverse proxy in front), WEB_CONCURRENCY (3 workers), LOG_LEVEL, LOG_JSON and
PROMETHEUS_MULTIPROC_DIR. Anything else: GUNICORN_CMD_ARGS, e.g. "--timeout 60".

Metrics: each worker is a process of its own, so /metrics must add up the samples
of all of them. prometheus_client does that through files in
PROMETHEUS_MULTIPROC_DIR, which has to be set before the workers import it. When
the operator did not choose a folder we make a private one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_port = os.environ.get("PORT") or "8000"
_host = os.environ.get("HOST") or "0.0.0.0"  # noqa: S104 (served behind a proxy or in a container)
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]
# Sync workers, one more than the 2 cores the product is sized for: between and inside
# requests there are moments when neither a worker nor PostgreSQL computes (the client's
# turn, the connection, Redis and database round trips), which leave a core idle with two
# workers; a third fills them. More add memory, not throughput, once the cores are full.
# Threads (gthread) were measured worse: a worker takes connections while its threads
# are busy, and the requests queued behind them make the p99 2-4 times the p50 (sync:
# 1.2-1.6; docs/benchmarks.md, "The API under 50 concurrent clients").
# Elsewhere: WEB_CONCURRENCY = cores + 1.
workers = int(os.environ.get("WEB_CONCURRENCY") or "3")
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
# gunicorn's control socket (one path per user) is not used here, and two servers of the
# same user (a test beside run.py, two checkouts) would fight over it.
control_socket_disable = True
# The app logs one line per request itself (with its request id): no second access log.
accesslog = None
errorlog = "-"
# Long enough for every ?q= the app accepts (8,000 characters, MAX_Q_LENGTH in
# app/api/guards.py) to reach it, so a longer one gets the app's JSON 400 rather than
# gunicorn's HTML 414 (its default is 4094 bytes). 8190 is gunicorn's largest limit short
# of "none at all"; a longer line still gets the 414, documented in the API's spec
# (SERVER_REQUEST_LINE_LIMIT in app/api/openapi.py). run.py's gunicorn reads this file too.
limit_request_line = 8190
# Worker heartbeats on a RAM disk: a slow container disk cannot stall them.
if Path("/dev/shm").is_dir():  # noqa: S108 (gunicorn's documented use of /dev/shm)
    worker_tmp_dir = "/dev/shm"  # noqa: S108

_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="monassurance-metrics-")

if (os.environ.get("LOG_JSON") or "").lower() in ("1", "true", "yes", "on"):
    # Gunicorn's own lines (boot, worker restarts) in the app's JSON shape.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        # gunicorn merges this over its defaults one key deep: "root" and both of its
        # loggers must name our handler, or it refers to handlers that no longer exist.
        "root": {"level": "WARNING", "handlers": []},  # the app adds its own in each worker
        "loggers": {
            name: {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False}
            for name in ("gunicorn.error", "gunicorn.access")
        },
    }


def on_starting(server: Any) -> None:
    """Start from an empty metrics folder: samples of a previous run would be added to ours."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges must stop counting; its counters stay summed."""
    from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

    GunicornInternalPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the metrics folder we made ourselves; an operator's folder stays."""
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_worker_init(worker: Any) -> None:
    """Under run.py, answer only once the database is ready (app/ops/start_gate.py)."""
    from app.ops.start_gate import wait_for_gate

    wait_for_gate(lambda: worker.alive, worker.notify)
