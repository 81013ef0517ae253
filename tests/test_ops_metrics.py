"""/metrics: HTTP and business counters, several apps per process, token, gunicorn workers."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from tests.conftest import make_config, user_organisation

ROOT = Path(__file__).resolve().parent.parent


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in body.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
        if found == wanted:
            return float(match.group(3))
    return 0.0


@pytest.fixture
def build_app() -> Iterator[Any]:
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = create_app(make_config(**overrides))
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_metrics_are_public_and_count_http_requests(http):
    before = http.get("/metrics")
    assert before.status_code == 200
    assert before.mimetype == "text/plain"
    count = sample(
        before.get_data(as_text=True), "flask_http_request_total", method="GET", status="200"
    )
    http.get("/health")
    http.get("/health")
    after = http.get("/metrics").get_data(as_text=True)
    # /metrics itself is not tracked: exactly the two probes were added.
    assert sample(after, "flask_http_request_total", method="GET", status="200") == count + 2
    assert "flask_http_request_duration_seconds_bucket" in after
    assert 'endpoint="health.liveness"' in after


def test_policy_created_through_the_api_is_counted(http, app, make_user, portfolio, auth_headers):
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "M1")
    name = "monassurance_policies_created_total"
    before = sample(http.get("/metrics").get_data(as_text=True), name, channel="api")
    created = http.post(
        "/api/v1/policy/",
        json={
            "number": "POL-METRICS-1",
            "client_id": ids["client"],
            "company_id": ids["company"],
            "line_of_business": "auto",
            "status": "active",
            "effective_date": "2026-02-01",
            "expiry_date": "2027-02-01",
            "premium": "250.00",
        },
        headers=auth_headers(user),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    after = http.get("/metrics").get_data(as_text=True)
    assert sample(after, name, channel="api") == before + 1
    assert "# TYPE monassurance_clients_created_total counter" in after


def test_each_app_of_a_process_keeps_its_own_http_metrics(build_app, database_url):
    # The default Prometheus registry is process-wide: a second app registering
    # the same HTTP metrics there used to be refused (and silently left untracked).
    first = build_app(SQLALCHEMY_DATABASE_URI=database_url).test_client()
    second = build_app(SQLALCHEMY_DATABASE_URI=database_url).test_client()
    for _ in range(3):
        first.get("/health")
    second.get("/health")
    first_body = first.get("/metrics").get_data(as_text=True)
    second_body = second.get("/metrics").get_data(as_text=True)
    labels = {"method": "GET", "status": "200"}
    assert sample(first_body, "flask_http_request_total", **labels) == 3
    assert sample(second_body, "flask_http_request_total", **labels) == 1
    # Both still show the process-wide business counters.
    for body in (first_body, second_body):
        assert "# TYPE monassurance_policies_created_total counter" in body


def test_metrics_token_is_required_when_configured(build_app, database_url):
    client = build_app(
        SQLALCHEMY_DATABASE_URI=database_url, METRICS_TOKEN="s3cret-scrape"
    ).test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "flask_http" not in refused.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "s3cret-scrape"}).status_code == 401
    allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert allowed.status_code == 200
    assert "flask_http_request_total" in allowed.get_data(as_text=True)
    # The probes stay open: orchestrators do not send tokens.
    assert client.get("/health").status_code == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, timeout: float = 10) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local test server)
        return response.status, response.read().decode()


# Sync workers serve one request at a time: a probe the client gives up on stays queued
# and later requests wait behind it. Patient clients leave no such backlog on a loaded
# machine (the CI runs two test legs side by side on two cores).
_PATIENT = 60


def _probe(url: str) -> int | None:
    """A status, or None when even a patient client gave up."""
    try:
        return _get(url, timeout=_PATIENT)[0]
    except OSError:  # TimeoutError included
        return None


def _worker_pids(folder: Path) -> set[str]:
    return {path.stem.split("_")[-1] for path in folder.glob("*.db")} - {"999999"}


def _requests_per_worker(folder: Path) -> dict[str, float]:
    """flask_http_request_total per worker pid, read from each worker's sample file."""
    from prometheus_client.mmap_dict import MmapedDict

    counts: dict[str, float] = {}
    for path in folder.glob("counter_*.db"):
        pid = path.stem.split("_")[-1]
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if '"flask_http_request_total"' in key:
                counts[pid] = counts.get(pid, 0.0) + value
    return counts


@pytest.mark.slow
@pytest.mark.one_leg
def test_gunicorn_workers_add_up_in_metrics(tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # must be cleared at start
    port = _free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.db'}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
    }
    for name in ("REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL", "METRICS_TOKEN"):
        env.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    served = 0
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                if _get(f"{base}/health")[0] == 200:
                    served += 1
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer /health"
            time.sleep(0.2)

        # Each worker imports the app on its own; under load the second one can take a
        # while. Its first metric file (exporter info, written at start-up) says it is in.
        while len(_worker_pids(metrics_dir)) < 2:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline + 60, _worker_pids(metrics_dir)
            time.sleep(0.2)

        # Concurrent probes until both workers have answered some (bounded in time, not
        # in rounds: on a loaded machine one worker may take every request for a while).
        with ThreadPoolExecutor(max_workers=8) as pool:
            probing_until = time.monotonic() + 90
            while time.monotonic() < probing_until:
                statuses = list(pool.map(lambda _: _probe(f"{base}/health"), range(20)))
                served += statuses.count(200)
                if len([n for n in _requests_per_worker(metrics_dir).values() if n > 0]) >= 2:
                    break
        per_worker = _requests_per_worker(metrics_dir)
        assert len([n for n in per_worker.values() if n > 0]) >= 2, per_worker
        assert "999999" not in per_worker

        # Whichever worker answers the scrape, it reports the sum of both. (A probe the
        # client gave up on may still have been served, hence the files as reference.)
        for _ in range(6):
            status, body = _get(f"{base}/metrics", timeout=_PATIENT)
            assert status == 200
            total = sample(body, "flask_http_request_total", method="GET", status="200")
            assert total == sum(per_worker.values()), (total, per_worker)
            assert total >= served
            assert total > max(per_worker.values())
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    # With LOG_JSON=true every line is JSON: gunicorn's own, the app's, Python warnings.
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(line["logger"] == "gunicorn.error" for line in lines), output
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
