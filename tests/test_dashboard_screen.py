"""The manager dashboard through its door: numbers, scope, roles, filters, safety."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from app.models import DocumentStatus, JobStatus, LineOfBusiness, PolicyStatus
from tests.conftest import user_organisation
from tests.dashboard_support import (
    TODAY,
    Agency,
    bar_values,
    column_values,
    segment_values,
    svg,
    text_of,
)

READY, FAILED = "#5cb85c", "#d9534f"


@pytest.fixture
def agencies(app, make_organisation):
    """Agency A (the manager's) and B (a neighbour with more of everything)."""
    a, b = Agency(app, make_organisation("Cabinet A")), Agency(app, make_organisation("Cabinet B"))
    axa, mma = a.insurer("AXA <France>"), a.insurer("MMA")
    a.policy(axa, line=LineOfBusiness.home)
    a.policy(axa, line=LineOfBusiness.home)
    a.policy(axa, status=PolicyStatus.draft)
    a.policy(mma, status=PolicyStatus.cancelled, line=LineOfBusiness.life)
    other = b.insurer("Generali")
    for _ in range(5):
        b.policy(other, line=LineOfBusiness.travel)
    return {"a": a, "b": b, "axa": axa, "mma": mma, "generali": other}


def manager_of(make_user, agency: Agency, role: str = "MANAGER") -> str:
    return make_user(role, agency.organisation_id)


def test_manager_sees_the_numbers_of_their_agency_only(http, login, make_user, agencies):
    login(manager_of(make_user, agencies["a"]))
    page = http.get("/dashboard/").get_data(as_text=True)
    assert bar_values(page, "chart-status") == {
        "Brouillon": 1,
        "En cours": 2,
        "Suspendu": 0,
        "Résilié": 1,
        "Expiré": 0,
    }
    # Insurer names are user data: escaped in the labels and the tooltips.
    assert bar_values(page, "chart-insurers") == {"AXA <France>": 3, "MMA": 1}
    assert "AXA &lt;France&gt;" in svg(page, "chart-insurers")
    assert "<France>" not in page
    lines = bar_values(page, "chart-lines")
    assert (lines["Habitation"], lines["Automobile"], lines["Vie"], lines["Assistance voyage"]) == (
        2,
        1,
        1,
        0,
    )
    assert "Generali" not in page


def test_user_is_refused_like_other_forbidden_screens(http, login, make_user, agencies):
    login(manager_of(make_user, agencies["a"], "USER"))
    # FAB's has_access: a logged-in user without the permission gets 403.
    assert http.get("/dashboard/").status_code == 403
    assert 'href="/dashboard/"' not in http.get("/").get_data(as_text=True)  # no menu entry


@pytest.mark.parametrize("role", ["MANAGER", "ADMIN"])
def test_managers_and_admins_reach_it_from_the_menu(http, login, make_user, agencies, role):
    login(manager_of(make_user, agencies["a"], role))
    assert 'href="/dashboard/"' in http.get("/").get_data(as_text=True)
    assert http.get("/dashboard/").status_code == 200


def test_anonymous_goes_to_the_login_page(http):
    response = http.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_manager_cannot_look_at_another_agency(http, login, make_user, agencies):
    login(manager_of(make_user, agencies["a"]))
    http.get("/lang/en", follow_redirects=True)  # messages in their msgid: catalogue-proof
    b = agencies["b"].organisation_id
    page = http.get(f"/dashboard/?organisation_id={b}", follow_redirects=True).get_data(
        as_text=True
    )
    assert "Unknown agency" in page
    assert bar_values(page, "chart-status")["Active"] == 2
    assert "Generali" not in page
    assert 'name="organisation_id"' not in page  # no agency select for a manager


def test_superadmin_sees_every_agency_or_the_one_chosen(app, http, login, make_user, agencies):
    login(make_user("SUPERADMIN", agencies["a"].organisation_id))
    every = http.get("/dashboard/").get_data(as_text=True)
    assert bar_values(every, "chart-status")["En cours"] == 7
    assert 'name="organisation_id"' in every and "Cabinet B" in every
    b = agencies["b"].organisation_id
    chosen = http.get(f"/dashboard/?organisation_id={b}").get_data(as_text=True)
    assert bar_values(chosen, "chart-status")["En cours"] == 5
    assert bar_values(chosen, "chart-insurers") == {"Generali": 5}
    assert f'<option value="{b}" selected>Cabinet B</option>' in chosen


def test_insurer_filter_changes_every_policy_chart(http, login, make_user, agencies):
    a = agencies["a"]
    a.policy(agencies["mma"], expiry=TODAY + dt.timedelta(days=5), effective=TODAY)
    login(manager_of(make_user, a))
    page = http.get(f"/dashboard/?company_id={agencies['mma']}").get_data(as_text=True)
    assert bar_values(page, "chart-status")["En cours"] == 1
    assert bar_values(page, "chart-status")["Résilié"] == 1
    assert bar_values(page, "chart-insurers") == {"MMA": 2}
    assert bar_values(page, "chart-lines")["Habitation"] == 0
    assert text_of(page, "expiring-30") == "1"
    assert sum(column_values(page, "chart-premiums-EUR")) == Decimal("100.00")
    every = http.get("/dashboard/").get_data(as_text=True)
    assert bar_values(every, "chart-status")["En cours"] == 3


def test_premiums_per_month_follow_the_period(http, login, make_user, agencies):
    a = agencies["a"]
    this_month = TODAY.replace(day=1)
    four_months_ago = (this_month - dt.timedelta(days=100)).replace(day=1)
    a.policy(agencies["axa"], effective=this_month, premium="1234.50")
    a.policy(agencies["axa"], effective=this_month, premium="10.25", status=PolicyStatus.expired)
    a.policy(agencies["axa"], effective=this_month, premium="999.00", status=PolicyStatus.draft)
    a.policy(agencies["mma"], effective=four_months_ago, premium="300.00")
    a.policy(agencies["mma"], effective=four_months_ago, premium="7.00", currency="CHF")
    agencies["b"].policy(agencies["generali"], effective=this_month, premium="5000.00")
    login(manager_of(make_user, a))

    year = http.get("/dashboard/").get_data(as_text=True)
    months = column_values(year, "chart-premiums-EUR")
    assert len(months) == 12
    assert months[-1] == Decimal("1244.75")  # the draft is not written business
    assert months[-5] == Decimal("300.00")
    assert sum(months) == Decimal("1544.75")
    assert column_values(year, "chart-premiums-CHF")[-5] == Decimal("7.00")
    assert "1\u202f544,75\xa0€" in year  # the total, formatted like the policy list

    quarter = http.get("/dashboard/?months=3").get_data(as_text=True)
    assert column_values(quarter, "chart-premiums-EUR") == [0, 0, Decimal("1244.75")]
    assert "chart-premiums-CHF" not in quarter


def test_english_money_and_labels(http, login, make_user, agencies):
    agencies["a"].policy(agencies["axa"], effective=TODAY.replace(day=1), premium="1234.50")
    login(manager_of(make_user, agencies["a"]))
    http.get("/lang/en", follow_redirects=True)
    page = http.get("/dashboard/").get_data(as_text=True)
    assert "€1,234.50" in page
    assert bar_values(page, "chart-status")["Cancelled"] == 1


def test_documents_and_failed_jobs_per_day(http, login, make_user, agencies):
    a, b = agencies["a"], agencies["b"]
    for status in (DocumentStatus.ready, DocumentStatus.ready, DocumentStatus.failed):
        a.document(status)
    a.document(DocumentStatus.queued)  # in flight: neither ready nor failed
    a.document(DocumentStatus.ready, days_ago=40)  # before this month, inside 3 months
    b.document(DocumentStatus.failed)
    a.job(JobStatus.failed)
    a.job(JobStatus.failed, days_ago=40)
    a.job(JobStatus.succeeded)
    b.job(JobStatus.failed)
    login(manager_of(make_user, a))

    month = http.get("/dashboard/?months=1").get_data(as_text=True)
    assert len(column_values(month, "chart-documents")) == TODAY.day
    assert column_values(month, "chart-documents")[-1] == 3
    assert segment_values(month, "chart-documents", READY) == 2
    assert segment_values(month, "chart-documents", FAILED) == 1
    assert (text_of(month, "documents-ready"), text_of(month, "documents-failed")) == ("2", "1")
    assert column_values(month, "chart-jobs")[-1] == 1
    assert text_of(month, "jobs-failed") == "1"

    quarter = http.get("/dashboard/?months=3").get_data(as_text=True)
    assert segment_values(quarter, "chart-documents", READY) == 3
    assert text_of(quarter, "jobs-failed") == "2"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("months=7", "Unknown period"),
        ("months=abc", "Unknown period"),
        ("months=", None),
        ("company_id=999999", "Unknown insurer"),
        ("company_id=%C2%B2", "Unknown insurer"),
        ("company_id=99999999999999999999", "Unknown insurer"),
        ("company_id=x&company_id=1", "Unknown insurer"),
        ("organisation_id=-1", "Unknown agency"),
    ],
)
def test_invalid_filters_flash_and_fall_back_to_defaults(
    http, login, make_user, agencies, query, message
):
    login(manager_of(make_user, agencies["a"]))
    http.get("/lang/en", follow_redirects=True)
    response = http.get(f"/dashboard/?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    if message:
        assert message in page
    else:
        assert "Unknown" not in page
    assert bar_values(page, "chart-status")["Active"] == 2
    assert len(column_values(page, "chart-jobs")) > 28  # the default period: 12 months


def test_another_agencys_insurer_is_an_unknown_insurer(http, login, make_user, agencies):
    login(manager_of(make_user, agencies["a"]))
    http.get("/lang/en", follow_redirects=True)
    page = http.get(f"/dashboard/?company_id={agencies['generali']}").get_data(as_text=True)
    assert "Unknown insurer" in page
    assert bar_values(page, "chart-status")["Active"] == 2
    assert "Generali" not in page


def test_the_page_loads_nothing_from_another_host(app, http, login, make_user, agencies):
    login(manager_of(make_user, agencies["a"]))
    page = http.get("/dashboard/").get_data(as_text=True)
    external = re.findall(r'(?:src|href)\s*=\s*["\']?\s*((?:https?:)?//[^"\'\s>]*)', page)
    assert external == []


def test_no_organisation_no_numbers(app, http, login, make_user, agencies):
    username = manager_of(make_user, agencies["a"])
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        user = db.session.query(AppUser).filter_by(username=username).one()
        user.organisation_id = None
        db.session.commit()
    login(username)
    page = http.get("/dashboard/").get_data(as_text=True)
    assert set(bar_values(page, "chart-status").values()) == {0}
    assert user_organisation(app, username) is None
