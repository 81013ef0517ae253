"""/api/v1/renewal/ through the doors: lists, proposals, renewals and the avis d'échéance.

Each agency sees its own renewals (another's id answers 404, in a batch too); a contract
renewed twice keeps its number and has three terms; a late avis opens the Chatel window;
every role works renewals one by one, and only MANAGER and above in bulk.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import prison
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Client,
    Company,
    Document,
    Job,
    LineOfBusiness,
    Policy,
    PolicyStatus,
    RenewalCycle,
    RenewalStatus,
    Term,
)
from app.services.renewals import cycles
from app.services.templates import load_builtin_templates
from app.services.timezones import local_today, zone
from tests.api_documents_support import clean_error
from tests.test_screens_support import counted_queries

ROUTE = "/api/v1/renewal"


@pytest.fixture
def agency(make_organisation):
    return make_organisation()


@pytest.fixture
def other_agency(make_organisation):
    return make_organisation()


@pytest.fixture
def user(make_user, agency):
    return make_user("USER", agency)


@pytest.fixture
def manager(make_user, agency):
    return make_user("MANAGER", agency)


@pytest.fixture
def as_user(auth_headers, user):
    return auth_headers(user)


@pytest.fixture
def as_manager(auth_headers, manager):
    return auth_headers(manager)


@pytest.fixture
def templates(app):
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()


def contract(
    app,
    organisation_id: int,
    number: str,
    *,
    line: LineOfBusiness = LineOfBusiness.auto,
    echeance: dt.date = dt.date(2026, 12, 10),
    premium: str = "1000.00",
    insurer: str = "MRA",
    tacit: bool = True,
) -> int:
    """A contract renewing on ``echeance``, with the cycle of that échéance; its cycle id."""
    with app.app_context():
        company = db.session.scalar(
            select(Company).where(
                Company.organisation_id == organisation_id, Company.code == insurer
            )
        ) or Company(organisation_id=organisation_id, name=f"Assureur {insurer}", code=insurer)
        client = Client(organisation_id=organisation_id, first_name="Camille", last_name="Dupont")
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number=number,
            client_id=client.id,
            company_id=company.id,
            line_of_business=line,
            status=PolicyStatus.active,
            effective_date=echeance.replace(year=echeance.year - 1),
            expiry_date=echeance,
            premium=Decimal(premium),
            tacit_renewal=tacit,
        )
        db.session.add(policy)
        db.session.flush()
        cycle = cycles.cycle_for(policy)
        db.session.commit()
        return cycle.id


def listing(http, headers, **q):
    response = http.get(f"{ROUTE}/", query_string={"q": prison.dumps(q)}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def numbers(http, headers, *filters):
    body = listing(
        http, headers, filters=[dict(zip(("col", "opr", "value"), f, strict=True)) for f in filters]
    )
    return sorted(row["policy"]["number"] for row in body["result"])


def row(app, cycle_id: int) -> RenewalCycle:
    with app.app_context():
        cycle = db.session.get(RenewalCycle, cycle_id)
        db.session.expunge(cycle)
        return cycle


def terms_of(app, number: str) -> list[tuple[int, dt.date, dt.date, Decimal]]:
    with app.app_context():
        policy = db.session.scalar(select(Policy).where(Policy.number == number))
        return [(t.sequence, t.start_date, t.end_date, t.premium) for t in policy.terms]


# --- lists and filters ---------------------------------------------------------------


def test_the_list_shows_the_agencys_renewals_only(app, http, as_user, agency, other_agency):
    mine = contract(app, agency, "A-1")
    contract(app, other_agency, "B-1")
    body = listing(http, as_user)
    assert body["count"] == 1 and body["ids"] == [mine]
    (only,) = body["result"]
    assert only["policy"]["number"] == "A-1"
    assert only["echeance"] == "2026-12-10" and only["last_day_to_refuse"] == "2026-10-10"
    assert only["previous_premium"] == "1000.00" and only["status"] == "open"
    shown = http.get(f"{ROUTE}/{mine}", headers=as_user)
    assert shown.status_code == 200 and shown.json["result"]["policy"]["number"] == "A-1"


def test_filters_by_echeance_status_decision_avis_insurer_line_and_change(
    app, http, as_user, agency
):
    near = contract(app, agency, "NEAR", echeance=dt.date(2026, 12, 10))
    contract(app, agency, "FAR", echeance=dt.date(2027, 2, 10), insurer="AXA")
    home = contract(app, agency, "HOME", line=LineOfBusiness.home, echeance=dt.date(2027, 1, 5))
    with app.app_context():
        cycle = db.session.get(RenewalCycle, near)
        cycles.propose(cycle, proposed_premium=Decimal("1100.00"))
        cycles.record_notice(cycle, sent_on=dt.date(2026, 9, 1))
        other = db.session.get(RenewalCycle, home)
        cycles.propose(other, proposed_premium=Decimal("990.00"), decision=None)
        company_axa = db.session.scalar(select(Company.id).where(Company.code == "AXA"))
        db.session.commit()

    in_range = numbers(
        http, as_user, ("echeance", "gt", "2026-12-31"), ("echeance", "lt", "2027-02-01")
    )
    assert in_range == ["HOME"]
    assert numbers(http, as_user, ("avis_sent", "eq", True)) == ["NEAR"]
    assert numbers(http, as_user, ("avis_sent", "eq", False)) == ["FAR", "HOME"]
    assert numbers(http, as_user, ("company_id", "eq", company_axa)) == ["FAR"]
    assert numbers(http, as_user, ("company_id", "neq", company_axa)) == ["HOME", "NEAR"]
    assert numbers(http, as_user, ("line_of_business", "eq", "home")) == ["HOME"]
    assert numbers(http, as_user, ("line_of_business", "in", ["auto", "home"])) == [
        "FAR",
        "HOME",
        "NEAR",
    ]
    assert numbers(http, as_user, ("change_percent", "gt", "5")) == ["NEAR"]
    assert numbers(http, as_user, ("status", "eq", "open")) == ["FAR", "HOME", "NEAR"]

    # The filters FAB lists in _info include the contract's.
    info = http.get(f"{ROUTE}/_info", headers=as_user).json
    assert {"company_id", "line_of_business", "avis_sent"} <= set(info["filters"])
    assert {c["name"] for c in info["edit_columns"]} == {
        "proposed_premium",
        "decision",
        "decision_reason",
    }

    for bad in (
        ("avis_sent", "eq", "yes"),
        ("avis_sent", "gt", True),
        ("line_of_business", "eq", "boat"),
        ("company_id", "eq", "x"),
        ("decision", "eq", "maybe"),
        ("echeance", "gt", "31/12/2026"),
    ):
        q = prison.dumps({"filters": [dict(zip(("col", "opr", "value"), bad, strict=True))]})
        response = http.get(f"{ROUTE}/", query_string={"q": q}, headers=as_user)
        clean_error(response, 400)


# --- PUT: proposed premium and decision ---------------------------------------------------


def test_put_proposes_a_premium_and_a_decision(app, http, as_user, agency):
    cycle_id = contract(app, agency, "PUT-1")
    response = http.put(
        f"{ROUTE}/{cycle_id}",
        json={"proposed_premium": "1072.50", "decision": "renew", "decision_reason": "Sinistres"},
        headers=as_user,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.json["result"]
    assert (result["proposed_premium"], result["change_percent"]) == ("1072.50", "7.25")
    assert (result["decision"], result["decision_reason"]) == ("renew", "Sinistres")
    cleared = http.put(f"{ROUTE}/{cycle_id}", json={"decision_reason": None}, headers=as_user)
    assert cleared.status_code == 200
    assert cleared.json["result"]["decision_reason"] is None
    assert cleared.json["result"]["proposed_premium"] == "1072.50"  # left out: unchanged


@pytest.mark.parametrize("premium", ["0", "-10.00", 0])
def test_put_refuses_a_premium_of_zero_or_less_and_changes_nothing(
    app, http, as_user, agency, premium
):
    cycle_id = contract(app, agency, "PUT-0")
    response = http.put(
        f"{ROUTE}/{cycle_id}",
        json={"proposed_premium": premium, "decision": "not_renew"},
        headers=as_user,
    )
    message = clean_error(response, 422)
    assert "proposed_premium" in message
    cycle = row(app, cycle_id)
    assert (cycle.proposed_premium, cycle.decision, cycle.change_percent) == (None, None, None)


def test_put_refuses_unknown_fields_and_values(app, http, as_user, agency):
    cycle_id = contract(app, agency, "PUT-X")
    for body in ({"decision": "maybe"}, {"status": "renewed"}, {"proposed_premium": "1.001"}):
        clean_error(http.put(f"{ROUTE}/{cycle_id}", json=body, headers=as_user), 422)
    assert row(app, cycle_id).status is RenewalStatus.open


def test_deciding_to_renew_a_contract_not_tacitly_renewed_is_refused(app, http, as_user, agency):
    cycle_id = contract(app, agency, "NOTACIT", tacit=False)
    message = clean_error(
        http.put(f"{ROUTE}/{cycle_id}", json={"decision": "renew"}, headers=as_user), 422
    )
    assert "tacite reconduction" in message  # the API speaks the agency's French
    assert row(app, cycle_id).decision is None


# --- renew ----------------------------------------------------------------------------------


def test_a_contract_renewed_twice_keeps_its_number_and_has_three_terms(app, http, as_user, agency):
    first = contract(app, agency, "AUTO-0001", premium="1000.00")
    http.put(f"{ROUTE}/{first}", json={"proposed_premium": "1050.00"}, headers=as_user)
    renewed = http.post(f"{ROUTE}/{first}/renew", headers=as_user)
    assert renewed.status_code == 201, renewed.get_data(as_text=True)
    term = renewed.json["term"]
    assert (term["sequence"], term["start_date"], term["end_date"]) == (
        2,
        "2026-12-10",
        "2027-12-10",
    )
    assert term["premium"] == "1050.00" and renewed.json["created"] is True
    # Asked again (a lost answer): the same term, nothing added.
    again = http.post(f"{ROUTE}/{first}/renew", headers=as_user)
    assert again.status_code == 200 and again.json["term"] == term
    assert row(app, first).status is RenewalStatus.renewed

    with app.app_context():  # next year's cycle (the daily task would open it)
        policy = db.session.scalar(select(Policy).where(Policy.number == "AUTO-0001"))
        cycle = cycles.cycle_for(policy)
        db.session.commit()
        second = cycle.id
    assert http.post(f"{ROUTE}/{second}/renew", headers=as_user).status_code == 201
    assert terms_of(app, "AUTO-0001") == [
        (1, dt.date(2025, 12, 10), dt.date(2026, 12, 10), Decimal("1000.00")),
        (2, dt.date(2026, 12, 10), dt.date(2027, 12, 10), Decimal("1050.00")),
        (3, dt.date(2027, 12, 10), dt.date(2028, 12, 10), Decimal("1050.00")),
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Policy)) == 1


def test_renewing_a_cancelled_or_not_tacit_contract_is_refused_with_its_reason(
    app, http, as_user, agency
):
    cancelled = contract(app, agency, "GONE")
    with app.app_context():
        policy = db.session.scalar(select(Policy).where(Policy.number == "GONE"))
        policy.status = PolicyStatus.cancelled
        db.session.commit()
    not_tacit = contract(app, agency, "ONEYEAR", tacit=False)
    decided = contract(app, agency, "LEAVING")
    http.put(f"{ROUTE}/{decided}", json={"decision": "not_renew"}, headers=as_user)

    # The cancelled contract's cycle was closed with it: no longer open.
    assert "plus ouvert" in clean_error(
        http.post(f"{ROUTE}/{cancelled}/renew", headers=as_user), 409
    )
    assert "tacite" in clean_error(http.post(f"{ROUTE}/{not_tacit}/renew", headers=as_user), 422)
    assert "refusé" in clean_error(http.post(f"{ROUTE}/{decided}/renew", headers=as_user), 409)
    for number in ("GONE", "ONEYEAR", "LEAVING"):
        assert len(terms_of(app, number)) == 1


def test_the_batch_renews_all_or_none(app, http, as_manager, agency):
    ids = [contract(app, agency, f"BATCH-{n}") for n in range(3)]
    refused = contract(app, agency, "BATCH-NO", tacit=False)
    response = http.post(f"{ROUTE}/renew-batch", json={"ids": [*ids, refused]}, headers=as_manager)
    message = clean_error(response, 422)
    assert "BATCH-NO" in message["ids"][0]
    assert all(len(terms_of(app, f"BATCH-{n}")) == 1 for n in range(3))

    response = http.post(f"{ROUTE}/renew-batch", json={"ids": ids}, headers=as_manager)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["count"] == 3
    assert [r["id"] for r in response.json["result"]] == ids
    assert all(r["term"]["sequence"] == 2 for r in response.json["result"])
    assert all(len(terms_of(app, f"BATCH-{n}")) == 2 for n in range(3))

    for body in ({"ids": []}, {"ids": ["1"]}, {"ids": [0]}, {}, {"ids": list(range(1, 1002))}):
        clean_error(http.post(f"{ROUTE}/renew-batch", json=body, headers=as_manager), 422)


# --- the avis d'échéance ------------------------------------------------------------------


def test_notice_generates_the_avis_and_records_it_sent(app, http, as_user, agency, templates):
    cycle_id = contract(app, agency, "AVIS-1")
    response = http.post(
        f"{ROUTE}/{cycle_id}/notice",
        json={"sent_on": "2026-09-01", "channel": "email"},
        headers=as_user,
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.json
    assert (body["avis_sent_on"], body["chatel_window_end"]) == ("2026-09-01", None)
    assert response.headers["Location"] == f"/api/v1/document/{body['document_id']}"
    cycle = row(app, cycle_id)
    assert (cycle.avis_sent_on, cycle.avis_channel.value) == (dt.date(2026, 9, 1), "email")
    assert cycle.avis_document_id == body["document_id"]
    with app.app_context():
        document = db.session.get(Document, body["document_id"])
        assert document.policy_id == cycle.policy_id and document.organisation_id == agency
    follow = http.get(response.headers["Location"], headers=as_user)
    assert follow.status_code == 200


def test_a_late_notice_opens_the_chatel_window(app, http, as_user, agency, templates):
    cycle_id = contract(app, agency, "AVIS-LATE")  # last day to refuse: 10 Oct 2026
    response = http.post(
        f"{ROUTE}/{cycle_id}/notice", json={"sent_on": "2026-12-07"}, headers=as_user
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json["chatel_window_end"] == "2026-12-27"
    assert row(app, cycle_id).chatel_window_end == dt.date(2026, 12, 27)
    shown = http.get(f"{ROUTE}/{cycle_id}", headers=as_user).json["result"]
    assert shown["chatel_window_end"] == "2026-12-27"


def test_a_notice_after_the_echeance_is_refused_and_records_nothing(
    app, http, as_user, agency, templates
):
    cycle_id = contract(app, agency, "AVIS-AFTER")
    message = clean_error(
        http.post(f"{ROUTE}/{cycle_id}/notice", json={"sent_on": "2026-12-11"}, headers=as_user),
        422,
    )
    assert "sent_on" in message
    assert row(app, cycle_id).avis_sent_on is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_a_notice_dated_tomorrow_is_refused_and_records_nothing(
    app, http, as_user, as_manager, agency, templates
):
    cycle_id = contract(app, agency, "AVIS-TOMORROW")
    # The agency's tomorrow (Paris): UTC's is still its today for an hour or two each night.
    tomorrow = (local_today(zone(None)) + dt.timedelta(days=1)).isoformat()
    for path, body, headers in (
        (f"{ROUTE}/{cycle_id}/notice", {"sent_on": tomorrow}, as_user),
        (f"{ROUTE}/notice-batch", {"ids": [cycle_id], "sent_on": tomorrow}, as_manager),
    ):
        assert "sent_on" in clean_error(http.post(path, json=body, headers=headers), 422)
    assert row(app, cycle_id).avis_sent_on is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_the_notice_batch_makes_one_job(app, http, as_manager, agency, templates):
    ids = [contract(app, agency, f"AVIS-B{n}") for n in range(3)]
    response = http.post(
        f"{ROUTE}/notice-batch", json={"ids": ids, "sent_on": "2026-09-15"}, headers=as_manager
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json["total"] == 3
    job_id = response.json["job_id"]
    assert response.headers["Location"] == f"/api/v1/job/{job_id}"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1
        documents = dict(
            db.session.execute(
                select(Document.policy_id, Document.id).where(Document.job_id == job_id)
            ).all()
        )
        for cycle_id in ids:
            cycle = db.session.get(RenewalCycle, cycle_id)
            assert cycle.avis_sent_on == dt.date(2026, 9, 15)
            assert cycle.avis_document_id == documents[cycle.policy_id]
    job = http.get(response.headers["Location"], headers=as_manager).json
    assert job["progress"]["total"] == 3


def test_the_notice_batch_reads_its_cycles_in_a_fixed_number_of_queries(
    app, http, as_manager, agency, templates, monkeypatch
):
    """Recording 2 or 8 avis costs the same statements: no query per cycle (1,000 took
    33 s in one request before the cycles' contracts were loaded with them)."""
    from app.tasks.queue import huey

    monkeypatch.setattr(huey, "_immediate", False)  # the renders are not this request's
    monkeypatch.setattr(huey, "enqueue", lambda task: None)

    def statements_for(count: int, prefix: str) -> int:
        ids = [contract(app, agency, f"{prefix}{n}") for n in range(count)]
        body = {"ids": ids, "sent_on": "2026-09-15"}
        with counted_queries(app) as statements:
            response = http.post(f"{ROUTE}/notice-batch", json=body, headers=as_manager)
        assert response.status_code == 202, response.get_data(as_text=True)
        # SQLite inserts rows whose ids it generates one statement each (it does not keep
        # RETURNING in order); PostgreSQL batches them. The rest must not grow.
        return sum(not s.startswith("INSERT INTO document") for s in statements)

    statements_for(1, "WARM-")  # FAB's per-process caches
    assert statements_for(2, "FEW-") == statements_for(8, "MANY-")


# --- scope and roles -----------------------------------------------------------------------


def test_another_agencys_renewal_answers_404_everywhere(
    app, http, as_manager, agency, other_agency, templates
):
    mine = contract(app, agency, "MINE")
    theirs = contract(app, other_agency, "THEIRS")
    assert http.get(f"{ROUTE}/{theirs}", headers=as_manager).status_code == 404
    clean_error(
        http.put(f"{ROUTE}/{theirs}", json={"proposed_premium": "1.00"}, headers=as_manager), 404
    )
    clean_error(http.post(f"{ROUTE}/{theirs}/renew", headers=as_manager), 404)
    clean_error(http.post(f"{ROUTE}/{theirs}/notice", json={}, headers=as_manager), 404)
    for batch in ("renew-batch", "notice-batch"):
        response = http.post(f"{ROUTE}/{batch}", json={"ids": [mine, theirs]}, headers=as_manager)
        clean_error(response, 404)
    assert numbers(http, as_manager, ("policy_id", "eq", row(app, theirs).policy_id)) == []
    for cycle_id in (mine, theirs):
        cycle = row(app, cycle_id)
        assert (cycle.status, cycle.avis_sent_on, cycle.proposed_premium) == (
            RenewalStatus.open,
            None,
            None,
        )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Term)) == 2
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_users_work_renewals_one_by_one_and_managers_in_bulk(
    app, http, as_user, as_manager, agency, templates
):
    ids = [contract(app, agency, f"ROLE-{n}") for n in range(2)]
    for batch in ("renew-batch", "notice-batch"):
        response = http.post(f"{ROUTE}/{batch}", json={"ids": ids}, headers=as_user)
        assert response.status_code == 403, (batch, response.get_data(as_text=True))
    assert row(app, ids[0]).avis_sent_on is None
    # One at a time, a USER may (as they edit policies and generate documents).
    assert http.post(f"{ROUTE}/{ids[0]}/notice", headers=as_user).status_code == 202
    assert http.post(f"{ROUTE}/{ids[0]}/renew", headers=as_user).status_code == 201
    assert (
        http.post(f"{ROUTE}/renew-batch", json={"ids": ids}, headers=as_manager).status_code == 200
    )
    info = http.get(f"{ROUTE}/_info", headers=as_user).json
    assert "can_batch" not in info["permissions"]
    assert "can_batch" in http.get(f"{ROUTE}/_info", headers=as_manager).json["permissions"]


