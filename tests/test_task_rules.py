"""Task rules: the records they fire for, once each, whoever runs them and how often.

The defaults of a new agency on a contract whose renewal cycle is open; the premium
triggers on notices issued and moved by the premium services; the daily Huey task; the
dry run; two workers racing; a broken title; and the rows of another agency left alone.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    AppUser,
    AssigneeRule,
    AuditLog,
    PaymentFrequency,
    Policy,
    PremiumNotice,
    RenewalCycle,
    Task,
    TaskRule,
    TaskSource,
    TaskTrigger,
    Team,
)
from app.models.base import ModelValidationError
from app.services.premiums import issuing, procedure
from app.services.tasks import engine
from app.services.tasks.defaults import CATEGORIES, RULES, install_defaults
from app.services.validation import validate_item
from app.tasks.work_queue import apply_task_rules

D = dt.date
TODAY = D(2026, 12, 7)


@pytest.fixture
def agency(app, make_organisation, portfolio):
    """An agency with the default rules and one contract whose cycle (échéance 1 Jan) is open."""
    org = make_organisation()
    ids = portfolio(org)
    with app.app_context():
        install_defaults(db.session, org)
        db.session.commit()
        cycle = db.session.scalar(
            select(RenewalCycle).where(RenewalCycle.policy_id == ids["policy"])
        )
        assert cycle is not None, "the contract's flush opens its cycle"
        # Opened on the tests' pinned day, whatever day the suite runs on.
        cycle.created_at = dt.datetime.combine(TODAY, dt.time(9))
        db.session.commit()
        ids["cycle"] = cycle.id
    return org, ids


def tasks_of(org: int) -> list[Task]:
    return list(
        db.session.scalars(select(Task).where(Task.organisation_id == org).order_by(Task.id))
    )


def rule_named(org: int, name: str) -> TaskRule:
    return db.session.scalar(
        select(TaskRule).where(TaskRule.organisation_id == org, TaskRule.name == name)
    )


def test_defaults_are_added_once_and_keep_an_agencys_edits(app, agency):
    org, _ids = agency
    with app.app_context():
        rule = rule_named(org, RULES[0].name)
        rule.offset_days = 3
        db.session.commit()
        assert install_defaults(db.session, org) == 0
        db.session.commit()
        assert rule_named(org, RULES[0].name).offset_days == 3
        assert db.session.scalar(
            select(func.count()).select_from(TaskRule).where(TaskRule.organisation_id == org)
        ) == len(RULES)
        assert len(CATEGORIES) == 5


def test_a_rerun_creates_nothing_new_and_the_title_is_french(app, agency):
    org, ids = agency
    with app.app_context():
        first = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        # The cycle was opened today: "review the renewal" fires; the échéance (1 Jan) is
        # 25 days away, within "without a decision" (-30); the avis' last day (1 Nov) has
        # passed with no avis sent (-15).
        names = sorted(task.rule.name for task in tasks_of(org))
        assert names == sorted(
            ["Revoir le renouvellement", "Échéance sans décision", "Avis d'échéance non envoyé"]
        )
        assert first.summary()["created"] == 3
        review = next(t for t in tasks_of(org) if t.rule.name == "Revoir le renouvellement")
        assert review.title == "Revoir le renouvellement de POL-1 (Jeanne Martin1)"
        assert (review.policy_id, review.client_id, review.renewal_cycle_id) == (
            ids["policy"],
            ids["client"],
            ids["cycle"],
        )
        assert review.source is TaskSource.rule and review.due_on == TODAY + dt.timedelta(days=14)
        # No manager on the contract: the managers get it, to hand it out.
        assert (review.assignee_id, review.team) == (None, Team.MANAGER)

        again = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        later = engine.apply_rules(
            db.session, organisation_id=org, today=TODAY + dt.timedelta(days=5)
        )
        assert again.summary()["created"] == 0 and later.summary()["created"] == 0
        assert len(tasks_of(org)) == 3
        entries = db.session.execute(
            select(AuditLog.organisation_id, AuditLog.changes).where(
                AuditLog.action == "tasks_created"
            )
        ).all()
        assert len(entries) == 1 and entries[0][0] == org


def test_a_dry_run_lists_and_writes_nothing(app, agency):
    org, ids = agency
    with app.app_context():
        dry = engine.apply_rules(db.session, organisation_id=org, today=TODAY, dry_run=True)
        assert tasks_of(org) == []
        assert len(dry.planned) == 3 and dry.summary()["dry_run"] is True
        assert {plan.policy_id for plan in dry.planned} == {ids["policy"]}
        real = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        assert real.summary()["created"] == len(dry.planned)
        assert sorted(t.title for t in tasks_of(org)) == sorted(p.title for p in dry.planned)


def test_two_workers_racing_insert_each_task_once(app, agency):
    org, _ids = agency
    with app.app_context():
        rule_id = rule_named(org, "Revoir le renouvellement").id
        db.session.commit()
        with Session(db.engine) as first, Session(db.engine) as second:
            # Both read the candidates before either writes: each would create the task.
            plan_a = engine.plan_rule(first, first.get(TaskRule, rule_id), TODAY)
            plan_b = engine.plan_rule(second, second.get(TaskRule, rule_id), TODAY)
            assert len(plan_a) == len(plan_b) == 1
            assert engine.insert_tasks(first, [row for _p, row in plan_a]) == 1
            first.commit()
            assert engine.insert_tasks(second, [row for _p, row in plan_b]) == 0
            second.commit()
        assert len(tasks_of(org)) == 1


def test_the_contracts_manager_or_a_named_user_gets_the_task(app, agency, make_user):
    org, ids = agency
    manager = make_user("USER", org)
    named = make_user("MANAGER", org)
    with app.app_context():
        manager_id = db.session.scalar(select(AppUser.id).where(AppUser.username == manager))
        named_id = db.session.scalar(select(AppUser.id).where(AppUser.username == named))
        db.session.get(Policy, ids["policy"]).manager_id = manager_id
        chase = rule_named(org, "Avis d'échéance non envoyé")
        chase.assignee_rule, chase.assignee_id = AssigneeRule.user, named_id
        db.session.commit()
        engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        owners = {t.rule.name: (t.assignee_id, t.team) for t in tasks_of(org)}
        assert owners["Revoir le renouvellement"] == (manager_id, None)
        assert owners["Avis d'échéance non envoyé"] == (named_id, None)


def test_a_manager_of_another_agency_is_refused(app, agency, make_user, make_organisation):
    org, ids = agency
    stranger = make_user("USER", make_organisation())
    with app.app_context():
        stranger_id = db.session.scalar(select(AppUser.id).where(AppUser.username == stranger))
        policy = db.session.get(Policy, ids["policy"])
        policy.manager_id = stranger_id
        with pytest.raises(ModelValidationError) as refused:
            validate_item(db.session, policy)
        assert "manager_id" in refused.value.errors
        db.session.rollback()


def test_unpaid_notice_rules_follow_the_l113_3_stages(app, agency):
    org, ids = agency
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        policy.payment_frequency = PaymentFrequency.monthly
        for name in (
            "Revoir le renouvellement",
            "Échéance sans décision",
            "Avis d'échéance non envoyé",
        ):
            rule_named(org, name).active = False
        db.session.commit()
        issuing.issue_due(db.session, policy_id=ids["policy"], until=D(2026, 12, 31), today=TODAY)
        db.session.commit()
        december = db.session.scalar(
            select(PremiumNotice).where(PremiumNotice.due_on == D(2026, 12, 1))
        )
        # Due 1 Dec, "unpaid" fires at due + 10 days: not on the 10th (the older notices do).
        engine.apply_rules(db.session, organisation_id=org, today=D(2026, 12, 10))
        assert december.id not in {t.premium_notice_id for t in tasks_of(org)}
        assert all(t.premium_notice.due_on <= D(2026, 11, 30) for t in tasks_of(org))
        procedure.move_stages(db.session, organisation_id=org, today=D(2026, 12, 12))
        db.session.commit()
        engine.apply_rules(db.session, organisation_id=org, today=D(2026, 12, 12))
        by_rule = {
            (t.rule.name, t.premium_notice_id): t for t in tasks_of(org) if t.premium_notice_id
        }
        assert ("Quittance impayée", december.id) in by_rule
        formal = by_rule[("Mise en demeure possible", december.id)]
        assert formal.team is Team.MANAGER and formal.type.value == "validation"
        assert "quittance POL-1/1-12" in formal.title
        unpaid = by_rule[("Quittance impayée", december.id)]
        assert unpaid.title.startswith("Relancer Jeanne Martin1 : quittance POL-1/1-12 impayée (")
        assert unpaid.due_on == D(2026, 12, 16)  # fired 11 Dec, due 5 days later
        # The mise en demeure sent on 12 Dec suspends the cover 30 days later (L113-3):
        # "Suspension des garanties" fires on that day, not the day before.
        procedure.record_formal_notice(
            db.session,
            december,
            sent_on=D(2026, 12, 12),
            registered_letter_number="1A",
            today=D(2026, 12, 12),
        )
        db.session.commit()
        assert december.suspension_on == D(2027, 1, 11)

        def suspended() -> list[Task]:
            return [
                t
                for t in tasks_of(org)
                if t.premium_notice_id == december.id and t.rule.name == "Suspension des garanties"
            ]

        engine.apply_rules(db.session, organisation_id=org, today=D(2027, 1, 10))
        assert suspended() == []
        engine.apply_rules(db.session, organisation_id=org, today=D(2027, 1, 11))
        [suspension] = suspended()
        assert suspension.title.startswith("Garanties suspendues : POL-1")


def test_a_broken_title_skips_its_rule_only(app, agency):
    org, _ids = agency
    with app.app_context():
        broken = rule_named(org, "Revoir le renouvellement")
        broken.title_template = "Revoir {{ policy.number | nosuchfilter }}"
        db.session.commit()
        run = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        assert list(run.failed_rules) == [broken.id]
        assert len(tasks_of(org)) == 2


def test_rules_never_reach_another_agencys_records(app, agency, make_organisation, portfolio):
    org, _ids = agency
    other = make_organisation()
    portfolio(other, "B")  # its cycle is open too, but the agency has no rules
    with app.app_context():
        run = engine.apply_rules(db.session, today=TODAY)
        assert run.created == {org: 3}
        assert tasks_of(other) == []
        assert all(t.policy.organisation_id == org for t in tasks_of(org))


def test_the_daily_task_applies_every_agency_once(app, agency, make_organisation, portfolio):
    org, _ids = agency
    other = make_organisation()
    portfolio(other, "B")
    with app.app_context():
        install_defaults(db.session, other)
        db.session.commit()
        first = apply_task_rules.call_local()
        second = apply_task_rules.call_local()
        assert (first["created"], first["organisations"], first["failed"]) == (6, 2, [])
        assert second["created"] == 0
        assert db.session.scalar(select(func.count()).select_from(Task)) == 6
        users = set(
            db.session.scalars(select(AuditLog.username).where(AuditLog.action == "tasks_created"))
        )
        assert users == {"periodic"}


def test_the_cli_dry_run_lists_then_the_run_creates(app, agency):
    org, _ids = agency
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["monassurance", "apply-task-rules", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "dry run: would create" in dry.output and "Revoir le renouvellement de POL-1" in dry.output
    )
    with app.app_context():
        assert tasks_of(org) == []
    done = runner.invoke(args=["monassurance", "apply-task-rules", "--organisation-id", str(org)])
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert len(tasks_of(org)) >= 1


def test_a_trigger_of_each_kind_has_a_default_rule():
    assert {rule.trigger for rule in RULES} == set(TaskTrigger)


def test_the_demo_agency_starts_with_its_rules_and_renewals_to_review(app):
    from app.services import demo

    with app.app_context():
        # The demo's cycles are opened now (created_at): its rules run on the real day.
        summary = demo.load_demo_data(db.session, today=dt.datetime.now(dt.UTC).date())
        reviews = db.session.scalars(
            select(Task.title).where(
                Task.organisation_id == summary.organisation_id,
                Task.title.startswith("Revoir le renouvellement de CDC"),
            )
        ).all()
        assert reviews, "the demo's open renewal cycles each get a review task"
        assert db.session.scalar(
            select(func.count())
            .select_from(TaskRule)
            .where(TaskRule.organisation_id == summary.organisation_id)
        ) == len(RULES)
