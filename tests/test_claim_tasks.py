"""The work queue chases a claim's missing documents: the default rule "Pièces de sinistre
manquantes" creates one task per claim, linked to it, a week after the documents were
asked for and while one is still missing; never for a closed claim, never twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import Claim, ClaimStatus, Policy, Task, TaskRule, TaskTrigger
from app.services.claims import documents, lifecycle
from app.services.tasks import engine
from app.services.tasks.defaults import install_defaults
from tests.conftest import user_organisation
from tests.test_api_premiums import make_policy
from tests.test_screens_support import page_text

ASKED = dt.date(2026, 3, 2)


def _claim(session, policy_id: int, nature: str = "water_damage") -> Claim:
    policy = session.get(Policy, policy_id)
    claim = lifecycle.record_claim(
        session, policy, today=ASKED, nature=nature, occurred_on=ASKED - dt.timedelta(days=3)
    )
    session.flush()
    return claim


def _tasks(session, organisation_id: int) -> list[Task]:
    return list(
        session.scalars(
            select(Task).where(Task.organisation_id == organisation_id).order_by(Task.id)
        )
    )


def test_a_task_chases_the_missing_documents_a_week_after_they_were_asked(
    app, http, login, make_user, make_organisation
):
    user = make_user("USER")
    org = user_organisation(app, user)
    other = make_organisation()
    policies = [make_policy(app, org, f"SIN-{letter}", 400) for letter in "ABC"]
    policies.append(make_policy(app, other, "SIN-D", 400))
    with app.app_context():
        session = db.session
        install_defaults(session, org)
        install_defaults(session, other)
        waiting = _claim(session, policies[0])
        complete = _claim(session, policies[1], nature="glass")
        closed = _claim(session, policies[2])
        elsewhere = _claim(session, policies[3])
        for item in documents.checklist(session, complete):
            documents.receive(session, complete, item.id, ASKED, ASKED)
        first = documents.checklist(session, waiting)[0]
        documents.receive(session, waiting, first.id, ASKED, ASKED)
        lifecycle.change_status(closed, ClaimStatus.closed, today=ASKED, reason="no_follow_up")
        session.commit()
        ids = (waiting.id, waiting.number, elsewhere.id)

        engine.apply_rules(session, organisation_id=org, today=ASKED + dt.timedelta(days=6))
        assert [t for t in _tasks(session, org) if t.claim_id] == []

        run = engine.apply_rules(session, today=ASKED + dt.timedelta(days=7))
        tasks = [t for t in _tasks(session, org) if t.claim_id]
        assert [task.claim_id for task in tasks] == [ids[0]]
        task = tasks[0]
        rule = session.get(TaskRule, task.rule_id)
        assert rule.trigger is TaskTrigger.claim_documents_missing
        # Water damage asks four documents; one came in.
        assert task.title == f"Relancer Jeanne SIN-A : 3 pièce(s) manquante(s), sinistre {ids[1]}"
        assert task.due_on == ASKED + dt.timedelta(days=10)
        assert task.policy_id == waiting.policy_id and task.client_id == waiting.client_id
        assert task.claim.number == ids[1]
        # The other agency's claim gets its own agency's task, never this one's.
        assert [t.claim_id for t in _tasks(session, other) if t.claim_id] == [ids[2]]
        assert run.created[org] >= 1

        # Re-run: nothing twice.
        again = engine.apply_rules(session, organisation_id=org, today=ASKED + dt.timedelta(9))
        assert again.created.get(org, 0) == 0
        assert len([t for t in _tasks(session, org) if t.claim_id]) == 1

    # The claim's page shows the task.
    login(user)
    page = page_text(http.get(f"/claims/show/{ids[0]}"))
    assert 'id="claim-tasks"' in page and f"sinistre {ids[1]}" in page


def test_the_dry_run_lists_the_claims_task(app, make_user):
    org = user_organisation(app, make_user("USER"))
    policy_id = make_policy(app, org, "SIN-E", 400)
    with app.app_context():
        session = db.session
        install_defaults(session, org)
        claim = _claim(session, policy_id)
        session.commit()
        run = engine.apply_rules(
            session, organisation_id=org, today=ASKED + dt.timedelta(days=8), dry_run=True
        )
        planned = [plan.as_dict() for plan in run.planned if plan.claim_id]
        assert [plan["claim_id"] for plan in planned] == [claim.id]
        assert _tasks(session, org) == []
