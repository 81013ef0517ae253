"""How long a request may be: the app answers every ``q`` it refuses, the server the rest.

The app refuses a ``q`` over MAX_Q_LENGTH characters with its JSON 400. gunicorn.conf.py
(also read by run.py's gunicorn) lets request lines of SERVER_REQUEST_LINE_LIMIT bytes
through, so such a ``q`` reaches the app; gunicorn's own HTML 414 answers longer lines
only, and the spec documents it, like the 429 of the shared rate limit and the 403 of a
role without the permission.
"""

from __future__ import annotations

import ast
import os
import sys
import urllib.error
import urllib.request

import pytest
from gunicorn.http.message import MAX_REQUEST_LINE

from app.api.guards import MAX_Q_LENGTH
from app.api.json_guard import MAX_BODY_BYTES
from app.api.openapi import OPERATIONS, SERVER_REQUEST_LINE_LIMIT
from app.api.query import MAX_FILTER_TEXT
from tests.processes import ROOT, Proc, clean_env, flask, free_port, wait_for_http
from tests.test_api_openapi import check, resolve

LIST = "/api/v1/policy/"


def long_q(length: int) -> str:
    """A filter the app accepts (numbers "in" a list), of exactly ``length`` characters,
    none of them percent-encoded."""
    head, tail = "(filters:!((col:number,opr:in,value:!(", "))))"
    room = length - len(head) - len(tail)  # for values of MAX_FILTER_TEXT at most, and commas
    sizes = [MAX_FILTER_TEXT] * -(-(room + 1) // (MAX_FILTER_TEXT + 1))
    sizes[-1] = room - (MAX_FILTER_TEXT + 1) * (len(sizes) - 1)
    if sizes[-1] == 0:  # no room left for the last value: take one from the first
        sizes[0], sizes[-1] = sizes[0] - 1, 1
    return head + ",".join("x" * size for size in sizes) + tail


def get(url: str) -> tuple[int, str, str]:
    """GET ``url`` as is; returns (status, content type, body)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, response.headers.get_content_type(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read().decode()


def assert_request_line_limits(base_url: str) -> None:
    """Through a real server at ``base_url`` (ending in /): who answers which length."""
    # The longest q the app takes: past gunicorn's default line limit (4094), it reaches the
    # app, which asks for a token (any answer of the app's proves it).
    status, kind, _body = get(base_url + LIST[1:] + "?q=" + long_q(MAX_Q_LENGTH))
    assert (status, kind) == (401, "application/json")
    # One character more: the app's JSON 400, which names the limit.
    status, kind, body = get(base_url + LIST[1:] + "?q=" + long_q(MAX_Q_LENGTH + 1))
    assert (status, kind) == (400, "application/json")
    assert str(MAX_Q_LENGTH) in body
    # Past the server's limit: gunicorn's HTML 414, as the spec says.
    request_line = len(f"GET {LIST}?q= HTTP/1.1")
    too_long = long_q(SERVER_REQUEST_LINE_LIMIT - request_line + 1)
    status, kind, _body = get(base_url + LIST[1:] + "?q=" + too_long)
    assert (status, kind) == (414, "text/html")


def test_a_q_over_its_limit_answers_the_apps_json_400(http, make_user, auth_headers):
    headers = auth_headers(make_user("USER"))
    accepted = http.get(LIST, query_string={"q": long_q(MAX_Q_LENGTH)}, headers=headers)
    assert accepted.status_code == 200
    refused = http.get(LIST, query_string={"q": long_q(MAX_Q_LENGTH + 1)}, headers=headers)
    assert refused.status_code == 400
    assert refused.json["message"] == (
        f"L'argument q est trop long : {MAX_Q_LENGTH} caractères au plus."
    )


def gunicorn_setting(name: str) -> object:
    """A setting of gunicorn.conf.py, read without running the file (it has side effects)."""
    for node in ast.parse((ROOT / "gunicorn.conf.py").read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            name
        ]:
            return ast.literal_eval(node.value)
    return None


def test_gunicorn_conf_lets_every_q_the_app_reads_through():
    limit = gunicorn_setting("limit_request_line")
    # What the spec says, and no more than gunicorn honours (it cuts larger values down).
    assert limit == SERVER_REQUEST_LINE_LIMIT <= MAX_REQUEST_LINE
    longest_refusal = f"GET /api/v1/organisation/_info?q={'x' * (MAX_Q_LENGTH + 1)} HTTP/1.1"
    assert len(longest_refusal) <= limit


@pytest.mark.slow
@pytest.mark.one_leg  # its own SQLite database: the request line is gunicorn's business
def test_gunicorn_answers_long_request_lines_as_the_spec_says(tmp_path):
    port = free_port()
    env = clean_env(
        tmp_path / "data",
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'limits.db'}",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    env.pop("TEST_DATABASE_URL", None)
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"])
    migrated = flask("db", "upgrade", env=env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    server = Proc(command, env, tmp_path / "logs", "gunicorn")
    try:
        base_url = f"http://127.0.0.1:{port}/"
        wait_for_http(base_url + "health", 90, server)
        assert_request_line_limits(base_url)
    finally:
        server.kill()


def test_the_spec_documents_the_answers_every_operation_may_give(http, make_user, auth_headers):
    spec = http.get("/api/v1/_openapi", headers=auth_headers(make_user("SUPERADMIN"))).json
    components = spec["components"]["responses"]
    assert str(SERVER_REQUEST_LINE_LIMIT) in components["414"]["description"]
    assert set(components["414"]["content"]) == {"text/html"}
    for code in ("429", "503"):
        assert "Retry-After" in components[code]["headers"]
    seen = set()
    for path, item in spec["paths"].items():
        for method in set(item) & set(OPERATIONS):
            operation, where = item[method], (method, path)
            documented = set(operation["responses"])
            seen.add(f"{method.upper()} {path}")
            assert {"429", "503"} <= documented, where
            if operation.get("security"):
                assert {"401", "403"} <= documented, where
            if "requestBody" in operation:
                assert {"400", "413"} <= documented, where
            locations = {p["in"] for p in operation.get("parameters", [])}
            if locations & {"path", "query"}:
                assert "414" in documented, where
            if "query" in locations:
                assert "400" in documented, where
    assert {"GET /api/v1/policy/", "GET /api/v1/policy/_info", "POST /api/v1/policy/"} <= seen
    # Login's 429 now says what its body is, like every other one.
    login = spec["paths"]["/api/v1/security/login"]["post"]["responses"]["429"]
    assert resolve(login, spec)["content"]["application/json"]["schema"]["required"] == ["message"]


def test_a_body_over_the_cap_answers_a_documented_413(http, make_user, auth_headers):
    headers = auth_headers(make_user("SUPERADMIN"))
    spec = http.get("/api/v1/_openapi", headers=headers).json
    body = {"name": "x" * (MAX_BODY_BYTES + 1)}
    for path in ("/api/v1/auth/api-keys", "/api/v1/template/"):
        refused = http.post(path, json=body, headers=headers)
        assert refused.status_code == 413
        check(spec, path, "post", 413, refused.json)
