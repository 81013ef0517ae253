"""POST /api/v1/policy/ stays cheap without checking less (docs/benchmarks.md, issue 19).

- Loading the body asks nothing of the installed packages' metadata (marshmallow-sqlalchemy
  looked its own dependency's version up on every load).
- The organisation scope of the client and insurer ids is still checked on every create,
  from the reference map read once per model.
- The statements a create sends: the ones the bare app sends, plus FAB's Public-role
  question and the body read back for the answer.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Client, Company, Policy, RenewalCycle, Term
from tests.test_api_perf_queries import statements

CREATE = "/api/v1/policy/"
# Public role, session + user, user's permissions, client and insurer in the agency,
# organisation, policy, term, cycle, audit entries, the policy read back.
CREATE_STATEMENT_BUDGET = 11


@pytest.fixture
def agency(app: Flask, make_organisation: Any, make_user: Any, auth_headers: Any) -> dict:
    own, neighbour = make_organisation(), make_organisation()
    with app.app_context():
        ids = {}
        for name, org in (("own", own), ("neighbour", neighbour)):
            client = Client(organisation_id=org, first_name="Anne", last_name="Roy")
            company = Company(organisation_id=org, name=f"Assureur {name}", code=f"C{org}")
            db.session.add_all([client, company])
            db.session.flush()
            ids[name] = (client.id, company.id)
        db.session.commit()
    username = make_user("USER", own)
    return {
        "organisation_id": own,
        "ids": ids,
        "username": username,
        "headers": auth_headers(username),
    }


def body(client_id: int, company_id: int, number: str) -> dict[str, Any]:
    today = dt.date.today()
    return {
        "number": number,
        "client_id": client_id,
        "company_id": company_id,
        "line_of_business": "auto",
        "status": "active",
        "effective_date": (today - dt.timedelta(days=300)).isoformat(),
        "expiry_date": (today + dt.timedelta(days=65)).isoformat(),
        "premium": "420.50",
    }


def test_a_create_does_not_read_package_metadata(app, http, agency, monkeypatch):
    def refuse(name: str) -> str:
        raise AssertionError(f"importlib.metadata.version({name!r}) during a request")

    monkeypatch.setattr(importlib.metadata, "version", refuse)
    response = http.post(
        CREATE, json=body(*agency["ids"]["own"], "COST-1"), headers=agency["headers"]
    )
    assert response.status_code == 201, response.json
    assert response.json["result"]["premium"] == "420.50"


@pytest.mark.parametrize("which", ["client_id", "company_id"])
def test_a_neighbours_reference_is_still_refused(app, http, agency, which):
    own_client, own_company = agency["ids"]["own"]
    other_client, other_company = agency["ids"]["neighbour"]
    ids = {"client_id": own_client, "company_id": own_company}
    ids[which] = other_client if which == "client_id" else other_company
    response = http.post(
        CREATE, json=body(ids["client_id"], ids["company_id"], "COST-2"), headers=agency["headers"]
    )
    assert response.status_code == 422, response.json
    assert which in response.json["message"]
    with app.app_context():
        assert db.session.scalar(select(Policy.id).where(Policy.number == "COST-2")) is None


def test_a_create_keeps_its_rows_and_its_statement_budget(app, http, agency):
    with statements(app) as sent:
        response = http.post(
            CREATE, json=body(*agency["ids"]["own"], "COST-3"), headers=agency["headers"]
        )
    assert response.status_code == 201, response.json
    assert len(sent) <= CREATE_STATEMENT_BUDGET, "\n".join(sent)
    policy_id = response.json["id"]
    with app.app_context():
        terms = db.session.scalars(select(Term).where(Term.policy_id == policy_id)).all()
        cycles = db.session.scalars(
            select(RenewalCycle).where(RenewalCycle.policy_id == policy_id)
        ).all()
        rows = db.session.execute(
            select(AuditLog).where(AuditLog.username == agency["username"])
        ).scalars()
        written = [entry for entry in rows if entry.object_type != "User"]  # logins
    assert len(written) == 3, [(entry.action, entry.object_type) for entry in written]
    entries = {entry.object_type: entry for entry in written}
    assert [(t.sequence, str(t.premium)) for t in terms] == [(1, "420.50")]
    assert [c.organisation_id for c in cycles] == [agency["organisation_id"]]
    # One entry per row the create wrote, each naming the request's user, agency and request.
    assert set(entries) == {"Policy", "Term", "RenewalCycle"}
    assert {entry.action for entry in entries.values()} == {"create"}
    assert len({entry.request_id for entry in entries.values()}) == 1
    for entry in entries.values():
        assert entry.user_id is not None and entry.organisation_id == agency["organisation_id"]
        assert entry.request_id and entry.ip
    assert entries["Policy"].object_id == str(policy_id)
    assert entries["Policy"].changes["premium"] == [None, "420.50"]
    assert entries["Term"].changes["sequence"] == [None, 1]
    assert entries["Term"].object_id == str(terms[0].id)
    assert entries["RenewalCycle"].object_id == str(cycles[0].id)
