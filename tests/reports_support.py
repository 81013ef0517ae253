"""Helpers of the report tests: a small portfolio in two agencies, and reading XLSX back."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from app.extensions import db
from app.models import (
    AppUser,
    Client,
    Company,
    Document,
    Job,
    LineOfBusiness,
    Policy,
    PolicyStatus,
)
from app.services.storage import file_store


def seed_policies(app: Any, organisation_id: int, prefix: str = "P") -> dict[str, Any]:
    """Two insurers, one client, five policies over three months (EUR and one USD)."""
    with app.app_context():
        axa = Company(organisation_id=organisation_id, name=f"{prefix} Axa", code=f"{prefix}AX")
        maif = Company(organisation_id=organisation_id, name=f"{prefix} Maif", code=f"{prefix}MF")
        client = Client(organisation_id=organisation_id, first_name="Jeanne", last_name="Martin")
        db.session.add_all([axa, maif, client])
        db.session.flush()
        specs = [
            (axa, LineOfBusiness.auto, "100.00", "EUR", dt.date(2026, 1, 5)),
            (axa, LineOfBusiness.home, "200.50", "EUR", dt.date(2026, 1, 20)),
            (maif, LineOfBusiness.auto, "300.25", "EUR", dt.date(2026, 2, 1)),
            (maif, LineOfBusiness.auto, "50.00", "USD", dt.date(2026, 3, 15)),
            (axa, LineOfBusiness.life, "1000.00", "EUR", dt.date(2026, 3, 31)),
        ]
        for index, (company, line, premium, currency, effective) in enumerate(specs, start=1):
            db.session.add(
                Policy(
                    organisation_id=organisation_id,
                    number=f"{prefix}-{index:03d}",
                    client_id=client.id,
                    company_id=company.id,
                    line_of_business=line,
                    status=PolicyStatus.active,
                    effective_date=effective,
                    expiry_date=effective + dt.timedelta(days=365),
                    premium=Decimal(premium),
                    currency=currency,
                )
            )
        db.session.commit()
        return {"axa": axa.id, "maif": maif.id, "client": client.id}


def job_row(app: Any, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def user_row(app: Any, username: str) -> AppUser:
    with app.app_context():
        user = db.session.query(AppUser).filter_by(username=username).one()
        user.roles  # noqa: B018 (loaded before the session closes)
        db.session.expunge(user)
        return user


def workbook_of(app: Any, document_id: int) -> Any:
    """The delivered document's bytes, opened with openpyxl."""
    with app.app_context():
        document = db.session.get(Document, document_id)
        data = file_store().get(document.storage_key, compressed=False, encrypted=False)
    return load_workbook(io.BytesIO(data), read_only=True)


def sheet_rows(workbook: Any, index: int) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in workbook.worksheets[index].iter_rows(values_only=True)]


def fr(app: Any, msgid: str) -> str:
    """The French text of ``msgid`` as the app translates it now (the catalogue may lag)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("fr"):
        return gettext(msgid)
