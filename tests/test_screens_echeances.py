"""The Échéances screen (Portefeuille > Échéances) through the browser's doors.

An agency with contracts due in 10, 45 and 80 days (their cycles opened at once by the
flush that created them), another agency's contract due in 10 days; the list, its quick
filters and filters, its exports, and the manager's bulk actions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Client,
    ClientKind,
    Company,
    ContractUse,
    Job,
    LineOfBusiness,
    Policy,
    PolicyStatus,
    RenewalCycle,
    RenewalDecision,
    RenewalStatus,
    Term,
)
from app.services.renewals.contracts import agency_today
from app.services.templates import load_builtin_templates
from tests.conftest import user_organisation
from tests.test_screens_support import csrf_token, flashes, page_text

LIST = "/renewals/list/"


def _years_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def add_contract(
    organisation_id: int,
    number: str,
    due_in: int,
    *,
    insurer: str = "Atlantique",
    line: LineOfBusiness = LineOfBusiness.auto,
    premium: str = "500.00",
    tacit_renewal: bool = True,
) -> int:
    """An active contract whose échéance is ``due_in`` days away; returns its cycle's id."""
    today = agency_today(db.session, organisation_id)
    company = db.session.scalar(
        select(Company).where(Company.organisation_id == organisation_id, Company.name == insurer)
    )
    if company is None:
        company = Company(organisation_id=organisation_id, name=insurer, code=insurer[:3].upper())
    client = Client(
        organisation_id=organisation_id, first_name="Jeanne", last_name=f"Client {number}"
    )
    expiry = today + dt.timedelta(days=due_in)
    policy = Policy(
        organisation_id=organisation_id,
        number=number,
        client=client,
        company=company,
        line_of_business=line,
        status=PolicyStatus.active,
        effective_date=_years_before(expiry),
        expiry_date=expiry,
        premium=Decimal(premium),
        tacit_renewal=tacit_renewal,
    )
    db.session.add(policy)
    db.session.commit()
    cycle = db.session.scalar(select(RenewalCycle).where(RenewalCycle.policy_id == policy.id))
    return cycle.id if cycle is not None else 0


@pytest.fixture
def agencies(app, make_user, make_organisation):
    return make_agencies(app, make_user, make_organisation)


def make_agencies(app, make_user, make_organisation):
    """{"user", "manager", "org", "cycles": {number: cycle id}, "foreign": id}."""
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    manager = make_user("MANAGER", organisation_id=organisation_id)
    other = make_organisation()
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
        cycles = {
            "E-10": add_contract(organisation_id, "E-10", 10),
            "E-45": add_contract(
                organisation_id, "E-45", 45, insurer="Garonne", line=LineOfBusiness.home
            ),
            "E-80": add_contract(organisation_id, "E-80", 80, premium="1000.00"),
        }
        foreign = add_contract(other, "X-10", 10, insurer="Ailleurs")
    assert all(cycles.values()) and foreign, "the flush opens the cycles of contracts due soon"
    return {
        "user": user,
        "manager": manager,
        "org": organisation_id,
        "cycles": cycles,
        "foreign": foreign,
    }


def listed(response) -> list[str]:
    """The contract numbers the list shows, in its order."""
    text = page_text(response)
    found = [(text.find(f">{n}</a>"), n) for n in ("E-10", "E-45", "E-80", "X-10")]
    return [number for position, number in sorted(found) if position >= 0]


# --- the list --------------------------------------------------------------------
def test_the_list_is_in_the_portfolio_menu_in_french_and_scoped(app, http, agencies, login):
    login(agencies["user"])
    home = page_text(http.get("/"))
    assert "Échéances" in home and "/renewals/list/" in home
    response = http.get(LIST)
    assert response.status_code == 200
    text = page_text(response)
    assert listed(response) == ["E-10", "E-45", "E-80"]  # by échéance; X-10 is elsewhere
    for header in ("Contrat", "Client", "Assureur", "Échéance", "Dernier jour pour refuser"):
        assert header in text
    assert "Dans 30 jours" in text and "Dans 90 jours" in text
    # A USER reads the list, without the manager's bulk actions.
    assert "Générer les avis" not in text