def test_anonymous_callers_are_refused(http, app, agency):
    cycle_id = contract(app, agency, "ANON")
    assert http.get(f"{ROUTE}/").status_code == 401
    assert http.post(f"{ROUTE}/{cycle_id}/renew").status_code == 401
    assert http.post(f"{ROUTE}/renew-batch", json={"ids": [cycle_id]}).status_code == 401
    assert row(app, cycle_id).status is RenewalStatus.open


# --- the spec and the audit trail -----------------------------------------------------------


def test_the_spec_documents_every_renewal_door_and_its_answers(http, app, make_user, auth_headers):
    spec = http.get("/api/v1/_openapi", headers=auth_headers(make_user("SUPERADMIN"))).json
    paths = spec["paths"]
    assert {"201", "200", "404", "409", "422"} <= set(
        paths[f"{ROUTE}/{{pk}}/renew"]["post"]["responses"]
    )
    assert "202" in paths[f"{ROUTE}/{{pk}}/notice"]["post"]["responses"]
    assert "202" in paths[f"{ROUTE}/notice-batch"]["post"]["responses"]
    assert "200" in paths[f"{ROUTE}/renew-batch"]["post"]["responses"]
    put = paths[f"{ROUTE}/{{pk}}"]["put"]
    assert "409" in put["responses"] and "delete" not in paths[f"{ROUTE}/{{pk}}"]
    assert "post" not in paths[f"{ROUTE}/"]  # renewals are opened by their contracts
    body = spec["components"]["schemas"]["RenewalApi.put"]["properties"]
    assert body["proposed_premium"]["type"] == "string"
    assert set(body["decision"]["enum"]) == {"renew", "remarket", "not_renew"}
    shown = spec["components"]["schemas"]["RenewalApi.get"]["properties"]
    assert shown["change_percent"]["format"] == "decimal"


def test_proposing_and_renewing_are_audited_with_the_user(app, http, as_user, user, agency):
    from app.models import AuditLog

    cycle_id = contract(app, agency, "AUDIT-1")
    http.put(f"{ROUTE}/{cycle_id}", json={"proposed_premium": "1100.00"}, headers=as_user)
    assert http.post(f"{ROUTE}/{cycle_id}/renew", headers=as_user).status_code == 201
    with app.app_context():
        entries = db.session.execute(
            select(AuditLog.action, AuditLog.object_type, AuditLog.username).where(
                AuditLog.object_type.in_(("RenewalCycle", "Term")), AuditLog.username == user
            )
        ).all()
    assert ("update", "RenewalCycle", user) in entries
    assert ("create", "Term", user) in entries
