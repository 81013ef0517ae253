"""`flask purge` through click's runner: a dry run lists with sizes; --apply deletes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Document, PurgeRun, TemplateKind
from app.services.storage import document_key, open_store
from tests.purge_factory import World, days_ago, document_ids, stored_keys, using_store, years_ago


@pytest.fixture
def store(app, tmp_path):
    with using_store(app, open_store(f"osfs://{tmp_path}")) as store:
        yield store


def purge(app, *args: str):
    return app.test_cli_runner().invoke(args=["purge", *args])


@pytest.fixture
def agencies(app, store, make_organisation):
    a, b = make_organisation(), make_organisation()
    world_a, world_b = World(app, store, a), World(app, store, b)
    expired = world_a.document(TemplateKind.report, created_at=days_ago(400), data=b"r" * 3000)
    abandoned = world_a.document(TemplateKind.other, data=b"o" * 2048)
    kept = world_a.document(TemplateKind.report, created_at=days_ago(10))
    b_expired = world_b.document(TemplateKind.notice, created_at=years_ago(4))
    orphan = world_a.abandon(abandoned)
    return {
        "a": a,
        "b": b,
        "expired": expired,
        "kept": kept,
        "b_expired": b_expired,
        "orphan": orphan,
    }


def test_dry_run_lists_what_would_go_with_sizes_and_deletes_nothing(app, store, agencies):
    files, rows = stored_keys(store), document_ids(app)
    result = purge(app)
    assert result.exit_code == 0, result.output
    out = result.output
    assert agencies["orphan"] in out and "2.0 KB" in out  # the orphan, with its size
    assert document_key(agencies["a"], agencies["expired"]) in out and "2.9 KB" in out
    assert document_key(agencies["b"], agencies["b_expired"]) in out
    assert document_key(agencies["a"], agencies["kept"]) not in out
    assert "Would remove: 3 file(s)" in out
    assert "2 document(s)" in out
    assert "nothing was deleted" in out
    assert stored_keys(store) == files and document_ids(app) == rows
    with app.app_context():
        run = db.session.scalars(select(PurgeRun)).one()
        assert (run.trigger, run.applied, run.actor_name) == ("cli", False, "cli")


def test_apply_deletes_what_the_dry_run_listed(app, store, agencies):
    dry = purge(app)
    result = purge(app, "--apply")
    assert result.exit_code == 0, result.output
    assert "Removed: 3 file(s)" in result.output
    # The same lines as the dry run, but for the totals.
    assert dry.output.splitlines()[:-2] == result.output.splitlines()[:-2]
    assert stored_keys(store) == {document_key(agencies["a"], agencies["kept"])}
    assert document_ids(app) == {agencies["kept"]}
    with app.app_context():
        actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions.count("purge.run") == 2
    assert actions.count("document.purged") == 2
    assert purge(app).output.startswith("Nothing to purge.")


def test_organisation_option_limits_the_purge_to_that_agency(app, store, agencies):
    result = purge(app, "--apply", "--organisation-id", str(agencies["b"]))
    assert result.exit_code == 0, result.output
    assert agencies["orphan"] not in result.output
    assert "Removed: 1 file(s)" in result.output
    with app.app_context():
        assert db.session.get(Document, agencies["b_expired"]) is None
        assert db.session.get(Document, agencies["expired"]) is not None
        assert db.session.scalars(select(PurgeRun.organisation_id)).one() == agencies["b"]
    assert agencies["orphan"] in stored_keys(store)


def test_an_unknown_organisation_is_refused(app, store, agencies):
    result = purge(app, "--organisation-id", "999999")
    assert result.exit_code == 1
    assert "no organisation with id 999999" in result.output
