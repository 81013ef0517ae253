"""Invalid input gets a translated message beside its field, keeps what was typed,
creates or changes nothing, and never answers 500."""

from __future__ import annotations

import pytest

from app.models import Client, Company, Policy
from tests.conftest import user_organisation
from tests.test_screens_support import (
    client_form,
    company_form,
    count_rows,
    flashes,
    load,
    page_text,
    policy_form,
    post_form,
)

FORM_HAS_ERRORS = "Le formulaire contient des erreurs : corrigez les champs signalés ci-dessous."


def _refused(response, message: str) -> str:
    assert response.status_code == 200
    page = page_text(response)
    assert message in page, flashes(response)
    assert ("danger", FORM_HAS_ERRORS) in flashes(response)
    assert "Ligne ajoutée" not in page and "Ligne modifiée" not in page
    return page


@pytest.fixture
def staff(app, make_user, login, portfolio):
    """A logged-in USER with an insurer, a client and policy POL-1 in their organisation."""
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    ids = portfolio(organisation_id, "1")
    login(user)
    return {"organisation_id": organisation_id, **ids}


POLICY_CASES = [
    pytest.param(
        {"effective_date": "2026-06-01", "expiry_date": "2026-06-01"},
        "La date d'échéance doit être postérieure à la date d'effet.",
        id="expiry-not-after-effective",
    ),
    pytest.param(
        {"premium": "-10,00"}, "La prime ne peut pas être négative.", id="negative-premium"
    ),
    pytest.param(
        {"premium": "beaucoup"}, "N'est pas une valeur décimale valide.", id="premium-not-a-number"
    ),
    pytest.param({"number": "POL-1"}, "Un contrat avec ce numéro existe déjà.", id="duplicate"),
    pytest.param({"number": "CT 2026 ?"}, "Utilisez de 1 à 40 lettres", id="bad-number"),
    pytest.param({"client_id": "987654321"}, "Ce client n'existe pas.", id="unknown-client"),
    pytest.param({"client_id": "12abc"}, "Ce client n'existe pas.", id="malformed-client-id"),
    pytest.param({"company_id": "99999999999999999999"}, "Cet assureur n'existe pas.", id="huge"),
    pytest.param({"renewal_of_id": "987654321"}, "Ce contrat n'existe pas.", id="unknown-renewal"),
    pytest.param({"currency": "E1"}, "Utilisez un code ISO 4217, par exemple EUR.", id="currency"),
    pytest.param({"status": "archived"}, "Choix non valide", id="unknown-status"),
    pytest.param(
        {"effective_date": "31/02/2026"}, "Saisissez une date valide (jj/mm/aaaa).", id="bad-date"
    ),
]


@pytest.mark.parametrize(("changes", "message"), POLICY_CASES)
def test_invalid_policy_is_refused_with_its_message(app, http, staff, changes, message):
    data = policy_form(staff["client"], staff["company"], **{"number": "CT-NEW-1", **changes})
    response = post_form(http, "/policyview/add", data)
    page = _refused(response, message)
    assert f'value="{data["number"]}"' in page  # what the user typed is still there
    assert count_rows(app, Policy) == 1


def test_all_field_errors_are_reported_together(app, http, staff):
    """Form errors (a bad date) and model errors (premium, currency) show in one answer."""
    data = policy_form(
        staff["client"], staff["company"], premium="-1", currency="E1", expiry_date="2026-13-45"
    )
    page = _refused(post_form(http, "/policyview/add", data), "La prime ne peut pas être négative.")
    assert "Utilisez un code ISO 4217, par exemple EUR." in page
    assert "Saisissez une date valide (jj/mm/aaaa)." in page
    assert count_rows(app, Policy) == 1


def test_a_policy_may_not_point_at_another_agencys_client(
    app, http, staff, make_organisation, portfolio
):
    foreign = portfolio(make_organisation(), "B")
    for field, kind, message in (
        ("client_id", "client", "Ce client n'existe pas."),
        ("company_id", "company", "Cet assureur n'existe pas."),
        ("renewal_of_id", "policy", "Ce contrat n'existe pas."),
    ):
        data = policy_form(staff["client"], staff["company"], **{field: str(foreign[kind])})
        page = _refused(post_form(http, "/policyview/add", data), message)
        # The other agency's row is echoed as the number typed, never by its name.
        assert "MartinB" not in page and "Assureur B" not in page and "POL-B" not in page
    assert count_rows(app, Policy, organisation_id=staff["organisation_id"]) == 1


def test_invalid_policy_edit_changes_nothing_and_keeps_the_input(app, http, staff, portfolio):
    other = portfolio(staff["organisation_id"], "2")
    path = f"/policyview/edit/{staff['policy']}"
    cases = [
        ({"number": "POL-2"}, "Un contrat avec ce numéro existe déjà."),
        (
            {"expiry_date": "2025-01-01"},
            "La date d'échéance doit être postérieure à la date d'effet.",
        ),
        ({"renewal_of_id": str(staff["policy"])}, "Un contrat ne peut pas se renouveler lui-même."),
        ({"premium": "-5"}, "La prime ne peut pas être négative."),
    ]
    for changes, message in cases:
        data = policy_form(staff["client"], staff["company"], **{"number": "POL-1", **changes})
        page = _refused(post_form(http, path, data), message)
        assert f'value="{data["number"]}"' in page
        row = load(app, Policy, staff["policy"])
        assert (row.number, str(row.premium), row.renewal_of_id) == ("POL-1", "420.50", None)
    assert load(app, Policy, other["policy"]).number == "POL-2"


