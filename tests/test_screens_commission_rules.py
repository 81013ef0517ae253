"""Comptabilité › Règles de commission through the browser's door: the API's checks flashed
together, the insurer's expected commissions recomputed on save, staff kept out, another
agency's rules and insurers out of sight."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models import CommissionRule, ExpectedCommission, ExpectedStatus
from tests import test_commission_rules as rules_support
from tests.conftest import login_screen, user_organisation
from tests.test_commission_rules import add_rule, expectations
from tests.test_screens_support import csrf_token, flashes, page_text

ADD = "/commissionrules/add"
# The API tests' fixtures: a manager's agency with a monthly contract and its notices.
manager = rules_support.manager
agency = rules_support.agency


def _form(http, agency, **changes) -> dict[str, str]:
    return {
        "company": str(agency["company"]),
        "line_of_business": "",
        "product": "",
        "policy_id": "",
        "basis": "rate",
        "first_year_rate": "12,50",
        "later_years_rate": "8",
        "fixed_amount": "",
        "due": "on_issue",
        "valid_from": "2020-01-01",
        "valid_to": "",
        "clawback_first_year": "100",
        "clawback_second_year": "50",
        "note": "",
        "csrf_token": csrf_token(http, ADD),
        **changes,
    }


def _rule_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CommissionRule))


def test_a_bad_rate_is_flashed_with_every_field_error_and_nothing_is_written(
    app, http, login, manager, agency
):
    login(manager)
    answer = http.post(
        ADD,
        data=_form(http, agency, first_year_rate="120", clawback_second_year="101"),
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert [category for category, _text in flashes(answer)] == ["danger"]
    text = page_text(answer)
    # Both percentages are refused on the same answer, beside their fields.
    assert text.count("Saisissez un pourcentage entre 0 et 100.") == 2
    assert _rule_count(app) == 0
    assert expectations(app, agency) == []


def test_a_manager_adds_a_rule_and_the_expectations_are_recomputed_as_by_the_api(
    app, http, login, manager, agency
):
    login(manager)
    answer = http.post(ADD, data=_form(http, agency), follow_redirects=False)
    assert answer.status_code == 302, page_text(answer)
    with app.app_context():
        rule = db.session.scalars(select(CommissionRule)).one()
        assert rule.first_year_rate == Decimal("12.50")
        assert rule.clawback_first_year == Decimal("100")
        assert rule.clawback_second_year == Decimal("50")
        assert rule.organisation_id == agency["organisation"]
        rule_id = rule.id
    rows = expectations(app, agency)
    assert rows, "saving a rule on screen recomputes its insurer's expected commissions"
    for _number, before_tax, amount, status, _clawback, rule_ref in rows:
        assert rule_ref == rule_id and status is ExpectedStatus.expected
        assert amount == (before_tax * Decimal("0.125")).quantize(Decimal("0.01"))
    # Listed and shown with French figures; the list filters on the day a rule is in force.
    listing = page_text(http.get("/commissionrules/list/"))
    assert "12,50 %" in listing and "8,00 %" in listing
    shown = page_text(http.get(f"/commissionrules/show/{rule_id}"))
    assert "100,00 %" in shown and "50,00 %" in shown
    # Ending the rule on the edit screen cancels the expectations it yielded.
    edit = f"/commissionrules/edit/{rule_id}"
    ended = http.post(
        edit,
        data={**_form(http, agency, valid_to="2020-06-30"), "csrf_token": csrf_token(http, edit)},
    )
    assert ended.status_code == 302, page_text(ended)
    assert {row[3] for row in expectations(app, agency)} == {ExpectedStatus.cancelled}


def test_the_list_filters_the_rules_active_on_a_day(app, http, login, manager, agency):
    old = add_rule(app, agency, valid_to=dt.date(2020, 12, 31), product="Ancien")
    add_rule(app, agency, valid_from=dt.date(2021, 1, 1), product="Nouveau")
    login(manager)
    # valid_from's filters: FAB's four date filters, then "En vigueur le" (index 4).
    page = page_text(http.get("/commissionrules/list/?_flt_4_valid_from=2020-06-01"))
    assert "Ancien" in page and "Nouveau" not in page
    page = page_text(http.get("/commissionrules/list/?_flt_4_valid_from=2024-06-01"))
    assert "Nouveau" in page and "Ancien" not in page
    assert f"/commissionrules/show/{old}" in page_text(http.get("/commissionrules/list/"))


def test_staff_cannot_add_a_rule(app, http, login, agency, make_user):
    user = make_user("USER", agency["organisation"])
    login(user)
    assert http.get(ADD, follow_redirects=False).status_code == 403
    answer = http.post(
        ADD,
        data={"company": str(agency["company"]), "basis": "rate", "first_year_rate": "10"},
        follow_redirects=False,
    )
    assert answer.status_code in (400, 403)  # no form token to forge, and no right
    assert _rule_count(app) == 0


def test_another_agencys_rule_is_not_found_and_its_insurers_are_not_offered(
    app, http, manager, agency, make_user, portfolio
):
    rule_id = add_rule(app, agency)
    other_manager = make_user("MANAGER")
    other = portfolio(user_organisation(app, other_manager), suffix="9")
    login_screen(http, other_manager)
    assert http.get(f"/commissionrules/show/{rule_id}").status_code == 404
    assert http.get(f"/commissionrules/edit/{rule_id}").status_code == 404
    assert f"/commissionrules/show/{rule_id}" not in page_text(http.get("/commissionrules/list/"))
    form = page_text(http.get(ADD))
    assert f'value="{other["company"]}"' in form
    assert f'value="{agency["company"]}"' not in form
    # Naming the other agency's insurer anyway is refused, nothing written.
    refused = http.post(ADD, data=_form(http, agency), follow_redirects=True)
    assert any(category == "danger" for category, _t in flashes(refused))
    assert _rule_count(app) == 1


def test_the_commissions_page_links_to_the_rules(app, http, login, manager, agency):
    login(manager)
    page = page_text(http.get("/commissions/"))
    assert 'href="/commissionrules/list/"' in page and "Gérer les règles" in page


def test_a_fixed_rule_without_its_amount_is_refused_on_edit(app, http, login, manager, agency):
    rule_id = add_rule(app, agency)
    login(manager)
    edit = f"/commissionrules/edit/{rule_id}"
    answer = http.post(
        edit,
        data={**_form(http, agency, basis="fixed"), "csrf_token": csrf_token(http, edit)},
    )
    assert answer.status_code == 200
    assert "Saisissez la commission fixe" in page_text(answer)
    with app.app_context():
        rule = db.session.get(CommissionRule, rule_id)
        assert rule.fixed_amount is None and rule.basis.value == "rate"
        assert db.session.scalar(select(func.count()).select_from(ExpectedCommission)) == 0
