"""The purge service: a dry run lists exactly what goes; applying removes exactly that."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import (
    AuditLog,
    Document,
    DocumentStatus,
    Job,
    JobStatus,
    PurgeRun,
    SpentLink,
    TemplateKind,
)
from app.services import audit
from app.services.purge import PurgeScope, RetentionRules, plan_purge, run_purge
from app.services.storage import document_key, open_store
from tests.purge_factory import (
    World,
    days_ago,
    document_ids,
    set_policy_expiry,
    stored_keys,
    using_store,
    years_ago,
)

OPERATOR = audit.Actor(None, "test-operator", None)


@pytest.fixture
def store(app, tmp_path):
    with using_store(app, open_store(f"osfs://{tmp_path}")) as store:
        yield store


@pytest.fixture
def scenario(app, store, make_organisation, portfolio):
    """Two agencies; what must go and what must stay, by name."""
    a, b = make_organisation(), make_organisation()
    world_a, world_b = World(app, store, a), World(app, store, b)
    old_policy, young_policy = portfolio(a, "old")["policy"], portfolio(a, "young")["policy"]
    today = dt.date.today()
    set_policy_expiry(app, old_policy, today - dt.timedelta(days=365 * 11))
    set_policy_expiry(app, young_policy, today - dt.timedelta(days=365 * 9))
    kind = TemplateKind
    doomed = world_a.document(kind.notice, created_at=days_ago(3))  # its row goes below
    gone = {
        "contract_expired_policy": world_a.document(
            kind.contract, created_at=years_ago(12), policy_id=old_policy
        ),
        "contract_without_policy": world_a.document(kind.contract, created_at=years_ago(10, 5)),
        "notice_4y": world_a.document(kind.notice, created_at=years_ago(4)),
        "attestation_6y": world_a.document(kind.attestation, created_at=years_ago(6)),
        "report_400d": world_a.document(kind.report, created_at=days_ago(400)),
        "other_6y": world_a.document(kind.other, created_at=years_ago(6)),
        "b_notice_4y": world_b.document(kind.notice, created_at=years_ago(4)),
    }
    kept = {
        # Made 12 years ago, but its policy expired 9 years ago: kept until expiry + 10 y.
        "contract_young_policy": world_a.document(
            kind.contract, created_at=years_ago(12), policy_id=young_policy
        ),
        "contract_without_policy_9y": world_a.document(kind.contract, created_at=years_ago(9)),
        "notice_2y": world_a.document(kind.notice, created_at=years_ago(2)),
        "attestation_4y": world_a.document(kind.attestation, created_at=years_ago(4)),
        "report_100d": world_a.document(kind.report, created_at=days_ago(100)),
        "other_1d": world_a.document(kind.other, created_at=days_ago(1)),
        "b_notice_1y": world_b.document(kind.notice, created_at=years_ago(1)),
    }
    # A worker may be on these: never touched, however old.
    in_flight = [
        world_a.document(
            kind.notice, created_at=years_ago(10), status=DocumentStatus.queued, with_file=False
        ),
        world_a.document(kind.notice, created_at=years_ago(10), status=DocumentStatus.running),
    ]
    old_failed_job = world_a.job(JobStatus.failed, days_ago(40))
    recent_failed_job = world_a.job(JobStatus.failed, days_ago(10))
    old_succeeded_job = world_a.job(JobStatus.succeeded, days_ago(400))
    failed_document = world_a.document(
        kind.notice, status=DocumentStatus.failed, with_file=False, job_id=old_failed_job
    )
    recent_failed_document = world_a.document(
        kind.notice, status=DocumentStatus.failed, with_file=False
    )
    with app.app_context():
        db.session.execute(
            Document.__table__.update()
            .where(Document.id.in_([failed_document, recent_failed_document]))
            .values(finished_at=days_ago(40))
        )
        db.session.execute(
            Document.__table__.update()
            .where(Document.id == recent_failed_document)
            .values(finished_at=days_ago(5))
        )
        db.session.execute(delete(Document).where(Document.id == doomed))
        db.session.add_all(
            [
                SpentLink(nonce="a" * 32, document_id=kept["notice_2y"], expires_at=days_ago(1)),
                SpentLink(
                    nonce="b" * 32,
                    document_id=kept["notice_2y"],
                    expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
                    + dt.timedelta(minutes=5),
                ),
            ]
        )
        db.session.commit()
    orphans = {
        document_key(a, doomed),  # its row was deleted, the file stayed
        # A file under agency A named after agency B's document: no row (id, A).
        world_a.orphan(kept["b_notice_1y"], b"misfiled" * 3),
        world_b.orphan(doomed, b"orphan of b" * 2),
    }
    return {
        "world_a": world_a,
        "doomed": doomed,
        "a": a,
        "b": b,
        "gone": gone,
        "kept": kept,
        "in_flight": in_flight,
        "orphans": orphans,
        "failed_document": failed_document,
        "recent_failed_document": recent_failed_document,
        "old_failed_job": old_failed_job,
        "jobs_kept": {recent_failed_job, old_succeeded_job},
    }


def keys_of(items, category):
    return {item.key for item in items if item.category == category}


def ids_of(items, category, field="document_id"):
    return {getattr(item, field) for item in items if item.category == category}


def test_dry_run_lists_exactly_the_orphans_and_the_expired_documents(app, store, scenario):
    before_files, before_rows = stored_keys(store), document_ids(app)
    with app.app_context():
        run_id = run_purge(
            db.session, scope=PurgeScope(None), trigger="cli", apply=False, actor=OPERATOR
        ).id
        plan = plan_purge(db.session, PurgeScope(None))
    items = plan.items
    assert keys_of(items, "orphan") == scenario["orphans"]
    assert ids_of(items, "retention") == set(scenario["gone"].values())
    assert ids_of(items, "failed_document") == {scenario["failed_document"]}
    assert ids_of(items, "failed_job", "job_id") == {scenario["old_failed_job"]}
    assert [item.count for item in items if item.category == "spent_links"] == [1]
    # Every expired document had a file: it goes with its row, with its size.
    retention = [item for item in items if item.category == "retention"]
    assert all(item.key and item.size > 0 for item in retention)
    assert {item.key for item in retention} <= before_files
    # A dry run deletes nothing.
    assert stored_keys(store) == before_files
    assert document_ids(app) == before_rows
    # ... and is recorded: counts, bytes and the report.
    with app.app_context():
        run = db.session.get(PurgeRun, run_id)
    assert run.applied is False and run.status == "done" and run.trigger == "cli"
    assert run.files_count == len(scenario["orphans"]) + len(scenario["gone"])
    assert run.documents_count == len(scenario["gone"]) + 1
    assert run.jobs_count == 1
    assert run.bytes_total == sum(item.size for item in items)
    assert run.bytes_total > 0
    assert len(run.report) == len(items)
    assert {entry["category"] for entry in run.report} == {
        "orphan",
        "retention",
        "failed_document",
        "failed_job",
        "spent_links",
    }
    with app.app_context():
        summary = db.session.scalars(select(AuditLog).where(AuditLog.action == "purge.run")).all()
        assert [entry.object_id for entry in summary] == [str(run_id)]
        assert summary[0].changes["applied"] is False
        assert summary[0].username == "test-operator"
        assert (
            db.session.scalar(select(func.count()).where(AuditLog.action == "document.purged")) == 0
        )


def test_apply_removes_exactly_those_files_and_rows(app, store, scenario):
    before_files, before_rows = stored_keys(store), document_ids(app)
    with app.app_context():
        dry = plan_purge(db.session, PurgeScope(None))
        run = run_purge(
            db.session, scope=PurgeScope(None), trigger="cli", apply=True, actor=OPERATOR
        )
        run_id = run.id
        removed_keys = {item.key for item in dry.items if item.key}
        removed_rows = ids_of(dry.items, "retention") | ids_of(dry.items, "failed_document")
        assert stored_keys(store) == before_files - removed_keys
        assert document_ids(app) == before_rows - removed_rows
        # What stays keeps its bytes.
        for document_id in [*scenario["kept"].values(), scenario["in_flight"][1]]:
            row = db.session.get(Document, document_id)
            assert store.get(row.storage_key, compressed=False, encrypted=False)
        assert db.session.get(Job, scenario["old_failed_job"]) is None
        assert {
            job_id for job_id in scenario["jobs_kept"] if db.session.get(Job, job_id)
        } == scenario["jobs_kept"]
        assert db.session.get(Document, scenario["recent_failed_document"]) is not None
        assert db.session.scalars(select(SpentLink.nonce)).all() == ["b" * 32]
        # The proof: the run, and one audit row per removed document with its reason.
        run = db.session.get(PurgeRun, run_id)
        assert run.applied is True and run.status == "done"
        assert run.files_count == len(removed_keys)
        assert run.bytes_total == sum(item.size for item in dry.items)
        assert run.documents_count == len(removed_rows)
        assert run.jobs_count == 1
        assert all(entry["removed"] for entry in run.report)
        purged = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "document.purged")
        ).all()
        assert {int(entry.object_id) for entry in purged} == removed_rows
        contract = next(
            entry
            for entry in purged
            if entry.object_id == str(scenario["gone"]["contract_expired_policy"])
        )
        assert "kept 10 years after expiry" in contract.changes["reason"]
        assert contract.changes["purge_run_id"] == run_id
        assert contract.changes["sha256"]
        assert contract.organisation_id == scenario["a"]
    # Nothing left to do: a second run finds nothing.
    with app.app_context():
        again = plan_purge(db.session, PurgeScope(None))
    assert again.items == []


def test_an_admin_scope_sees_and_removes_its_own_organisation_only(app, store, scenario):
    a, b = scenario["a"], scenario["b"]
    b_files = {key for key in stored_keys(store) if key.startswith(f"org-{b}/")}
    with app.app_context():
        run = run_purge(
            db.session, scope=PurgeScope(a), trigger="screen", apply=True, actor=OPERATOR
        )
        assert run.organisation_id == a
        assert {entry["organisation_id"] for entry in run.report} == {a}
        assert run.files_count > 0
        assert db.session.get(Document, scenario["gone"]["b_notice_4y"]) is not None
    assert {key for key in stored_keys(store) if key.startswith(f"org-{b}/")} == b_files
    assert not any(key.startswith(f"org-{a}/") for key in scenario["orphans"] & stored_keys(store))


def test_a_row_committed_between_listing_and_deleting_keeps_its_file(app, store, scenario):
    """The check before each delete sees a row that came after the dry run (id reuse too)."""
    document_id = scenario["doomed"]
    reused = document_key(scenario["a"], document_id)
    with app.app_context():
        work_plan = plan_purge(db.session, PurgeScope(None))
    assert reused in keys_of(work_plan.items, "orphan")
    # A new document takes that id (as SQLite does after the highest row is deleted),
    # and its worker stores its file at the same key.
    scenario["world_a"].document(
        TemplateKind.notice, document_id=document_id, data=b"the new document"
    )
    from app.services.purge.runs import purger

    with app.app_context():
        run = PurgeRun(trigger="cli", applied=True, status="running")
        db.session.add(run)
        db.session.commit()
        done = []
        purger(db.session, PurgeScope(None)).apply(work_plan, run.id, OPERATOR, done)
        assert reused not in {item.key for item, _file in done}
    assert store.get(reused, compressed=False, encrypted=False) == b"the new document"


def test_files_above_the_highest_document_id_are_left_for_the_next_run(app, store, scenario):
    a = scenario["a"]
    with app.app_context():
        highest = db.session.scalar(select(func.max(Document.id)))
    key = store.put(document_key(a, highest + 1), b"next", compress=False, encrypt=False).key
    with app.app_context():
        plan = plan_purge(db.session, PurgeScope(None))
    assert key not in keys_of(plan.items, "orphan")
    assert plan.files_left_for_later == 1


def test_negative_retention_settings_are_refused():
    config = {
        "RETENTION_CONTRACT_YEARS_AFTER_EXPIRY": 10,
        "RETENTION_ATTESTATION_DAYS": 10,
        "RETENTION_NOTICE_DAYS": -1,
        "RETENTION_REPORT_DAYS": 10,
        "RETENTION_OTHER_DAYS": 10,
        "FAILED_JOB_RETENTION_DAYS": 30,
    }
    with pytest.raises(ValueError, match="negative"):
        RetentionRules.from_config(config)


def test_shorter_retention_settings_take_effect(app, store, make_organisation):
    world = World(app, store, make_organisation())
    notice = world.document(TemplateKind.notice, created_at=days_ago(20))
    app.config["RETENTION_NOTICE_DAYS"] = 10
    try:
        with app.app_context():
            plan = plan_purge(db.session, PurgeScope(None))
    finally:
        app.config["RETENTION_NOTICE_DAYS"] = 3 * 365
    assert ids_of(plan.items, "retention") == {notice}
    assert "kept 10 days" in plan.items[0].reason