def test_the_quick_filters_keep_the_contracts_due_in_that_many_days(app, http, agencies, login):
    login(agencies["user"])
    assert listed(http.get(LIST + "?_flt_0_due_within=30")) == ["E-10"]
    assert listed(http.get(LIST + "?_flt_0_due_within=60")) == ["E-10", "E-45"]
    assert listed(http.get(LIST + "?_flt_0_due_within=90")) == ["E-10", "E-45", "E-80"]
    assert listed(http.get(LIST + "?_flt_0_due_within=abc")) == []


def test_the_filters_on_insurer_line_change_decision_and_avis(app, http, agencies, login):
    org = agencies["org"]
    with app.app_context():
        garonne = db.session.scalar(
            select(Company.id).where(Company.organisation_id == org, Company.name == "Garonne")
        )
        cycle = db.session.get(RenewalCycle, agencies["cycles"]["E-80"])
        cycle.proposed_premium = Decimal("1080.00")
        cycle.change_percent = Decimal("8.00")
        cycle.decision = RenewalDecision.remarket
        db.session.get(RenewalCycle, agencies["cycles"]["E-10"]).avis_sent_on = agency_today(
            db.session, org
        )
        db.session.commit()
    login(agencies["user"])
    assert listed(http.get(f"{LIST}?_flt_0_insurer={garonne}")) == ["E-45"]
    assert listed(http.get(f"{LIST}?_flt_0_line_of_business=home")) == ["E-45"]
    assert listed(http.get(f"{LIST}?_flt_0_line_of_business=nonsense")) == []
    assert listed(http.get(f"{LIST}?_flt_1_change_percent=5")) == ["E-80"]
    assert listed(http.get(f"{LIST}?_flt_1_change_percent=5,5")) == ["E-80"]
    assert listed(http.get(f"{LIST}?_flt_0_decision=remarket")) == ["E-80"]
    assert listed(http.get(f"{LIST}?_flt_0_avis_sent=y")) == ["E-10"]
    assert listed(http.get(f"{LIST}?_flt_0_avis_sent=n")) == ["E-45", "E-80"]
    text = page_text(http.get(f"{LIST}?_flt_0_decision=remarket"))
    assert "Placer ailleurs" in text and "+8,00 %" in text


def test_late_avis_carry_a_badge(app, http, agencies, login):
    """E-10's and E-45's last day to refuse (two months before) passed with no avis; E-80's not."""
    login(agencies["user"])
    response = http.get(LIST)
    rows = page_text(response).split("<tr")
    late = [row for row in rows if "Avis en retard" in row]
    assert len(late) == 2 and ">E-10</a>" in late[0] and ">E-45</a>" in late[1]
    with app.app_context():
        cycle = db.session.get(RenewalCycle, agencies["cycles"]["E-80"])
        cycle.chatel_window_end = cycle.echeance
        db.session.commit()
    rows = page_text(http.get(LIST)).split("<tr")
    assert sum("Avis en retard" in row for row in rows) == 3


def test_no_late_avis_badge_where_the_loi_chatel_does_not_apply(app, http, agencies, login):
    """A professional's contract, and a company's, owe no avis under Chatel: never "late"."""
    with app.app_context():
        for number, change in (("E-10", "use"), ("E-45", "client")):
            policy = db.session.get(RenewalCycle, agencies["cycles"][number]).policy
            if change == "use":
                policy.use = ContractUse.professional
            else:
                policy.client.kind = ClientKind.business
                policy.client.company_name = "Garage Martin SARL"
        db.session.commit()
    login(agencies["user"])
    rows = page_text(http.get(LIST)).split("<tr")
    assert not [row for row in rows if "Avis en retard" in row]
    # Back to a consumer's contract: the badge is there again.
    with app.app_context():
        db.session.get(RenewalCycle, agencies["cycles"]["E-10"]).policy.use = ContractUse.consumer
        db.session.commit()
    late = [row for row in page_text(http.get(LIST)).split("<tr") if "Avis en retard" in row]
    assert len(late) == 1 and ">E-10</a>" in late[0]


