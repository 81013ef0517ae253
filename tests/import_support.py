"""Helpers of the import tests: files to upload, the upload itself, what was written."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Client, Company, Policy
from tests.conftest import csrf_token

POLICY_HEADERS = [
    "Numéro de police",
    "E-mail du client",
    "Assureur",
    "Branche",
    "Statut",
    "Date d'effet",
    "Date d'échéance",
    "Prime",
]
CLIENT_HEADERS = ["E-mail", "Nom", "Prénom", "Ville", "Date de naissance"]


def csv_bytes(headers: list[str], rows: list[list[Any]], *, delimiter: str = ";") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(headers: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change: Any) -> bytes:
    """The workbook with its first sheet's XML passed through ``change`` (bytes -> bytes)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            content = source.read(part.filename)
            if part.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(part, content)
    return buffer.getvalue()


def with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with a lying ``<dimension ref=...>``, as careless (or hostile) writers make."""

    def change(xml: bytes) -> bytes:
        changed, found = re.subn(
            rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), xml
        )
        assert found == 1, xml[:300]
        return changed

    return rewrite_sheet(data, change)


def upload(http: FlaskClient, kind: str, data: bytes, name: str, *, token: bool = True) -> Any:
    """POST the file as the upload form does; returns the response (not followed)."""
    form: dict[str, Any] = {"file": (io.BytesIO(data), name)}
    if token:
        form["csrf_token"] = csrf_token(http, f"/import/{kind}/")
    return http.post(f"/import/{kind}/upload", data=form, content_type="multipart/form-data")


def preview_path(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert re.search(r"/import/\w+/[A-Za-z0-9_-]{32}$", location), location
    return location


def run(http: FlaskClient, preview: str, mode: str) -> Any:
    token = csrf_token(http, "/import/" + preview.split("/import/")[1].split("/")[0] + "/")
    return http.post(f"{preview}/run", data={"csrf_token": token, "mode": mode})


def in_english(http: FlaskClient) -> None:
    """Pages in English: the messages are the msgids, whatever the French catalogue holds."""
    http.get("/lang/en")


def flashes(http: FlaskClient) -> str:
    """The page after a redirect, where the flashed messages show."""
    return http.get("/import/clients/").get_data(as_text=True)


def error_rows(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table[^>]*id="import-errors".*?<tbody>(.*?)</tbody>', page, re.S)
    if table is None:
        return []
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table.group(1))
    return [tuple(cell) for cell in cells]


def count(app: Flask, model: type, organisation_id: int | None = None) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        if organisation_id is not None:
            query = query.where(model.organisation_id == organisation_id)
        return db.session.execute(query).scalar_one()


def import_audits(app: Flask) -> list[AuditLog]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "import").order_by(AuditLog.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


@pytest.fixture
def clean_staging(app: Flask) -> Iterator[None]:
    """The staging folder lives in the session's DATA_DIR: each test starts with it empty."""
    shutil.rmtree(Path(app.config["DATA_DIR"]) / "import-staging", ignore_errors=True)
    yield


def staged_files(app: Flask) -> list[Path]:
    folder = Path(app.config["DATA_DIR"]) / "import-staging"
    return sorted(folder.glob("*.bin")) if folder.exists() else []


def seed_agency(app: Flask, organisation_id: int, clients: int = 10) -> None:
    """Two insurers (codes AXA and GEN) and ``clients`` clients client<i>@example.com."""
    with app.app_context():
        db.session.add_all(
            [
                Company(organisation_id=organisation_id, name="AXA France", code="AXA"),
                Company(organisation_id=organisation_id, name="Generali", code="GEN"),
            ]
        )
        db.session.add_all(
            Client(
                organisation_id=organisation_id,
                last_name=f"Client{i}",
                email=f"client{i}@example.com",
            )
            for i in range(clients)
        )
        db.session.commit()


def policy_row(i: int, clients: int = 10, **changes: Any) -> list[Any]:
    values = {
        "number": f"POL-{i:04d}",
        "email": f"client{i % clients}@example.com",
        "insurer": "AXA" if i % 2 else "Generali",
        "line": "auto" if i % 3 else "Habitation",
        "status": "active",
        "effective": "01/01/2026",
        "expiry": "2026-12-31",
        "premium": f"{100 + i},50",
    }
    values.update(changes)
    return list(values.values())


def policies_of(app: Flask, organisation_id: int) -> dict[str, Policy]:
    with app.app_context():
        rows = db.session.scalars(
            select(Policy).where(Policy.organisation_id == organisation_id)
        ).all()
        db.session.expunge_all()
        return {row.number: row for row in rows}
