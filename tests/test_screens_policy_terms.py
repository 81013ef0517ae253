"""The policy screens' share of the Échéances issue: the contract's terms in its form
(échéance, tacite reconduction, préavis, use...), and its page: terms, cancellation
grounds open today, renewal history, two terms side by side."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Client, Company, Policy
from tests.test_screens_echeances import make_agencies
from tests.test_screens_support import page_text, policy_form, post_form


@pytest.fixture
def agencies(app, make_user, make_organisation):
    return make_agencies(app, make_user, make_organisation)


# --- the policy form -------------------------------------------------------------
def test_the_policy_form_saves_the_contract_terms(app, http, agencies, login):
    org = agencies["org"]
    with app.app_context():
        client_id = db.session.scalar(select(Client.id).where(Client.organisation_id == org))
        company_id = db.session.scalar(select(Company.id).where(Company.organisation_id == org))
    login(agencies["user"])
    page = page_text(http.get("/policyview/add"))
    for label in ("Tacite reconduction", "Préavis (mois)", "Usage", "Assurance emprunteur"):
        assert label in page
    assert "Mars" in page and "Usage professionnel" in page
    data = policy_form(
        client_id,
        company_id,
        number="T-FORM",
        echeance_day="15",
        echeance_month="3",
        notice_months="3",
        use="professional",
        borrower="y",
        group_contract="y",
    )
    del data["tacit_renewal"]  # the box left unticked
    response = post_form(http, "/policyview/add", data)
    assert response.status_code == 200
    with app.app_context():
        policy = db.session.scalar(select(Policy).where(Policy.number == "T-FORM"))
        assert (policy.echeance_day, policy.echeance_month) == (15, 3)
        assert policy.tacit_renewal is False and policy.notice_months == 3
        assert policy.use.value == "professional" and policy.borrower and policy.group_contract
        policy_id = policy.id
    shown = page_text(http.get(f"/policyview/show/{policy_id}"))
    assert "Mars" in shown and "Usage professionnel" in shown


def test_the_policy_form_shows_the_terms_errors_beside_their_fields(app, http, agencies, login):
    org = agencies["org"]
    with app.app_context():
        client_id = db.session.scalar(select(Client.id).where(Client.organisation_id == org))
        company_id = db.session.scalar(select(Company.id).where(Company.organisation_id == org))
    login(agencies["user"])
    form = policy_form(client_id, company_id, number="T-BAD", echeance_day="31")
    page = page_text(post_form(http, "/policyview/add", {**form, "echeance_month": "2"}))
    assert "Ce jour n'existe pas dans ce mois." in page
    page = page_text(post_form(http, "/policyview/add", form))  # a day without its month
    assert "Saisissez le jour et le mois de l'échéance." in page
    page = page_text(post_form(http, "/policyview/add", {**form, "notice_months": "13"}))
    assert "Saisissez un nombre de 1 à 12." in page
    with app.app_context():
        assert db.session.scalar(select(Policy).where(Policy.number == "T-BAD")) is None


# --- the policy page -------------------------------------------------------------
def _renew_once(app, cycle_id, proposed="540.00"):
    from decimal import Decimal

    from app.models import RenewalCycle
    from app.services.renewals.cycles import propose, renew

    with app.app_context():
        cycle = db.session.get(RenewalCycle, cycle_id)
        propose(cycle, proposed_premium=Decimal(proposed))
        renew(cycle)
        db.session.commit()
        return cycle.policy_id


def test_the_policy_page_shows_terms_open_grounds_and_renewals(app, http, agencies, login):
    policy_id = _renew_once(app, agencies["cycles"]["E-10"])
    login(agencies["user"])
    page = page_text(http.get(f"/policyview/show/{policy_id}"))
    terms = page[page.index('id="contract-terms"') : page.index('id="contract-grounds"')]
    assert terms.count("<tr>") == 3  # the header and two terms
    assert "500,00" in terms and "540,00" in terms and "Renouvelé" in terms
    assert "Comparer avec la période précédente" in terms
    grounds = page[page.index('id="contract-grounds"') : page.index('id="contract-renewals"')]
    assert "Motifs de résiliation ouverts aujourd'hui" in grounds
    # Not a year since it started: the annual cancellation only, no Hamon yet.
    assert "Résiliation annuelle à l'échéance" in grounds and "L113-12" in grounds
    assert "Loi Hamon" not in grounds
    renewals = page[page.index('id="contract-renewals"') :]
    assert "Historique des renouvellements" in renewals and "Renouveler" in renewals


def test_a_contract_of_more_than_a_year_shows_the_hamon_right(app, http, agencies, login):
    import datetime as dt

    with app.app_context():
        policy = db.session.scalar(select(Policy).where(Policy.number == "E-80"))
        policy.effective_date = policy.expiry_date - dt.timedelta(days=730)
        db.session.commit()
        policy_id = policy.id
    login(agencies["user"])
    page = page_text(http.get(f"/policyview/show/{policy_id}"))
    grounds = page[page.index('id="contract-grounds"') : page.index('id="contract-renewals"')]
    assert "Loi Hamon (après un an)" in grounds and "L113-15-2" in grounds


def test_an_ended_contract_shows_no_open_ground(app, http, agencies, login):
    from app.models import PolicyStatus

    with app.app_context():
        policy = db.session.scalar(select(Policy).where(Policy.number == "E-80"))
        policy.status = PolicyStatus.cancelled
        db.session.commit()
        policy_id = policy.id
    login(agencies["user"])
    page = page_text(http.get(f"/policyview/show/{policy_id}"))
    assert "Le contrat a pris fin : aucun motif de résiliation ne s'applique." in page


def test_two_terms_side_by_side(app, http, agencies, login):
    from app.models import Term

    policy_id = _renew_once(app, agencies["cycles"]["E-10"])
    with app.app_context():
        first, second = db.session.scalars(
            select(Term.id).where(Term.policy_id == policy_id).order_by(Term.sequence)
        ).all()
    login(agencies["user"])
    page = page_text(http.get(f"/policyview/terms-diff/{policy_id}"))  # the last two
    assert "Comparer deux périodes" in page
    changed = [row for row in page.split("<tr") if "terms-diff-changed" in row]
    # Same contract and insurer; its dates and its premium moved.
    assert len(changed) == 3 and any("540,00" in row for row in changed)
    assert "+8,00 %" in page
    same = page_text(http.get(f"/policyview/terms-diff/{policy_id}?a={first}&b={first}"))
    assert "Les deux périodes sont identiques." in same
    swapped = page_text(http.get(f"/policyview/terms-diff/{policy_id}?a={second}&b={first}"))
    assert "-7,41 %" in swapped


def test_a_replacing_contract_compares_with_the_one_it_replaced(app, http, agencies, login):
    """A new contract at another insurer (renewal_of): the insurer is what changed."""
    import datetime as dt
    from decimal import Decimal

    from app.models import Term

    org = agencies["org"]
    with app.app_context():
        old = db.session.scalar(select(Policy).where(Policy.number == "E-45"))
        other = db.session.scalar(
            select(Company).where(Company.organisation_id == org, Company.name == "Atlantique")
        )
        new = Policy(
            organisation_id=org,
            number="E-45-BIS",
            client=old.client,
            company=other,
            line_of_business=old.line_of_business,
            status=old.status,
            effective_date=old.expiry_date,
            expiry_date=old.expiry_date + dt.timedelta(days=365),
            premium=Decimal("450.00"),
            renewal_of=old,
        )
        db.session.add(new)
        db.session.commit()
        new_id = new.id
        old_term = db.session.scalar(select(Term.id).where(Term.policy_id == old.id))
    login(agencies["user"])
    page = page_text(http.get(f"/policyview/terms-diff/{new_id}"))
    changed = [row for row in page.split("<tr") if "terms-diff-changed" in row]
    assert any("Garonne" in row and "Atlantique" in row for row in changed)
    assert any("E-45-BIS" in row for row in changed)
    assert f'value="{old_term}"' in page


def test_terms_of_another_contract_or_agency_answer_404(app, http, agencies, login):
    from app.models import RenewalCycle, Term

    policy_id = _renew_once(app, agencies["cycles"]["E-10"])
    with app.app_context():
        foreign_policy = db.session.get(RenewalCycle, agencies["foreign"]).policy_id
        foreign_term = db.session.scalar(select(Term.id).where(Term.policy_id == foreign_policy))
        own_term = db.session.scalar(select(Term.id).where(Term.policy_id == policy_id))
        unrelated = db.session.scalar(select(Term.id).join(Policy).where(Policy.number == "E-80"))
    login(agencies["user"])
    assert http.get(f"/policyview/terms-diff/{foreign_policy}").status_code == 404
    assert http.get(f"/policyview/show/{foreign_policy}").status_code == 404
    for a, b in ((own_term, foreign_term), (own_term, unrelated), ("x", own_term)):
        response = http.get(f"/policyview/terms-diff/{policy_id}?a={a}&b={b}")
        assert response.status_code == 404, (a, b)
    with app.app_context():
        single = db.session.scalar(select(Policy.id).where(Policy.number == "E-80"))
    page = page_text(http.get(f"/policyview/terms-diff/{single}"))
    assert "Ce contrat n'a qu'une période : rien à comparer pour l'instant." in page