def test_a_duplicate_missed_by_the_check_still_gets_its_message(app, http, staff, monkeypatch):
    """Two users saving at once: the database's unique constraint answers, not a 500."""
    from app.views.portfolio import PolicyView

    monkeypatch.setattr(PolicyView, "check_unique", lambda self, item: None)
    data = policy_form(staff["client"], staff["company"], number="POL-1")
    _refused(post_form(http, "/policyview/add", data), "Un contrat avec ce numéro existe déjà.")
    assert count_rows(app, Policy) == 1


CLIENT_CASES = [
    pytest.param({"email": "camille@@example"}, "Adresse e-mail invalide.", id="email"),
    pytest.param({"phone": "appelle-moi"}, "Numéro de téléphone invalide.", id="phone"),
    pytest.param({"siren": "12345"}, "Un numéro SIREN comporte 9 chiffres.", id="siren"),
    pytest.param(
        {"birth_date": "2999-01-01"}, "La date de naissance est dans le futur.", id="birth-date"
    ),
    pytest.param({"last_name": ""}, "Ce champ est requis.", id="last-name-missing"),
    pytest.param({"kind": "robot"}, "Choix non valide", id="unknown-kind"),
]


@pytest.mark.parametrize(("changes", "message"), CLIENT_CASES)
def test_invalid_client_is_refused_with_its_message(app, http, staff, changes, message):
    data = client_form(**changes)
    page = _refused(post_form(http, "/clientview/add", data), message)
    assert 'value="Camille"' in page
    assert count_rows(app, Client) == 1


def test_invalid_client_edit_changes_nothing(app, http, staff):
    path = f"/clientview/edit/{staff['client']}"
    data = client_form(last_name="Martin1", email="pas-un-email", phone="??")
    page = _refused(post_form(http, path, data), "Adresse e-mail invalide.")
    assert "Numéro de téléphone invalide." in page
    assert 'value="pas-un-email"' in page
    assert load(app, Client, staff["client"]).email == "jeanne1@example.com"


def test_duplicate_insurer_code_is_refused_in_the_same_agency_only(
    app, http, make_user, login, make_organisation, portfolio
):
    admin = make_user("ADMIN")
    organisation_id = user_organisation(app, admin)
    portfolio(organisation_id, "1")  # insurer code A1
    portfolio(make_organisation(), "2")  # insurer code A2 in another agency
    login(admin)
    page = _refused(
        post_form(http, "/companyview/add", company_form(code="A1")),
        "Un assureur avec ce code existe déjà.",
    )
    assert 'value="Mutuelle du Rhône"' in page
    assert count_rows(app, Company, organisation_id=organisation_id) == 1
    added = post_form(http, "/companyview/add", company_form(code="A2"))
    assert ("success", "Ligne ajoutée") in flashes(added)
    assert count_rows(app, Company, organisation_id=organisation_id) == 2


def test_insurer_with_bad_email_is_refused(app, http, make_user, login):
    login(make_user("ADMIN"))
    _refused(
        post_form(http, "/companyview/add", company_form(email="contact.mdr.fr")),
        "Adresse e-mail invalide.",
    )
    assert count_rows(app, Company) == 0


def test_a_post_without_csrf_token_is_refused(app, http, staff):
    data = policy_form(staff["client"], staff["company"], number="CT-NO-CSRF")
    response = http.post("/policyview/add", data=data)
    assert response.status_code == 400
    response = http.post(f"/policyview/delete/{staff['policy']}")
    assert response.status_code == 400
    response = http.post("/policyview/action_post", data={"action": "cancel", "rowid": "1"})
    assert response.status_code == 400
    assert count_rows(app, Policy) == 1
    assert load(app, Policy, staff["policy"]).status.value == "active"


def test_delete_by_get_is_refused(app, http, staff):
    response = http.get(f"/policyview/delete/{staff['policy']}", follow_redirects=True)
    assert response.status_code == 200
    assert load(app, Policy, staff["policy"]) is not None


@pytest.mark.parametrize(
    "query",
    [
        "page_PolicyView=abc",
        "page_PolicyView=-1",
        "psize_PolicyView=100000",
        "psize_PolicyView=0",
        "_oc_PolicyView=organisation_id&_od_PolicyView=asc",
        "_oc_PolicyView=client.notes&_od_PolicyView=desc",
    ],
)
def test_malformed_list_arguments_answer_400(app, http, staff, query):
    assert http.get(f"/policyview/list/?{query}").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "_flt_0_client=abc",
        "_flt_0_client=99999999999999999999",
        "_flt_1_expiry_date=pas-une-date",
        "_flt_0_premium=beaucoup",
        "_flt_0_status=archived",
    ],
)
def test_malformed_filters_never_answer_500(app, http, staff, query):
    response = http.get(f"/policyview/list/?{query}", follow_redirects=True)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("pk", ["abc", "0", "-1", "99999999999999999999", "1e3", "²"])
def test_malformed_ids_answer_404(app, http, staff, pk):
    for path in (f"/policyview/show/{pk}", f"/policyview/edit/{pk}", f"/clientview/show/{pk}"):
        assert http.get(path).status_code == 404, path


def test_an_unexpected_model_refusal_is_shown_without_its_raw_text(app, http, staff, monkeypatch):
    """A @validates raising a plain ValueError (not our error type) still ends in a form error."""

    def refuse(field, value):
        raise ValueError("internal detail")

    monkeypatch.setattr("app.models.client.clean_phone", refuse)
    page = _refused(post_form(http, "/clientview/add", client_form()), "Valeur invalide.")
    assert "internal detail" not in page
    assert count_rows(app, Client) == 1
