"""List screens: the policy list opens on what staff work on (active, nearest expiry first),
keeps the user's last sort for the session, and never breaks a number across two lines."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import event

from app.extensions import db
from app.models import Client, Company, LineOfBusiness, Policy, PolicyStatus
from tests.conftest import login_screen, user_organisation
from tests.export_support import column, list_rows

LIST = "/policyview/list/"
BY_PREMIUM = "_oc_PolicyView=premium&_od_PolicyView=desc"
# (number, status, expiry date, premium)
POLICIES = [
    ("OLD-2019", PolicyStatus.expired, dt.date(2020, 1, 1), "900"),
    ("CAN-2021", PolicyStatus.cancelled, dt.date(2021, 6, 1), "800"),
    ("ACT-LATE", PolicyStatus.active, dt.date(2027, 9, 1), "100"),
    ("ACT-SOON", PolicyStatus.active, dt.date(2026, 12, 15), "200"),
    ("DRAFT-1", PolicyStatus.draft, dt.date(2026, 2, 1), "300"),
    ("SUSP-1", PolicyStatus.suspended, dt.date(2027, 1, 1), "400"),
]
WORK_ORDER = ["ACT-SOON", "ACT-LATE", "SUSP-1", "DRAFT-1", "OLD-2019", "CAN-2021"]


def _add_policies(app, organisation_id: int) -> int:
    """The policies above, for one client and insurer; returns the client's id."""
    with app.app_context():
        company = Company(organisation_id=organisation_id, name="Assureur", code="AS-001-2026")
        client = Client(
            organisation_id=organisation_id, last_name="Martin", phone="+33 6 12 34 56 78"
        )
        db.session.add_all([company, client])
        db.session.flush()
        for number, status, expiry, premium in POLICIES:
            db.session.add(
                Policy(
                    organisation_id=organisation_id,
                    number=number,
                    client_id=client.id,
                    company_id=company.id,
                    line_of_business=LineOfBusiness.auto,
                    status=status,
                    effective_date=expiry - dt.timedelta(days=365),
                    expiry_date=expiry,
                    premium=Decimal(premium),
                )
            )
        db.session.commit()
        return client.id


def _numbers(http, path: str) -> list[str]:
    return column(list_rows(http, path, 8), 0)


def _agency(app, make_user, login) -> int:
    user = make_user("USER")
    client_id = _add_policies(app, user_organisation(app, user))
    login(user)
    return client_id


def test_policy_list_opens_on_active_policies_nearest_expiry_first(app, http, make_user, login):
    _agency(app, make_user, login)
    assert _numbers(http, LIST) == WORK_ORDER
    assert _numbers(http, LIST)[0] == "ACT-SOON"
    # Page by page (the deep pages choose their ids on the policy table), the same order.
    pages = [_numbers(http, f"{LIST}?psize_PolicyView=2&page_PolicyView={n}") for n in range(3)]
    assert sum(pages, []) == WORK_ORDER


def test_a_sort_chosen_on_the_list_is_kept_when_the_list_is_opened_again(
    app, http, make_user, login
):
    _agency(app, make_user, login)
    sorted_path = f"{LIST}?{BY_PREMIUM}"
    # The user clicks the premium header on the list page (the browser sends its Referer).
    chosen = http.get(sorted_path, headers={"Referer": f"http://localhost{LIST}"})
    assert chosen.status_code == 200
    by_premium = ["OLD-2019", "CAN-2021", "SUSP-1", "DRAFT-1", "ACT-SOON", "ACT-LATE"]
    assert _numbers(http, sorted_path) == by_premium

    # Opened again from the menu: the same sort, in the URL so headers and pages follow it.
    reopened = http.get(LIST)
    assert reopened.status_code == 302
    assert "_oc_PolicyView=premium" in reopened.location
    assert "_od_PolicyView=desc" in reopened.location
    assert _numbers(http, reopened.location) == by_premium
    # Filters and pages of the request are kept beside the remembered sort.
    filtered = http.get(f"{LIST}?_flt_0_status=active")
    assert filtered.status_code == 302
    assert _numbers(http, filtered.location) == ["ACT-SOON", "ACT-LATE"]

    # "Default order" goes back to the work order and forgets the choice.
    page = http.get(reopened.location).get_data(as_text=True)
    link = re.search(r'id="default-order" href="([^"]+)"', page)
    assert link, "no way back to the default order"
    assert _numbers(http, link.group(1).replace("&amp;", "&")) == WORK_ORDER
    assert http.get(LIST).status_code == 200
    assert _numbers(http, LIST) == WORK_ORDER


def test_a_sort_brought_by_a_link_is_followed_not_remembered(app, http, make_user, login):
    _agency(app, make_user, login)
    # The home page's "expiring soon" link brings its own sort; it is not the user's choice.
    assert http.get(f"{LIST}?_oc_PolicyView=expiry_date&_od_PolicyView=asc").status_code == 200
    assert http.get(LIST).status_code == 200
    assert _numbers(http, LIST) == WORK_ORDER


def test_a_remembered_sort_is_the_users_own(app, http, make_user, login):
    _agency(app, make_user, login)
    http.get(f"{LIST}?{BY_PREMIUM}", headers={"Referer": f"http://localhost{LIST}"})
    other = app.test_client()  # another browser, another session
    login_screen(other, make_user("USER"))
    assert other.get(LIST).status_code == 200


def test_numbers_and_phones_stay_on_one_line(app, http, make_user, login):
    client_id = _agency(app, make_user, login)
    policies = http.get(LIST).get_data(as_text=True)
    assert re.search(r'<td class="text-nowrap">\s*ACT-SOON\s*</td>', policies)
    clients = http.get("/clientview/list/").get_data(as_text=True)
    assert re.search(r'<td class="text-nowrap">\s*\+33 6 12 34 56 78\s*</td>', clients)
    insurers = http.get("/companyview/list/").get_data(as_text=True)
    assert re.search(r'<td class="text-nowrap">\s*AS-001-2026\s*</td>', insurers)
    # The client's page lists its policies with the same cells.
    shown = http.get(f"/clientview/show/{client_id}").get_data(as_text=True)
    assert re.search(r'<td class="text-nowrap">\s*DRAFT-1\s*</td>', shown)


def test_the_first_page_is_read_in_order_from_the_work_index(app, http, make_user, login):
    """The default order is an expression: the query must be the index's, or the database
    sorts every policy of the agency for each page (docs/benchmarks.md)."""
    _agency(app, make_user, login)
    with app.app_context():
        engine = db.engine
    pages: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, *_args) -> None:
        if "FROM policy" in statement and "ORDER BY" in statement and "CASE" in statement:
            pages.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert http.get(LIST).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert pages, "no page query ordered by the work order"
    statement, parameters = pages[0]
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "ix_policy_organisation_work" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            # A handful of rows: left to itself the planner may sort them rather than read
            # an index. With sorting and scans priced out, it sorts only if no index can
            # give the order, which is what this test asks.
            connection.exec_driver_sql("SET enable_seqscan = off")
            connection.exec_driver_sql("SET enable_sort = off")
            plan = " ".join(
                row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
            )
            assert "ix_policy_organisation_work" in plan, plan
            assert "Sort" not in plan, plan
