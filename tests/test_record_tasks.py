"""Each record's page lists its tasks: the contract's, the client's and the premium notice's
pages show a tasks block (open ones first, overdue flagged, the due date as the reader reads
dates, who has it, a link to each) and lead to the record's full task list. Only the
reader's agency's tasks, and only the record's."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import AppUser, NoticeKind, PremiumNotice, Task, TaskStatus, Team
from tests.conftest import user_organisation

TODAY = dt.date.today()


def _task(app, org: int, title: str, due: dt.date, **columns) -> int:
    with app.app_context():
        task = Task(organisation_id=org, title=title, due_on=due, **columns)
        db.session.add(task)
        db.session.commit()
        return task.id


def _notice(app, org: int, policy_id: int) -> int:
    with app.app_context():
        notice = PremiumNotice(
            organisation_id=org,
            policy_id=policy_id,
            number="POL-1/2026",
            kind=NoticeKind.one_off,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2027, 1, 1),
            due_on=dt.date(2026, 1, 1),
            pay_by=dt.date(2026, 1, 11),
            amount_before_tax=Decimal("350.00"),
            taxes=Decimal("70.50"),
            fees=Decimal("0.00"),
            total=Decimal("420.50"),
        )
        db.session.add(notice)
        db.session.commit()
        return notice.id


def _block(page: str) -> str:
    match = re.search(
        r'<div class="panel panel-default" id="record-task-block">(.*?)</table>', page, re.S
    )
    assert match, "no tasks block on the page"
    return match.group(1)


def _rows(block: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-task="(\d+)">(.*?)</tr>', block, re.S)


def test_a_contracts_page_lists_its_tasks_open_first_overdue_flagged(
    app, http, make_user, make_organisation, login, portfolio
):
    user = make_user("USER")
    org = user_organisation(app, user)
    ids = portfolio(org)
    other = portfolio(org, "2")
    foreign_org = make_organisation()
    with app.app_context():
        db.session.execute(
            AppUser.__table__.update()
            .where(AppUser.username == user)
            .values(first_name="Camille", last_name="Durand")
        )
        db.session.commit()
        user_id = db.session.scalar(select(AppUser.id).where(AppUser.username == user))
    record = {"policy_id": ids["policy"], "client_id": ids["client"]}
    done = _task(
        app, org, "Classée", TODAY - dt.timedelta(days=30), status=TaskStatus.done, **record
    )
    later = _task(app, org, "Plus tard", TODAY + dt.timedelta(days=5), team=Team.MANAGER, **record)
    late = _task(
        app, org, "En souffrance", TODAY - dt.timedelta(days=2), assignee_id=user_id, **record
    )
    _task(app, org, "Autre contrat", TODAY, policy_id=other["policy"], client_id=other["client"])
    # A row of another agency pointing at this contract: never shown to this agency's reader.
    _task(app, foreign_org, "Autre agence", TODAY, **record)
    login(user)
    page = http.get(f"/policyview/show/{ids['policy']}").get_data(as_text=True)
    block = _block(page)
    rows = _rows(block)
    assert [int(task_id) for task_id, _ in rows] == [late, later, done]
    assert "Autre contrat" not in block and "Autre agence" not in page
    late_row, later_row, done_row = (html for _, html in rows)
    overdue_on = (TODAY - dt.timedelta(days=2)).strftime("%d/%m/%Y")
    assert overdue_on in late_row and "En retard" in late_row and "Camille Durand" in late_row
    assert "En retard" not in later_row and "Responsables" in later_row
    assert "En retard" not in done_row and "Terminée" in done_row
    assert f'href="/tasks/?status=all&amp;policy={ids["policy"]}#task-{late}"' in late_row
    assert f'href="/tasks/?policy={ids["policy"]}"' in page and "Ses tâches" in page
    # The link lands on the task's row of the contract's list.
    listed = http.get(f"/tasks/?status=all&policy={ids['policy']}").get_data(as_text=True)
    assert f'id="task-{late}"' in listed and f'id="task-{done}"' in listed


def test_a_clients_page_lists_its_tasks(app, http, make_user, login, portfolio):
    user = make_user("USER")
    org = user_organisation(app, user)
    ids = portfolio(org)
    other = portfolio(org, "2")
    _task(app, org, "Appeler la cliente", TODAY, client_id=ids["client"])
    _task(app, org, "Un autre client", TODAY, client_id=other["client"])
    login(user)
    page = http.get(f"/clientview/show/{ids['client']}").get_data(as_text=True)
    block = _block(page)
    assert "Appeler la cliente" in block and "Un autre client" not in block
    assert f'href="/tasks/?client={ids["client"]}"' in page


def test_a_premium_notices_page_lists_its_tasks_and_leads_to_its_list(
    app, http, make_user, login, portfolio
):
    user = make_user("USER")
    org = user_organisation(app, user)
    ids = portfolio(org)
    notice = _notice(app, org, ids["policy"])
    record = {"policy_id": ids["policy"], "client_id": ids["client"]}
    _task(app, org, "Relancer l'impayé", TODAY, premium_notice_id=notice, **record)
    _task(app, org, "Sur le contrat seulement", TODAY, **record)
    login(user)
    page = http.get(f"/premiumnoticeview/show/{notice}").get_data(as_text=True)
    block = _block(page)
    assert "Relancer l&#39;impayé" in block and "Sur le contrat seulement" not in block
    assert f'href="/tasks/?notice={notice}"' in page
    listed = http.get(f"/tasks/?notice={notice}").get_data(as_text=True)
    assert "Relancer l&#39;impayé" in listed and "Sur le contrat seulement" not in listed


def test_a_record_without_tasks_says_so(app, http, make_user, login, portfolio):
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user))
    login(user)
    page = http.get(f"/policyview/show/{ids['policy']}").get_data(as_text=True)
    assert 'id="record-task-block"' in page and "Aucune tâche à son sujet." in page