def test_another_agencys_cycle_answers_404(app, http, agencies, login):
    login(agencies["manager"])
    foreign = agencies["foreign"]
    assert http.get(f"/renewals/show/{foreign}").status_code == 404
    assert http.get(f"/renewals/show/{agencies['cycles']['E-10']}").status_code == 200
    token = csrf_token(http, LIST)
    response = http.post(
        "/renewals/action_post",
        data={"action": "renew_cycles", "rowid": [str(foreign)], "csrf_token": token},
        follow_redirects=True,
    )
    assert ("warning", "Aucune échéance sélectionnée.") in flashes(response)
    with app.app_context():
        assert db.session.get(RenewalCycle, foreign).status is RenewalStatus.open


# --- exports ---------------------------------------------------------------------
def test_the_export_holds_the_rows_of_the_list(app, http, agencies, login):
    login(agencies["user"])
    response = http.get("/renewals/export/csv?_flt_0_due_within=60")
    assert response.status_code == 200
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Contrat", "Client", "Assureur", "Échéance"]
    assert [row[0] for row in body] == listed(http.get(LIST + "?_flt_0_due_within=60"))
    assert body[0][header.index("Prime précédente")] == "500,00"
    assert body[0][header.index("Alerte")] == "Oui"  # E-10: the last day passed without avis
    xlsx = http.get("/renewals/export/xlsx?_flt_0_due_within=60")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_a_large_export_becomes_a_job_with_the_same_rows(app, http, agencies, login):
    """The job (run inline by the tests' Huey) replays the filters without a request."""
    from app.models import Document, JobStatus

    login(agencies["user"])
    args = "_flt_0_due_within=60&_oc_RenewalCycleView=echeance&_od_RenewalCycleView=desc"
    expected = http.get(f"/renewals/export/csv?{args}").get_data().decode("utf-8-sig")
    app.config["EXPORT_SYNC_MAX_ROWS"], limit = 1, app.config["EXPORT_SYNC_MAX_ROWS"]
    try:
        response = http.get(f"/renewals/export/csv?{args}", follow_redirects=False)
    finally:
        app.config["EXPORT_SYNC_MAX_ROWS"] = limit
    assert response.status_code == 302 and response.headers["Location"].endswith("/jobview/list/")
    with app.app_context():
        job = db.session.scalars(select(Job)).one()
        assert job.status is JobStatus.succeeded, job.error if hasattr(job, "error") else job
        document_id = job.document_id
        assert db.session.get(Document, document_id).file_name.startswith("echeances-")
    delivered = http.get(f"/documentview/download/{document_id}").get_data().decode("utf-8-sig")
    assert delivered.splitlines() == expected.splitlines()
    assert [line.split(";")[0] for line in expected.splitlines()[1:]] == ["E-45", "E-10"]


# --- bulk actions ----------------------------------------------------------------
def _act(http, action, ids):
    token = csrf_token(http, LIST)
    return http.post(
        "/renewals/action_post",
        data={"action": action, "rowid": [str(i) for i in ids], "csrf_token": token},
        follow_redirects=True,
    )


def test_generate_the_avis_makes_one_job_and_records_them_sent(app, http, agencies, login):
    login(agencies["manager"])
    page = page_text(http.get(LIST))
    assert "Générer les avis" in page and "Renouveler" in page
    ids = [agencies["cycles"]["E-10"], agencies["cycles"]["E-45"]]
    response = _act(http, "send_avis", ids)
    assert response.status_code == 200
    messages = [text for category, text in flashes(response) if category == "success"]
    assert messages and "2 avis d'échéance" in messages[0], flashes(response)
    assert "/jobview/show/" in page_text(response)
    with app.app_context():
        today = agency_today(db.session, agencies["org"])
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1
        for cycle_id in ids:
            cycle = db.session.get(RenewalCycle, cycle_id)
            assert cycle.avis_sent_on == today and cycle.avis_document_id is not None
        assert db.session.get(RenewalCycle, agencies["cycles"]["E-80"]).avis_sent_on is None


