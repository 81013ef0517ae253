"""A purge applied while documents are being generated deletes none of their files.

The generator is a real thread with its own database session, doing what the worker
does: commit the row, then store the file at document_key, then mark it ready.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document, PurgeRun, TemplateKind
from app.services import audit
from app.services.purge import PurgeScope, run_purge
from app.services.storage import document_key, open_store
from tests.purge_factory import World, document_ids, using_store, years_ago

OPERATOR = audit.Actor(None, "test-operator", None)
GENERATED = 30


@pytest.fixture
def store(app, tmp_path):
    with using_store(app, open_store(f"osfs://{tmp_path}")) as store:
        yield store


def content(number: int) -> bytes:
    return f"generated document {number} ".encode() * 20


def test_generation_during_purge_loses_nothing(app, store, make_organisation):
    organisation = make_organisation()
    world = World(app, store, organisation)
    expired = [world.document(TemplateKind.notice, created_at=years_ago(4)) for _ in range(5)]
    with app.app_context():
        highest = db.session.scalar(select(func.max(Document.id)))
    # Stale files at the ids the next documents will take (SQLite hands out the highest
    # id + 1): the generator overwrites them with its own, which must survive.
    for number in range(highest + 1, highest + GENERATED + 2):
        world.orphan(number)
    # The highest row is past retention: once purged, SQLite gives its id to the next row.
    expired.append(world.document(TemplateKind.notice, created_at=years_ago(4)))

    generated: dict[int, bytes] = {}
    failures: list[BaseException] = []
    finished = threading.Event()

    def generate() -> None:
        try:
            for number in range(GENERATED):
                data = content(number)
                generated[world.document(TemplateKind.attestation, data=data)] = data
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            finished.set()

    def purge() -> None:
        with app.app_context():
            run_purge(db.session, scope=PurgeScope(None), trigger="cli", apply=True, actor=OPERATOR)

    generator = threading.Thread(target=generate, name="generator")
    generator.start()
    runs = 0
    try:
        while not finished.is_set():
            purge()
            runs += 1
            # Back-to-back runs would starve the generator of SQLite's write lock.
            finished.wait(0.02)
    finally:
        generator.join(timeout=120)
    assert not failures, failures
    assert len(generated) == GENERATED
    assert runs >= 2, "the purges must overlap the generation"
    purge()  # once more, with the generator done: only orphans that are really orphans go

    rows = document_ids(app)
    assert set(generated) <= rows
    for document_id, data in generated.items():
        key = document_key(organisation, document_id)
        assert store.get(key, compressed=False, encrypted=False) == data, key
    # The purge still did its job: the expired documents are gone (SQLite may have given
    # an id of theirs to a generated one), and every stored file has its row.
    assert set(expired) & rows <= set(generated)
    assert set(store.keys()) == {document_key(organisation, number) for number in rows}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PurgeRun)) == runs + 1
