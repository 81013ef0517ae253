"""Prometheus metrics at /metrics, aggregated across gunicorn workers when needed."""

from __future__ import annotations

import os

from flask import Flask
from prometheus_flask_exporter import PrometheusMetrics


def init_metrics(app: Flask) -> PrometheusMetrics:
    """Serve /metrics; with PROMETHEUS_MULTIPROC_DIR set, sum every worker's samples."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        return GunicornInternalPrometheusMetrics(app, group_by="endpoint")
    return PrometheusMetrics(app, group_by="endpoint")
