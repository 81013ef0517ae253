"""The load benchmark's hand-written doors do the API's work (bench/handwritten.py).

docs/benchmarks.md compares PolicyApi with these endpoints; the comparison only
means something while they answer the same bodies, keep to the agency, and write
through the same domain rules (terms, audit, same-agency references).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditLog, Policy, Term
from tests.conftest import TEST_REDIS_URL, api_token, make_config

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench_app(app: Any, database_url: str) -> Any:
    """An app of its own (the shared one has served requests: no new blueprints there)."""
    sys.path.insert(0, str(BENCH))
    try:
        from handwritten import create_blueprint
    finally:
        sys.path.remove(str(BENCH))
    application = create_app(
        make_config(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=TEST_REDIS_URL)
    )
    application.register_blueprint(create_blueprint(application, rate_limited=True))
    return application


def _new_policy(ids: dict[str, int], number: str) -> dict[str, Any]:
    return {
        "number": number,
        "client_id": ids["client"],
        "company_id": ids["company"],
        "line_of_business": "home",
        "status": "active",
        "effective_date": "2026-03-01",
        "expiry_date": "2027-03-01",
        "premium": "612.40",
        "currency": "EUR",
        "payment_frequency": "quarterly",
        "notice_months": 3,
    }


def test_read_and_list_answer_the_apis_bodies(bench_app, make_user, make_organisation, portfolio):
    organisation = make_organisation()
    ids = portfolio(organisation, "1")
    portfolio(organisation, "2")
    client = bench_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, make_user('USER', organisation))}"}

    for fab, hand in [
        (f"/api/v1/policy/{ids['policy']}", f"/bench/policy/{ids['policy']}"),
        ("/api/v1/policy/", "/bench/policy/"),
        ("/api/v1/policy/?q=(page:1,page_size:1)", "/bench/policy/?q=(page:1,page_size:1)"),
    ]:
        fab_answer = client.get(fab, headers=headers)
        hand_answer = client.get(hand, headers=headers)
        assert fab_answer.status_code == hand_answer.status_code == 200
        assert fab_answer.json == hand_answer.json, fab


def test_another_agencys_policy_is_not_found_through_either_door(
    bench_app, make_user, make_organisation, portfolio
):
    mine, theirs = make_organisation(), make_organisation()
    portfolio(mine, "1")
    foreign = portfolio(theirs, "2")["policy"]
    client = bench_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, make_user('USER', mine))}"}
    assert client.get(f"/api/v1/policy/{foreign}", headers=headers).status_code == 404
    assert client.get(f"/bench/policy/{foreign}", headers=headers).status_code == 404
    listed = client.get("/bench/policy/", headers=headers).json
    assert foreign not in listed["ids"] and listed["count"] == 1


def test_create_does_the_apis_domain_work(bench_app, make_user, make_organisation, portfolio):
    organisation, other = make_organisation(), make_organisation()
    ids = portfolio(organisation, "1")
    foreign_client = portfolio(other, "2")["client"]
    client = bench_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, make_user('USER', organisation))}"}

    fab = client.post("/api/v1/policy/", json=_new_policy(ids, "NEW-FAB"), headers=headers)
    hand = client.post("/bench/policy/", json=_new_policy(ids, "NEW-HAND"), headers=headers)
    assert fab.status_code == hand.status_code == 201
    fab_result, hand_result = fab.json["result"], hand.json["result"]
    assert fab_result.pop("number") == "NEW-FAB"
    assert hand_result.pop("number") == "NEW-HAND"
    assert fab_result == hand_result

    with bench_app.app_context():
        for answer in (fab, hand):
            policy = db.session.get(Policy, answer.json["id"])
            assert policy.organisation_id == organisation
            terms = db.session.scalar(
                select(func.count()).select_from(Term).where(Term.policy_id == policy.id)
            )
            assert terms == 1  # the term listener ran
            audited = db.session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.object_type == "Policy", AuditLog.object_id == str(policy.id))
            )
            assert audited >= 1

    # The same refusals: another agency's client, a broken invariant, a duplicate number.
    refused = [
        {**_new_policy(ids, "X1"), "client_id": foreign_client},
        {**_new_policy(ids, "X2"), "expiry_date": "2025-01-01"},
        _new_policy(ids, "NEW-FAB"),
    ]
    for body in refused:
        for path in ("/api/v1/policy/", "/bench/policy/"):
            assert client.post(path, json=body, headers=headers).status_code == 422, (path, body)
