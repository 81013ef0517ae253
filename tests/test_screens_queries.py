"""The policy list and the home page run a fixed number of SQL queries, whatever the
number of rows (no query per row for the client and the insurer)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.extensions import db
from app.models import LineOfBusiness, Policy, PolicyStatus
from tests.conftest import user_organisation
from tests.test_screens_support import counted_queries


def _add_policies(app, organisation_id, how_many, start):
    from app.models import Client, Company

    with app.app_context():
        for n in range(start, start + how_many):
            company = Company(organisation_id=organisation_id, name=f"Assureur {n}", code=f"C{n}")
            client = Client(organisation_id=organisation_id, last_name=f"Nom {n}")
            db.session.add_all([company, client])
            db.session.flush()
            db.session.add(
                Policy(
                    organisation_id=organisation_id,
                    number=f"N-{n}",
                    client=client,
                    company=company,
                    line_of_business=LineOfBusiness.life,
                    effective_date=dt.date(2026, 1, 1),
                    expiry_date=dt.date(2027, 1, 1),
                    premium=Decimal("1"),
                )
            )
        db.session.commit()


def _add_my_tasks(app, organisation_id, username, how_many, client_id=None):
    from sqlalchemy import select

    from app.models import AppUser, Task

    with app.app_context():
        user_id = db.session.scalar(select(AppUser.id).where(AppUser.username == username))
        for n in range(how_many):
            db.session.add(
                Task(
                    organisation_id=organisation_id,
                    title=f"Tâche {n}",
                    due_on=dt.date(2026, 1, 1) + dt.timedelta(days=n),
                    assignee_id=user_id,
                    policy_id=db.session.scalar(select(Policy.id).limit(1)),
                    client_id=client_id,
                )
            )
        db.session.commit()


def _statements_for(app, http, path):
    """The SQL statements of one page view (FAB's per-process caches warmed first)."""
    http.get(path)
    with counted_queries(app) as statements:
        assert http.get(path).status_code == 200
    return list(statements)


def _queries_for(app, http, path):
    """(all queries, queries on business tables) for one page view."""
    statements = _statements_for(app, http, path)
    # FAB's menu and button permission checks (ab_* tables) are per page, not per row.
    business = [s for s in statements if " ab_" not in s and "ab_permission" not in s]
    return len(statements), len(business)


def test_policy_list_queries_do_not_grow_with_rows(app, http, make_user, login):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    login(user)
    _add_policies(app, organisation_id, 2, 0)
    few = _queries_for(app, http, "/policyview/list/")
    _add_policies(app, organisation_id, 20, 2)
    many = _queries_for(app, http, "/policyview/list/")
    assert many == few, (few, many)


def _add_policies_for_first_client(app, organisation_id, how_many):
    with app.app_context():
        first = db.session.query(Policy).order_by(Policy.id).first()
        for n in range(how_many):
            db.session.add(
                Policy(
                    organisation_id=organisation_id,
                    number=f"M-{n}",
                    client_id=first.client_id,
                    company_id=first.company_id,
                    line_of_business=LineOfBusiness.auto,
                    effective_date=dt.date(2026, 1, 1),
                    expiry_date=dt.date(2027, 1, 1),
                    premium=Decimal("1"),
                )
            )
        db.session.commit()
        return first.client_id


def test_client_page_with_its_policies_does_not_grow_with_rows(app, http, make_user, login):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    login(user)
    _add_policies(app, organisation_id, 1, 0)
    client_id = _add_policies_for_first_client(app, organisation_id, 1)
    few = _queries_for(app, http, f"/clientview/show/{client_id}")
    with app.app_context():
        db.session.query(Policy).filter(Policy.number.like("M-%")).delete()
        db.session.commit()
    _add_policies_for_first_client(app, organisation_id, 20)  # same client, more rows
    _add_my_tasks(app, organisation_id, user, 15, client_id=client_id)  # and its tasks
    many = _queries_for(app, http, f"/clientview/show/{client_id}")
    assert many == few, (few, many)
    # The client, its claims (one query, the newest 20) and its files (one query), then its
    # policies: count, and the page with its clients and insurers joined.
    assert few[1] == 5, few
    # Its tasks block: one query more, its assignees' names joined (so it joins ab_user and
    # is counted with FAB's above), whatever the number of tasks.
    statements = _statements_for(app, http, f"/clientview/show/{client_id}")
    on_tasks = [s for s in statements if "FROM task" in s]
    assert len(on_tasks) == 1, on_tasks
    assert "JOIN ab_user" in on_tasks[0]


def test_home_page_is_a_handful_of_counts(app, http, make_user, login):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    login(user)
    _add_policies(app, organisation_id, 2, 0)
    few = _queries_for(app, http, "/")
    _add_policies(app, organisation_id, 20, 2)
    _add_my_tasks(app, organisation_id, user, 15)  # "Mes tâches": one query, joined names
    assert _queries_for(app, http, "/") == few
    # Five COUNTs on indexed columns (the task list joins ab_user: counted with FAB's).
    assert few[1] == 5, few


def test_policy_list_counts_on_the_policy_table_alone(app, http, make_user, login):
    """The screen's count reads the policy table alone: FAB's wraps the whole row select
    in a subquery, which reads every policy of the organisation at 100,000 policies."""
    user = make_user("USER")
    _add_policies(app, user_organisation(app, user), 3, 0)
    login(user)
    http.get("/policyview/list/")
    with counted_queries(app) as statements:
        page = http.get("/policyview/list/?_oc_PolicyView=premium&_od_PolicyView=desc")
    assert page.status_code == 200
    counts = [s for s in statements if "count(" in s.lower() and "policy" in s.lower()]
    assert counts, statements
    for statement in counts:
        assert " join " not in statement.lower() and "from (select" not in statement.lower()


def test_audit_log_names_its_objects_in_one_query_per_type(app, http, make_user, login):
    """Each entry names its client, policy or insurer (linked): one query per object
    type on the page, whatever the number of entries."""
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    login(manager)
    _add_policies(app, organisation_id, 2, 0)  # audited: a creation entry per row
    few = _queries_for(app, http, "/audit/list/?psize_AuditLogView=100")
    _add_policies(app, organisation_id, 20, 2)
    many = _queries_for(app, http, "/audit/list/?psize_AuditLogView=100")
    assert many == few, (few, many)
    page = http.get("/audit/list/?psize_AuditLogView=100").get_data(as_text=True)
    assert page.count('href="/policyview/show/') == 22


def _add_due_contracts(app, organisation_id, how_many, start):
    """Contracts due in 20 days: their renewal cycles open in the flush that adds them."""
    from app.models import Client, Company
    from app.services.renewals.contracts import agency_today

    with app.app_context():
        today = agency_today(db.session, organisation_id)
        for n in range(start, start + how_many):
            company = Company(organisation_id=organisation_id, name=f"Assureur {n}", code=f"R{n}")
            client = Client(organisation_id=organisation_id, last_name=f"Nom {n}")
            db.session.add(
                Policy(
                    organisation_id=organisation_id,
                    number=f"R-{n}",
                    client=client,
                    company=company,
                    line_of_business=LineOfBusiness.home,
                    status=PolicyStatus.active,
                    effective_date=today - dt.timedelta(days=345),
                    expiry_date=today + dt.timedelta(days=20),
                    premium=Decimal("300"),
                )
            )
        db.session.commit()


def test_echeances_list_and_export_queries_do_not_grow_with_rows(app, http, make_user, login):
    """The Échéances list reads each cycle's contract, client and insurer per page, not per row."""
    from app.models import RenewalCycle

    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    login(user)
    _add_due_contracts(app, organisation_id, 2, 0)
    path = "/renewals/list/?_flt_0_due_within=30"
    few = _queries_for(app, http, path)
    few_export = _queries_for(app, http, "/renewals/export/csv")
    _add_due_contracts(app, organisation_id, 20, 2)
    with app.app_context():
        assert db.session.query(RenewalCycle).count() == 22
    many = _queries_for(app, http, path)
    assert many == few, (few, many)
    assert _queries_for(app, http, "/renewals/export/csv") == few_export


# Every statement of a list page, FAB's ab_* ones included: the user (with its roles and
# organisation), the user's permission set, the count, the page with its related rows
# joined, and at most one relation select of the search form.
LIST_PAGE_BUDGET = 6


def _permission_statements(statements):
    return [s for s in statements if "ab_permission_view_role" in s]


def _page_statements(app, http, path):
    http.get(path)  # warm FAB's per-process caches
    with counted_queries(app) as statements:
        assert http.get(path).status_code == 200
    return statements


def test_list_pages_ask_for_permissions_once_and_keep_the_budget(app, http, make_user, login):
    """A page asks one permission question per menu entry and button (15 on the policy
    list): the user's permission set is read once per request and answers them all."""
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    login(user)
    _add_policies(app, organisation_id, 3, 0)
    _add_due_contracts(app, organisation_id, 3, 10)
    for path in (
        "/policyview/list/",
        "/clientview/list/",
        "/companyview/list/",
        "/renewals/list/?_flt_0_due_within=30",
    ):
        statements = _page_statements(app, http, path)
        assert len(_permission_statements(statements)) == 1, (path, statements)
        assert len(statements) <= LIST_PAGE_BUDGET, (path, [s[:90] for s in statements])
    # The policy list: its client, insurer and agency select without a COUNT of their own.
    statements = _page_statements(app, http, "/policyview/list/")
    assert len(statements) == 5, [s[:90] for s in statements]
    home = _page_statements(app, http, "/")
    assert len(_permission_statements(home)) == 1


def test_the_permission_set_is_read_again_on_every_request(app, http, make_user, login):
    """Nothing outlives the request: a role changed between two pages counts on the second,
    for the page itself and for its menu entries."""
    from app.services.roles import MANAGER, USER

    username = make_user("USER")
    login(username)
    sm = app.appbuilder.sm

    def set_role(name):
        with app.app_context():
            account = sm.find_user(username=username)
            account.roles = [sm.find_role(name)]
            db.session.commit()

    assert 'href="/dashboard/' not in http.get("/policyview/list/").get_data(as_text=True)
    assert http.get("/dashboard/").status_code != 200
    set_role(MANAGER)
    assert 'href="/dashboard/' in http.get("/policyview/list/").get_data(as_text=True)
    assert http.get("/dashboard/").status_code == 200
    set_role(USER)
    assert 'href="/dashboard/' not in http.get("/policyview/list/").get_data(as_text=True)
    assert http.get("/dashboard/").status_code != 200
