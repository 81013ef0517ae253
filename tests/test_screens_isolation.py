"""A user of agency A finds no trace of agency B's rows through any screen door."""

from __future__ import annotations

import pytest

from app.models import Client, Company, Policy, PolicyStatus
from tests.conftest import user_organisation
from tests.test_screens_support import (
    client_form,
    company_form,
    csrf_token,
    load,
    page_text,
    policy_form,
    post_form,
)

# Names that exist only in agency B: none may appear on A's pages.
B_TRACES = ("MartinB", "Assureur B", "POL-B", "jeanneB@example.com")


@pytest.fixture
def two_agencies(app, make_user, make_organisation, portfolio):
    """An ADMIN of agency A (who may do the most) and agency B's rows."""
    admin_a = make_user("ADMIN")
    a = portfolio(user_organisation(app, admin_a), "A")
    b = portfolio(make_organisation(), "B")
    return {"user": admin_a, "a": a, "b": b}


def _no_trace(page: str) -> None:
    for trace in B_TRACES:
        assert trace not in page, trace


VIEWS = [("clientview", "client"), ("companyview", "company"), ("policyview", "policy")]


def test_lists_and_searches_show_only_own_rows(app, http, login, two_agencies):
    login(two_agencies["user"])
    for view, _kind in VIEWS:
        page = page_text(http.get(f"/{view}/list/"))
        assert "Assureur A" in page or "MartinA" in page
        _no_trace(page)
    searches = [
        "/clientview/list/?_flt_2_last_name=Martin",
        "/companyview/list/?_flt_2_name=Assureur",
        "/policyview/list/?_flt_2_number=POL",
        f"/policyview/list/?_flt_0_client={two_agencies['b']['client']}",
        f"/policyview/list/?_flt_0_company={two_agencies['b']['company']}",
    ]
    for path in searches:
        response = http.get(path)
        assert response.status_code == 200, path
        _no_trace(page_text(response))


@pytest.mark.parametrize(("view", "kind"), VIEWS)
def test_show_and_edit_of_another_agencys_row_answer_404(
    app, http, login, two_agencies, view, kind
):
    login(two_agencies["user"])
    row_id = two_agencies["b"][kind]
    assert http.get(f"/{view}/show/{row_id}").status_code == 404
    assert http.get(f"/{view}/edit/{row_id}").status_code == 404


def test_posting_an_edit_to_another_agencys_row_changes_nothing(app, http, login, two_agencies):
    login(two_agencies["user"])
    b = two_agencies["b"]
    token = csrf_token(http, "/clientview/add")
    forms = {
        f"/clientview/edit/{b['client']}": client_form(last_name="Pirate"),
        f"/companyview/edit/{b['company']}": company_form(name="Pirate"),
        f"/policyview/edit/{b['policy']}": policy_form(
            two_agencies["a"]["client"], two_agencies["a"]["company"], number="PIRATE"
        ),
    }
    for path, data in forms.items():
        response = http.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 404, path
    assert load(app, Client, b["client"]).last_name == "MartinB"
    assert load(app, Company, b["company"]).name == "Assureur B"
    assert load(app, Policy, b["policy"]).number == "POL-B"


@pytest.mark.parametrize(("view", "kind"), VIEWS)
def test_deleting_another_agencys_row_answers_404(app, http, login, two_agencies, view, kind):
    login(two_agencies["user"])
    token = csrf_token(http, "/clientview/add")
    row_id = two_agencies["b"][kind]
    response = http.post(f"/{view}/delete/{row_id}", data={"csrf_token": token})
    assert response.status_code == 404
    model = {"client": Client, "company": Company, "policy": Policy}[kind]
    assert load(app, model, row_id) is not None


def test_bulk_action_ignores_another_agencys_rows(app, http, login, two_agencies):
    login(two_agencies["user"])
    a, b = two_agencies["a"], two_agencies["b"]
    token = csrf_token(http, "/policyview/list/")
    response = http.post(
        "/policyview/action_post",
        data={
            "action": "suspend",
            "rowid": [str(a["policy"]), str(b["policy"])],
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "1 contrat passé au statut « Suspendu »." in page_text(response)
    assert load(app, Policy, a["policy"]).status == PolicyStatus.suspended
    assert load(app, Policy, b["policy"]).status == PolicyStatus.active
    # The single-row action route is scoped the same way.
    http.post(f"/policyview/action/cancel/{b['policy']}", data={"csrf_token": token})
    assert load(app, Policy, b["policy"]).status == PolicyStatus.active


def test_lookup_endpoint_never_offers_another_agencys_rows(app, http, login, two_agencies):
    login(two_agencies["user"])
    for kind, term in (("client", "Martin"), ("company", "Assureur"), ("policy", "POL")):
        body = http.get(f"/lookup/{kind}?q={term}").json
        assert [row["id"] for row in body["results"]] == [two_agencies["a"][kind]]
        _no_trace(str(body))


def test_forms_never_name_another_agencys_row(app, http, login, two_agencies):
    """An id of B's typed in a URL or a form is echoed as a number, never named."""
    login(two_agencies["user"])
    b = two_agencies["b"]
    page = page_text(http.get(f"/policyview/add?_flt_0_client={b['client']}"))
    _no_trace(page)
    page = page_text(http.get(f"/policyview/list/?_flt_0_client={b['client']}"))
    _no_trace(page)


def test_new_rows_take_the_users_agency_whatever_is_posted(app, http, login, two_agencies):
    login(two_agencies["user"])
    organisation_a = user_organisation(app, two_agencies["user"])
    b_organisation = load(app, Client, two_agencies["b"]["client"]).organisation_id
    post_form(
        http,
        "/clientview/add",
        {**client_form(last_name="Forge"), "organisation_id": b_organisation},
    )
    from sqlalchemy import select

    from app.extensions import db

    with app.app_context():
        forged = db.session.execute(select(Client).where(Client.last_name == "Forge")).scalar_one()
        assert forged.organisation_id == organisation_a


def test_home_counts_do_not_include_another_agency(app, http, login, two_agencies):
    login(two_agencies["user"])
    home = page_text(http.get("/"))
    assert '<p class="h2" id="count-policies">1</p>' in home


def test_anonymous_visitors_are_sent_to_login(app, http, two_agencies):
    for path in (
        "/policyview/list/",
        "/lookup/client",
        f"/clientview/show/{two_agencies['a']['client']}",
    ):
        response = http.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    response = http.post("/policyview/action_post", data={"action": "cancel"})
    assert response.status_code in (302, 400)
