"""The nightly purge task: it applies the purge to every agency, unless turned off."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, PurgeRun, TemplateKind
from app.services.storage import open_store
from app.tasks import huey
from app.tasks.purge import purge_files
from tests.purge_factory import World, stored_keys, using_store, years_ago


@pytest.fixture
def store(app, tmp_path):
    with using_store(app, open_store(f"osfs://{tmp_path}")) as store:
        yield store


def due_at(moment: dt.datetime) -> set[type]:
    return {type(task) for task in huey.read_periodic(moment)}


def test_the_task_is_scheduled_every_night():
    assert purge_files.task_class in due_at(dt.datetime(2026, 3, 1, 3, 17))
    assert purge_files.task_class not in due_at(dt.datetime(2026, 3, 1, 3, 18))
    assert purge_files.task_class not in due_at(dt.datetime(2026, 3, 1, 15, 17))


def test_the_periodic_purge_applies_across_agencies(app, store, make_organisation):
    a, b = World(app, store, make_organisation()), World(app, store, make_organisation())
    for world in (a, b):
        world.document(TemplateKind.notice, created_at=years_ago(4))
    kept = a.document(TemplateKind.notice, created_at=years_ago(1))
    with app.app_context():
        summary = purge_files.call_local()
        run = db.session.get(PurgeRun, summary["run_id"])
        assert (run.trigger, run.applied, run.actor_name, run.status) == (
            "periodic",
            True,
            "periodic",
            "done",
        )
        assert run.organisation_id is None
        assert summary["documents"] == 2 and summary["files"] == 2
        assert set(db.session.scalars(select(Document.id))) == {kept}
    assert len(stored_keys(store)) == 1


def test_purge_periodic_false_turns_it_off(app, store, make_organisation):
    world = World(app, store, make_organisation())
    expired = world.document(TemplateKind.notice, created_at=years_ago(4))
    app.config["PURGE_PERIODIC"] = False
    try:
        with app.app_context():
            assert purge_files.call_local() is None
            assert db.session.get(Document, expired) is not None
            assert db.session.scalars(select(PurgeRun)).all() == []
    finally:
        app.config["PURGE_PERIODIC"] = True
