"""Prometheus metrics at /metrics: HTTP metrics per app plus the business counters.

Two modes:
- one process (run.py, tests): each app gets its own registry for its HTTP
  metrics, so building several apps in one process neither clashes on metric
  names nor leaves the later apps without HTTP metrics; the business counters of
  app/metrics.py live in prometheus_client's default registry, which /metrics
  reads as well.
- several processes (gunicorn with PROMETHEUS_MULTIPROC_DIR, set by
  gunicorn.conf.py): every worker writes its samples to files in that folder
  and /metrics sums all of them, whichever worker answers.

Optional METRICS_TOKEN: /metrics then wants "Authorization: Bearer <token>".
"""

from __future__ import annotations

import functools
import hmac
import os
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, current_app, jsonify, request
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_flask_exporter import PrometheusMetrics

from app import metrics as business_metrics  # noqa: F401 (counters exist before a scrape)

METRICS_PATH = "/metrics"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class DefaultRegistryBridge:
    """Exposes the default registry (business counters, process metrics) inside an app registry.

    Without a describe() method the registry records no names for it, so it
    never collides with the app's own metrics.
    """

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def require_metrics_token(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        token = current_app.config.get("METRICS_TOKEN")
        if token:
            supplied = request.headers.get("Authorization", "")
            if not hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
                response = jsonify(message="a valid metrics bearer token is required")
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
                return response
        business_metrics.refresh_live_gauges()  # jobs in flight, queue depth: read now
        return view(*args, **kwargs)

    return guarded


def init_metrics(app: Flask) -> PrometheusMetrics:
    """Serve /metrics for this app and record its HTTP requests, grouped by endpoint."""
    options: dict[str, Any] = {
        "group_by": "endpoint",  # bounded label values, unlike raw paths
        "metrics_decorator": require_metrics_token,
    }
    if multiprocess_dir():
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        metrics: PrometheusMetrics = GunicornInternalPrometheusMetrics(
            app, path=METRICS_PATH, **options
        )
    else:
        registry = CollectorRegistry()
        registry.register(DefaultRegistryBridge())
        metrics = PrometheusMetrics(app, path=METRICS_PATH, registry=registry, **options)
    app.extensions["prometheus_metrics"] = metrics
    return metrics
