"""GET /lookup/<kind>: the remote-search selects' data, paged and searched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Client, LineOfBusiness, Policy
from app.views.lookup_sources import PAGE_SIZE
from tests.conftest import user_organisation
from tests.test_screens_support import page_text


@pytest.fixture
def crowd(app, make_user, login, portfolio):
    """A logged-in USER whose agency has 45 clients (Client 00 … Client 44) and one policy."""
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    ids = portfolio(organisation_id, "1")
    with app.app_context():
        db.session.add_all(
            Client(organisation_id=organisation_id, first_name="Zoé", last_name=f"Client {n:02d}")
            for n in range(45)
        )
        db.session.add(
            Client(
                organisation_id=organisation_id,
                first_name="Élise",
                last_name="Lefèvre",
                city="Nantes",
                email="elise@example.fr",
            )
        )
        db.session.commit()
    login(user)
    return {"organisation_id": organisation_id, **ids}


def test_pages_of_twenty_with_a_more_flag(app, http, crowd):
    first = http.get("/lookup/client?q=Client").json
    assert len(first["results"]) == PAGE_SIZE and first["pagination"]["more"] is True
    assert first["results"][0]["text"] == "Zoé Client 00"
    third = http.get("/lookup/client?q=Client&page=3").json
    assert [row["text"] for row in third["results"]] == [
        f"Zoé Client {n:02d}" for n in range(40, 45)
    ]
    assert third["pagination"]["more"] is False
    beyond = http.get("/lookup/client?q=Client&page=9").json
    assert beyond == {"results": [], "pagination": {"more": False}}


def test_every_word_must_match_some_column(app, http, crowd):
    rows = http.get("/lookup/client?q=lise LEF").json["results"]
    assert [row["text"] for row in rows] == ["Élise Lefèvre (Nantes)"]
    assert (
        http.get("/lookup/client?q=elise@example")
        .json["results"][0]["text"]
        .startswith("Élise Lefèvre")
    )
    assert http.get("/lookup/client?q=Client 07").json["results"][0]["text"] == "Zoé Client 07"
    assert http.get("/lookup/client?q=Personne").json["results"] == []


def test_like_wildcards_in_the_term_are_taken_literally(app, http, crowd):
    assert http.get("/lookup/client?q=%25").json["results"] == []
    assert http.get("/lookup/client?q=_").json["results"] == []


def test_insurers_and_policies_are_looked_up_too(app, http, crowd, portfolio):
    with app.app_context():
        db.session.add(
            Policy(
                organisation_id=crowd["organisation_id"],
                number="HAB-77",
                client_id=crowd["client"],
                company_id=crowd["company"],
                line_of_business=LineOfBusiness.home,
                effective_date=dt.date(2026, 1, 1),
                expiry_date=dt.date(2027, 1, 1),
                premium=Decimal("10"),
            )
        )
        db.session.commit()
    assert http.get("/lookup/company?q=a1").json["results"] == [
        {"id": crowd["company"], "text": "Assureur 1 (A1)"}
    ]
    policies = http.get("/lookup/policy?q=hab").json["results"]
    assert [row["text"] for row in policies] == ["HAB-77 — Jeanne Martin1"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/lookup/user", 404),
        ("/lookup/organisation", 404),
        ("/lookup/client?page=0", 400),
        ("/lookup/client?page=-1", 400),
        ("/lookup/client?page=abc", 400),
        ("/lookup/client?page=99999999999", 400),
    ],
)
def test_bad_kinds_and_pages_are_refused(app, http, crowd, path, status):
    assert http.get(path).status_code == status


def test_a_very_long_term_is_cut_not_refused(app, http, crowd):
    response = http.get("/lookup/client?q=" + "x" * 5000)
    assert response.status_code == 200 and response.json["results"] == []


def test_policy_form_embeds_no_table(app, http, crowd):
    """The add form holds an empty select per relation: 46 clients are not in the page."""
    page = page_text(http.get("/policyview/add"))
    assert "Client 00" not in page and "Lefèvre" not in page
    assert 'data-lookup-url="/lookup/client"' in page
    assert 'data-lookup-url="/lookup/company"' in page
    assert 'data-lookup-url="/lookup/policy"' in page
    assert '<script src="/static/js/lookup-select.js"' in page
    # The list's search form does not embed the clients either.
    assert "Client 00" not in page_text(http.get("/policyview/list/"))


def test_the_lookup_script_is_served_from_our_origin(app, http):
    response = http.get("/static/js/lookup-select.js")
    assert response.status_code == 200
    assert b"select2" in response.data and b"lookup-select" in response.data


def test_lookup_needs_a_login(app, http):
    response = http.get("/lookup/client")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
