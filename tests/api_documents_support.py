"""Helpers shared by the template, document and job API tests (plain functions, no fixtures)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

HTML_BODY = (
    "<html><body><h1>Contrat {{ policy.number }}</h1>\n"
    "<p>{{ client.display_name }}</p>\n"
    "<p>ORIAS {{ organisation.orias_number }}</p></body></html>"
)
SQL_WORDS = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE FROM|psycopg|sqlite3?|constraint|Traceback)\b", re.I
)


def clean_error(response: Any, status: int | tuple[int, ...]) -> Any:
    """A 4xx of ours: the expected status, JSON with a message, no SQL or traceback."""
    statuses = status if isinstance(status, tuple) else (status,)
    text = response.get_data(as_text=True)
    where = f"{response.request.method} {response.request.path} -> {response.status_code} {text}"
    assert response.status_code in statuses, where
    assert response.is_json and "message" in response.json, where
    assert not SQL_WORDS.search(text), where
    return response.json["message"]


def create_template(
    http: FlaskClient, headers: dict[str, str], *, name: str = "Contrat", **fields: Any
) -> int:
    body = {"name": name, "kind": "contract", "output_format": "html", **fields}
    response = http.post("/api/v1/template/", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


def add_version(
    http: FlaskClient,
    headers: dict[str, str],
    template_id: int,
    body: str = HTML_BODY,
    changelog: str | None = None,
) -> dict[str, Any]:
    response = http.post(
        f"/api/v1/template/{template_id}/versions",
        json={"body": body, "changelog": changelog},
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def publish(http: FlaskClient, headers: dict[str, str], template_id: int, number: int) -> None:
    response = http.post(
        f"/api/v1/template/{template_id}/publish", json={"version": number}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def published_template(
    http: FlaskClient,
    headers: dict[str, str],
    *,
    name: str = "Contrat",
    body: str = HTML_BODY,
    **fields: Any,
) -> int:
    """A template of the caller's agency with version 1 published."""
    template_id = create_template(http, headers, name=name, **fields)
    add_version(http, headers, template_id, body)
    publish(http, headers, template_id, 1)
    return template_id


def generate(
    http: FlaskClient, headers: dict[str, str], template_id: int, policy_id: int, **options: Any
) -> Any:
    return http.post(
        "/api/v1/document/generate",
        json={"template_id": template_id, "policy_id": policy_id, **options},
        headers=headers,
    )


def generated(
    http: FlaskClient, headers: dict[str, str], template_id: int, policy_id: int, **options: Any
) -> dict[str, Any]:
    """Generate one document (tasks run inline in tests) and return it as the API shows it."""
    response = generate(http, headers, template_id, policy_id, **options)
    assert response.status_code == 202, response.get_data(as_text=True)
    shown = http.get(response.headers["Location"], headers=headers)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    return shown.json["result"]
