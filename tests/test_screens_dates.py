"""One date format per language, in the organisation's time zone, on every screen.

French is day-first (10/12/2025 13:00), English spells the month (10 Dec 2025 13:00);
no screen shows an ISO date, microseconds or "+00:00". Forms use the browser's
date input (ISO in the value, the reader's format on screen) and save what it posts.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Client, Organisation, Policy
from tests.conftest import user_organisation
from tests.dates_support import build_world, date_offences, model_screens
from tests.screens_walk_support import walk
from tests.test_screens_support import csrf_token, page_text

FRENCH_NOON = "10/12/2025 13:00"  # 12:00 UTC in Paris, in winter (UTC+1)
ENGLISH_NOON = "10 Dec 2025 13:00"


@pytest.fixture
def world(app, make_user, portfolio, login):
    superadmin = make_user("SUPERADMIN")
    built = build_world(app, user_organisation(app, superadmin), portfolio)
    login(superadmin)
    return built


def _walked(http, app):
    pages = walk(http)
    # The walk is not vacuous: it met every list and show screen, and the others.
    missing = model_screens(app) - set(pages)
    assert missing == set(), missing
    for screen in ("/history/client/<n>", "/purge", "/purge/<n>", "/signing-keys"):
        assert screen in pages, (screen, sorted(pages))
    return pages


def test_every_screen_in_french_shows_day_first_local_times(app, http, world):
    pages = _walked(http, app)
    assert date_offences(pages) == []
    shown = {screen: " ".join(page.strings) for screen, page in pages.items()}
    for screen in (
        "/documentview/list",
        "/documentview/show/<n>",
        "/jobview/list",
        "/jobview/show/<n>",
        "/audit/list",
        "/clientview/show/<n>",
        "/templateview/show/<n>",
        "/purge",
        "/purge/<n>",
        "/signing-keys",
        "/history/client/<n>",
        "/templateview/versions/<n>",
    ):
        assert FRENCH_NOON in shown[screen], screen
    # The newest entry (this test's login) comes first: a time of today, day-first.
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", shown["/audit/show/<n>"])
    assert "01/01/2026" in shown["/policyview/list"]  # a date: day-first, no time
    assert "04/03/1980" in shown["/clientview/show/<n>"]


def test_every_screen_in_english_spells_the_month(app, http, world):
    http.get("/lang/en", follow_redirects=True)
    pages = _walked(http, app)
    assert date_offences(pages) == []
    shown = {screen: " ".join(page.strings) for screen, page in pages.items()}
    for screen in ("/documentview/list", "/jobview/show/<n>", "/audit/list", "/purge"):
        assert ENGLISH_NOON in shown[screen], screen
    assert "1 Jan 2026" in shown["/policyview/list"]
    assert "4 Mar 1980" in shown["/clientview/show/<n>"]
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", " ".join(shown.values()))  # 12/10/25


def test_times_follow_the_organisation_time_zone(app, http, world):
    with app.app_context():
        db.session.get(Organisation, world.organisation_id).timezone = "America/New_York"
        db.session.commit()
    page = page_text(http.get("/jobview/list/"))
    assert "10/12/2025 07:00" in page and FRENCH_NOON not in page


def test_users_last_login_is_local_and_day_first(app, http, world):
    page = page_text(http.get("/users/list/"))
    user_path = re.search(r'href="(/users/show/\d+)"', page).group(1)
    shown = page_text(http.get(user_path))
    now = dt.datetime.now(ZoneInfo("Europe/Paris"))
    assert now.strftime("%d/%m/%Y ") in shown, "no last login shown, or not day-first"
    assert not re.search(r"\d{4}-\d{2}-\d{2}", shown)


def test_a_signed_link_says_until_when_in_local_time(app, http, world):
    token = csrf_token(http, f"/links/{world.document_id}")
    page = page_text(
        http.post(f"/links/{world.document_id}", data={"csrf_token": token, "ttl": "3600"})
    )
    until = re.search(r"jusqu'au (\S+ \S+)", page)
    assert until, "no expiry shown"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}\.?", until.group(1))
    assert "UTC" not in page


def test_the_policy_form_has_date_inputs_and_saves_what_they_post(app, http, world):
    form = http.get(f"/policyview/edit/{world.policy_id}").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="expiry_date"[^>]*>', form).group(0)
    assert 'type="date"' in field and 'value="2027-01-01"' in field
    assert "appbuilder_date" not in form  # FAB's script picker is gone
    data = _policy_form(http, world.policy_id)
    response = http.post(
        f"/policyview/edit/{world.policy_id}",
        data={**data, "expiry_date": "2028-06-30"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Policy, world.policy_id).expiry_date == dt.date(2028, 6, 30)


def test_a_date_typed_day_first_in_french_is_read_day_first(app, http, world):
    data = _policy_form(http, world.policy_id)
    http.post(
        f"/policyview/edit/{world.policy_id}",
        data={**data, "expiry_date": "10/12/2027"},
        follow_redirects=True,
    )
    with app.app_context():
        assert db.session.get(Policy, world.policy_id).expiry_date == dt.date(2027, 12, 10)


def test_a_date_that_is_no_date_is_refused_beside_its_field(app, http, world):
    data = _policy_form(http, world.policy_id)
    page = page_text(
        http.post(f"/policyview/edit/{world.policy_id}", data={**data, "expiry_date": "demain"})
    )
    assert "Saisissez une date valide (jj/mm/aaaa)." in page
    typed = http.post(
        f"/policyview/edit/{world.policy_id}", data={**data, "expiry_date": '"><b>x'}
    ).get_data(as_text=True)
    assert "<b>x" not in typed and "&#34;&gt;&lt;b&gt;x" in typed  # echoed, escaped
    with app.app_context():
        assert db.session.get(Policy, world.policy_id).expiry_date == dt.date(2027, 1, 1)


def test_the_client_birth_date_input_shows_the_stored_date(app, http, world):
    form = http.get(f"/clientview/edit/{world.client_id}").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="birth_date"[^>]*>', form).group(0)
    assert 'type="date"' in field and 'value="1980-03-04"' in field
    with app.app_context():
        assert db.session.get(Client, world.client_id).birth_date == dt.date(1980, 3, 4)


def test_list_date_filters_read_french_dates_day_first(app, http, world):
    with app.app_context():
        db.session.get(Policy, world.policy_id).expiry_date = dt.date(2027, 3, 5)
        db.session.commit()
    # 05/03/2027 is 5 March (dateutil alone reads 3 May).
    on_that_day = page_text(http.get("/policyview/list/?_flt_0_expiry_date=05/03/2027"))
    before = page_text(http.get("/policyview/list/?_flt_2_expiry_date=06/03/2027"))
    assert "POL-7" in on_that_day and "POL-7" in before


def test_list_time_filters_read_local_time(app, http, world):
    # Stamped 12:00 UTC = 13:00 in Paris: after 12:30 Paris time, before 13:30.
    later = page_text(http.get("/jobview/list/?_flt_1_created_at=2025-12-10T12:30"))
    earlier = page_text(http.get("/jobview/list/?_flt_1_created_at=2025-12-10T13:30"))
    that_day = page_text(http.get("/jobview/list/?_flt_0_created_at=2025-12-10"))
    assert FRENCH_NOON in later and FRENCH_NOON not in earlier and FRENCH_NOON in that_day


def _policy_form(http, policy_id):
    """The edit form's current values, as a browser would post them back."""
    page = http.get(f"/policyview/edit/{policy_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(http, f"/policyview/edit/{policy_id}")}
    for name in ("number", "client_id", "company_id", "effective_date", "expiry_date"):
        value = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
            rf'<select[^>]*name="{name}".*?<option value="([^"]*)" selected', page, re.S
        )
        data[name] = value.group(1) if value else ""
    data.update(
        line_of_business="auto",
        status="active",
        premium="420,50",
        currency="EUR",
        payment_frequency="annual",
    )
    return data
