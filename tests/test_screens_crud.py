"""List, add, show, edit and delete through the screens' forms, as a browser does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.models import Client, Company, Policy, PolicyStatus
from tests.conftest import user_organisation
from tests.test_screens_support import (
    client_form,
    company_form,
    count_rows,
    csrf_token,
    flashes,
    load,
    page_text,
    policy_form,
    post_form,
)


def _only_id(app, model, **equal):
    from sqlalchemy import select

    from app.extensions import db

    with app.app_context():
        query = select(model.id)
        for column, value in equal.items():
            query = query.where(getattr(model, column) == value)
        return db.session.execute(query).scalar_one()


def _delete(http, path, form_path):
    token = csrf_token(http, form_path)
    return http.post(path, data={"csrf_token": token}, follow_redirects=True)


def test_client_add_list_show_edit_delete(app, http, make_user, login):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    login(user)

    added = post_form(http, "/clientview/add", client_form())
    assert ("success", "Ligne ajoutée") in flashes(added)
    client_id = _only_id(app, Client, last_name="Durand")
    row = load(app, Client, client_id)
    assert row.organisation_id == organisation_id
    assert row.birth_date == dt.date(1984, 5, 17)

    listing = page_text(http.get("/clientview/list/"))
    assert "Durand" in listing and "camille.durand@example.fr" in listing
    shown = page_text(http.get(f"/clientview/show/{client_id}"))
    assert "12 rue des Lilas" in shown and "Particulier" in shown

    edit_path = f"/clientview/edit/{client_id}"
    assert 'value="Camille"' in page_text(http.get(edit_path))
    edited = post_form(http, edit_path, client_form(city="Villeurbanne", first_name="Camille-Anne"))
    assert ("success", "Ligne modifiée") in flashes(edited)
    assert load(app, Client, client_id).city == "Villeurbanne"

    deleted = _delete(http, f"/clientview/delete/{client_id}", "/clientview/list/")
    assert ("success", "Ligne supprimée") in flashes(deleted)
    assert load(app, Client, client_id) is None


def test_insurer_add_list_show_edit_delete_by_an_admin(app, http, make_user, login):
    admin = make_user("ADMIN")
    login(admin)
    added = post_form(http, "/companyview/add", company_form())
    assert ("success", "Ligne ajoutée") in flashes(added)
    company_id = _only_id(app, Company, code="MDR")
    assert load(app, Company, company_id).organisation_id == user_organisation(app, admin)

    assert "Mutuelle du Rhône" in page_text(http.get("/companyview/list/"))
    assert "Paul Morel" in page_text(http.get(f"/companyview/show/{company_id}"))

    edit_path = f"/companyview/edit/{company_id}"
    post_form(http, edit_path, company_form(contact_name="Inès Faure"))
    assert load(app, Company, company_id).contact_name == "Inès Faure"

    _delete(http, f"/companyview/delete/{company_id}", "/companyview/list/")
    assert load(app, Company, company_id) is None


def test_a_user_reads_insurers_but_cannot_add_them(app, http, make_user, login, portfolio):
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "3")
    login(user)
    assert http.get("/companyview/list/").status_code == 200
    assert http.get(f"/companyview/show/{ids['company']}").status_code == 200
    assert http.get("/companyview/add").status_code == 403
    assert http.get(f"/companyview/edit/{ids['company']}").status_code == 403


def test_policy_add_list_show_edit_delete(app, http, make_user, login, portfolio):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    ids = portfolio(organisation_id, "1")
    login(user)

    added = post_form(
        http,
        "/policyview/add",
        policy_form(ids["client"], ids["company"], renewal_of_id=str(ids["policy"])),
    )
    assert ("success", "Ligne ajoutée") in flashes(added), flashes(added)
    policy_id = _only_id(app, Policy, number="CT-2026-001")
    row = load(app, Policy, policy_id)
    assert row.organisation_id == organisation_id
    assert row.premium == Decimal("1250.40")  # typed the French way: "1 250,40"
    assert row.renewal_of_id == ids["policy"]
    assert row.client_id == ids["client"]

    listing = page_text(http.get("/policyview/list/"))
    assert "CT-2026-001" in listing and "Jeanne Martin1" in listing and "Assureur 1" in listing
    assert "1\u202f250,40\xa0€" in listing
    shown = page_text(http.get(f"/policyview/show/{policy_id}"))
    assert "Habitation" in shown and "Mensuel" in shown and "POL-1" in shown
    # The policy it renewed renews nothing: an empty cell, not "None".
    renewed = page_text(http.get(f"/policyview/show/{ids['policy']}"))
    assert "POL-1" in renewed and ">None<" not in renewed.replace(" ", "").replace("\n", "")

    edit_path = f"/policyview/edit/{policy_id}"
    form = page_text(http.get(edit_path))
    premium = 'name="premium" placeholder="Prime annuelle TTC" required type="text" value="1250,40"'
    assert premium in form
    # The remote-search selects hold the current choice, with its text, and nothing else.
    assert f'<option value="{ids["client"]}" selected>Jeanne Martin1</option>' in form
    assert f'<option value="{ids["company"]}" selected>Assureur 1 (A1)</option>' in form
    edited = post_form(
        http,
        edit_path,
        policy_form(ids["client"], ids["company"], status="active", premium="99.90"),
    )
    assert ("success", "Ligne modifiée") in flashes(edited)
    row = load(app, Policy, policy_id)
    assert row.status == PolicyStatus.active and row.premium == Decimal("99.90")
    assert row.renewal_of_id is None  # the cleared select clears the link

    _delete(http, f"/policyview/delete/{policy_id}", "/policyview/list/")
    assert load(app, Policy, policy_id) is None


def test_client_and_insurer_pages_list_their_policies(app, http, make_user, login, portfolio):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    mine = portfolio(organisation_id, "1")
    other = portfolio(organisation_id, "2")
    login(user)
    client_page = page_text(http.get(f"/clientview/show/{mine['client']}"))
    assert "POL-1" in client_page and "POL-2" not in client_page
    insurer_page = page_text(http.get(f"/companyview/show/{other['company']}"))
    assert "POL-2" in insurer_page and "POL-1" not in insurer_page


def test_add_from_a_client_page_prefills_the_client(app, http, make_user, login, portfolio):
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "5")
    login(user)
    form = page_text(http.get(f"/policyview/add?_flt_0_client={ids['client']}"))
    assert f'<option value="{ids["client"]}" selected>Jeanne Martin5</option>' in form


def test_deleting_a_client_with_policies_is_refused_with_a_message(
    app, http, make_user, login, portfolio
):
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "1")
    login(user)
    response = _delete(http, f"/clientview/delete/{ids['client']}", "/clientview/list/")
    assert response.status_code == 200
    refusal = (
        "Ce client a encore des contrats : supprimez-les ou rattachez-les "
        "à un autre client d'abord."
    )
    assert ("danger", refusal) in flashes(response)
    assert load(app, Client, ids["client"]) is not None


def test_home_page_counts_the_organisation_rows_only(
    app, http, make_user, make_organisation, login, portfolio
):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    portfolio(organisation_id, "1")
    portfolio(organisation_id, "2")
    portfolio(make_organisation(), "9")
    login(user)
    home = page_text(http.get("/"))
    assert '<p class="h2" id="count-clients">2</p>' in home
    assert '<p class="h2" id="count-policies">2</p>' in home
    assert '<p class="h2" id="count-active">2</p>' in home
    assert '<strong id="count-insurers">2</strong>' in home
    assert "/policyview/list/?_flt_0_status=active" in home
    assert count_rows(app, Policy) == 3


def test_home_page_links_lead_to_working_lists(app, http, make_user, login, portfolio):
    user = make_user("USER")
    portfolio(user_organisation(app, user), "1")
    login(user)
    home = http.get("/").get_data(as_text=True)
    import re

    links = set(re.findall(r'href="(/(?:client|policy|company)view/list/[^"]*)"', home))
    assert len(links) >= 4
    for link in links:
        response = http.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