def test_renew_keeps_the_number_adds_a_term_and_names_the_refusals(app, http, agencies, login):
    with app.app_context():
        refused = db.session.get(RenewalCycle, agencies["cycles"]["E-45"])
        refused.decision = RenewalDecision.not_renew
        db.session.commit()
    login(agencies["manager"])
    ids = [agencies["cycles"]["E-10"], agencies["cycles"]["E-45"]]
    response = _act(http, "renew_cycles", ids)
    messages = flashes(response)
    assert ("success", "1 contrat renouvelé.") in messages, messages
    assert any(category == "warning" and text.startswith("E-45 :") for category, text in messages)
    with app.app_context():
        renewed = db.session.get(RenewalCycle, agencies["cycles"]["E-10"])
        policy = renewed.policy
        assert renewed.status is RenewalStatus.renewed
        assert policy.number == "E-10" and len(policy.terms) == 2
        assert policy.expiry_date == policy.terms[-1].end_date
        left = db.session.get(RenewalCycle, agencies["cycles"]["E-45"])
        assert left.status is RenewalStatus.open and len(left.policy.terms) == 1
        assert db.session.scalar(select(func.count()).select_from(Term)) == 5


def test_a_user_cannot_run_the_bulk_actions(app, http, agencies, login):
    login(agencies["user"])
    response = _act(http, "renew_cycles", [agencies["cycles"]["E-10"]])
    assert any(category == "danger" for category, _text in flashes(response))
    with app.app_context():
        assert db.session.get(RenewalCycle, agencies["cycles"]["E-10"]).status is RenewalStatus.open


def test_bulk_actions_need_the_csrf_token(app, http, agencies, login):
    login(agencies["manager"])
    response = http.post(
        "/renewals/action_post",
        data={"action": "renew_cycles", "rowid": [str(agencies["cycles"]["E-10"])]},
    )
    assert response.status_code in (400, 302)
    with app.app_context():
        assert db.session.get(RenewalCycle, agencies["cycles"]["E-10"]).status is RenewalStatus.open


# --- the demo agency -------------------------------------------------------------
def test_on_the_demo_data_the_list_shows_the_contracts_due_in_30_days(app, http, make_user, login):
    """As a new user tries it: the échéances of the next 30 days, some avis sent, one late,
    and the manager generates the missing avis in one action."""
    from app.services import demo
    from app.services.timezones import local_today, zone

    with app.app_context():
        today = local_today(zone(None))
        summary = demo.load_demo_data(db.session, today=today)
        due = db.session.scalars(
            select(RenewalCycle).where(
                RenewalCycle.organisation_id == summary.organisation_id,
                RenewalCycle.echeance.between(today, today + dt.timedelta(days=30)),
            )
        ).all()
        numbers = {cycle.policy.number for cycle in due}
        waiting = [cycle.id for cycle in due if cycle.avis_sent_on is None]
        assert len(due) >= 10
        assert sum(cycle.avis_sent_on is not None for cycle in due) == 4
        assert sum(cycle.chatel_window_end is not None for cycle in due) == 1
    manager = make_user("MANAGER", organisation_id=summary.organisation_id)
    login(manager)
    page = page_text(http.get(LIST + "?_flt_0_due_within=30"))
    assert all(f">{number}</a>" in page for number in numbers)
    assert "Avis en retard" in page and "+4,00 %" in page
    response = _act(http, "send_avis", waiting)
    assert any(category == "success" for category, _text in flashes(response)), flashes(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1
        sent = db.session.scalars(select(RenewalCycle).where(RenewalCycle.id.in_(waiting))).all()
        assert all(cycle.avis_sent_on == today for cycle in sent)


def test_the_bulk_confirmations_hold_no_straight_quote(app, http, agencies, login):
    """FAB writes them in a quoted script string: an apostrophe broke the list's script."""
    login(agencies["manager"])
    page = page_text(http.get(LIST))
    assert "Générer les avis d’échéance des contrats sélectionnés" in page
    for line in page.splitlines():
        if "execute_multiple(" in line:
            quoted = line.split("execute_multiple(", 1)[1]
            assert quoted.count("'") == 4, line  # two arguments, each in its own quotes
    assert "Envoyer par e-mail l’avis d’échéance des contrats sélectionnés" in page
    assert page.count("execute_multiple(") == 3  # avis, renew, avis by e-mail
