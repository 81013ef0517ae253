"""The worker when the database comes back (issue 11, class 6): work resumes at once.

PostgreSQL behind a TCP relay (tests/outage_support.py): the worker's pooled
connections die with the cut; its next render must not fail on them, nor leave
the document to the sweeper, nor spend an attempt.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.models import DocumentStatus
from app.services import documents
from app.services.documents import run_render
from tests import outage_support
from tests.conftest import TEST_DATABASE_URL, user_organisation
from tests.documents_support import create_template, document_row, load_user, recording_queue
from tests.outage_support import TcpRelay, relayed_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="cuts PostgreSQL connections"),
]
build_app = outage_support.build_app
RETRIED = "trying again at once"


@pytest.fixture
def relay(database_url):
    relay = TcpRelay.in_front_of(database_url)
    yield relay
    relay.cut()


@pytest.fixture
def queued_document(app, make_user, portfolio, monkeypatch) -> int:
    """A document asked for and queued (its message recorded, not run)."""
    username = make_user("USER")
    organisation_id = user_organisation(app, username)
    policy_id = portfolio(organisation_id, "W1")["policy"]
    template_id = create_template(app, organisation_id)
    with recording_queue(monkeypatch) as queue, app.test_request_context():
        document_id = documents.request_document(
            db.session, load_user(username), template_id=template_id, policy_id=policy_id
        ).id
    assert queue.ids == [document_id]
    return document_id


def worker_app(build_app, database_url: str, relay: TcpRelay, **overrides):
    return build_app(SQLALCHEMY_DATABASE_URI=relayed_url(database_url, relay.port), **overrides)


def pool_then_cut(worker, relay: TcpRelay) -> None:
    """Leave a connection in the worker's pool, then cut it (the database restarted)."""
    with worker.app_context(), db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    relay.cut()
    relay.restore()


def rendered_on_first_attempt(app, document_id: int) -> None:
    row = document_row(app, document_id)
    assert row.status is DocumentStatus.ready, row.error
    assert row.attempts == 1 and row.error is None


def test_the_first_render_after_the_database_returns_succeeds_at_once(
    app, build_app, database_url, relay, queued_document, caplog
):
    worker = worker_app(build_app, database_url, relay)
    pool_then_cut(worker, relay)
    with caplog.at_level(logging.WARNING), worker.app_context():
        run_render(queued_document)
    rendered_on_first_attempt(app, queued_document)
    # The pool tested the connection before use (pool_pre_ping): nothing failed.
    assert not [r for r in caplog.records if r.name.startswith("app.") and RETRIED in r.msg]


def test_a_claim_on_a_dead_connection_is_tried_again_at_once(
    app, build_app, database_url, relay, queued_document, caplog
):
    # Without the pool's test, the claim meets the dead connection itself.
    worker = worker_app(build_app, database_url, relay, SQLALCHEMY_ENGINE_OPTIONS={})
    pool_then_cut(worker, relay)
    with caplog.at_level(logging.WARNING, logger="app.services.leasing"), worker.app_context():
        run_render(queued_document)
    rendered_on_first_attempt(app, queued_document)
    assert [r for r in caplog.records if RETRIED in r.msg]


def test_a_connection_lost_during_the_work_is_tried_again_on_the_same_attempt(
    app, build_app, database_url, relay, queued_document, caplog
):
    worker = worker_app(build_app, database_url, relay, SQLALCHEMY_ENGINE_OPTIONS={})
    checkouts: list[int] = []

    def cut_at_second_checkout(*_args: object) -> None:
        # The first checkout claims the row; the second starts the work: the database
        # restarts right then, under the claim's lease.
        checkouts.append(1)
        if len(checkouts) == 2:
            relay.cut()
            relay.restore()

    with caplog.at_level(logging.WARNING, logger="app.services.leasing"), worker.app_context():
        event.listen(db.engine, "checkout", cut_at_second_checkout)
        try:
            run_render(queued_document)
        finally:
            event.remove(db.engine, "checkout", cut_at_second_checkout)
    assert len(checkouts) >= 3
    rendered_on_first_attempt(app, queued_document)
    assert [r for r in caplog.records if RETRIED in r.msg]
