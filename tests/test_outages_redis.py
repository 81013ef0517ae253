"""A lost Redis (issue 11, class 6): the API keeps answering, limits count in memory.

Real servers: a closed loopback port, or a redis-server of the test's own that the
test stops and starts (tests/test_documents_durability.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from app.extensions import db
from app.models import Document, DocumentStatus
from app.models.base import utcnow
from app.services import documents
from tests import outage_support
from tests import test_documents_durability as durability
from tests.api_documents_support import published_template
from tests.conftest import PASSWORD, api_token, user_organisation
from tests.documents_support import document_row
from tests.links_support import PDF, path_of, stored_document
from tests.outage_support import dead_redis_url
from tests.test_ops_metrics import sample

build_app = outage_support.build_app
own_redis = durability.own_redis  # a redis-server of the test's own
OUTAGE_LOGGER = "app.ops.outages"


def outage_lines(caplog, words: str) -> list[str]:
    """Our outage log lines holding ``words`` (other loggers' records are left unformatted)."""
    lines = [r.getMessage() for r in caplog.records if r.name == OUTAGE_LOGGER]
    return [line for line in lines if words in line]


def metric(client, name: str, **labels: str) -> float:
    return sample(client.get("/metrics").get_data(as_text=True), name, **labels)


def bearer(client, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def test_with_redis_down_the_api_answers_and_limits_are_judged_in_memory(
    app, build_app, database_url, make_user, caplog
):
    username = make_user("USER")
    organisation_id = user_organisation(app, username)
    down = build_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=dead_redis_url(),
        RATELIMIT_LOGIN_ACCOUNT="2/minute",
    )
    client = down.test_client()
    lost_before = metric(client, "rate_limit_storage_lost_total")
    with caplog.at_level(logging.WARNING, logger=OUTAGE_LOGGER):
        headers = bearer(client, username)  # the API login
        listed = client.get("/api/v1/policy/", headers=headers)
        assert listed.status_code == 200 and listed.is_json, listed.get_data(as_text=True)
        document_id = stored_document(down, organisation_id)
        issued = client.get(f"/api/v1/document/{document_id}/link", headers=headers)
        assert issued.status_code == 200, issued.get_data(as_text=True)
        downloaded = down.test_client().get(path_of(issued.json["url"]))
        assert downloaded.status_code == 200 and downloaded.data == PDF
        # Limits are still judged: the third wrong password for one account is refused.
        wrong = {"username": username, "password": "wrong", "provider": "db"}
        answers = [client.post("/api/v1/security/login", json=wrong) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [401, 401, 429]
    assert answers[-1].is_json and "Retry-After" in answers[-1].headers
    lost = outage_lines(caplog, "does not answer")
    assert len(lost) == 1, "logged once per outage, not per request"
    assert "limits are judged in this process's memory" in lost[0]
    assert metric(client, "rate_limit_storage_lost_total") == lost_before + 1
    assert metric(client, "rate_limit_in_memory") == 1


def test_rate_limits_go_back_to_redis_when_it_answers_again(
    app, build_app, database_url, make_user, own_redis, caplog
):
    username = make_user("USER")
    served = build_app(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=own_redis.url)
    client = served.test_client()
    headers = bearer(client, username)
    assert client.get("/api/v1/policy/", headers=headers).status_code == 200
    assert metric(client, "rate_limit_in_memory") == 0

    own_redis.stop()
    assert client.get("/api/v1/policy/", headers=headers).status_code == 200
    assert metric(client, "rate_limit_in_memory") == 1

    own_redis.start()  # the same port
    # flask-limiter asks Redis again after 1, 2, 4 ... s: a few requests bring it back.
    deadline = time.monotonic() + 20
    with caplog.at_level(logging.WARNING, logger=OUTAGE_LOGGER):
        while metric(client, "rate_limit_in_memory") == 1 and time.monotonic() < deadline:
            assert client.get("/api/v1/policy/", headers=headers).status_code == 200
            time.sleep(0.2)
    assert metric(client, "rate_limit_in_memory") == 0
    assert outage_lines(caplog, "answers again")


def test_generation_asked_while_redis_is_down_is_accepted_then_swept(
    app, http, build_app, database_url, make_user, portfolio, auth_headers, own_redis, monkeypatch
):
    from huey import RedisHuey

    from app.tasks.queue import huey

    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    policy_id = portfolio(organisation_id, "R1")["policy"]
    template_id = published_template(http, auth_headers(manager))
    # The queue and the limits both on our Redis, which then stops.
    durability.queue_on(monkeypatch, RedisHuey(huey.name, url=own_redis.url).storage)
    down = build_app(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=own_redis.url)
    client = down.test_client()
    headers = bearer(client, manager)
    own_redis.stop()

    response = client.post(
        "/api/v1/document/generate",
        json={"template_id": template_id, "policy_id": policy_id},
        headers=headers,
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.is_json and response.headers["Location"]
    with down.app_context():
        document_id = db.session.query(Document.id).filter_by(policy_id=policy_id).scalar()
    row = document_row(app, document_id)
    assert (row.status, row.enqueued_at) == (DocumentStatus.queued, None)

    own_redis.start()
    with down.app_context():
        swept = documents.sweep(utcnow() + dt.timedelta(minutes=2))
    assert (swept.requeued, swept.not_sent) == (1, 0)
    task = huey.dequeue()
    with app.app_context():
        huey.execute(task)
    done = document_row(app, document_id)
    assert done.status is DocumentStatus.ready and done.attempts == 1, done.error


def test_the_login_form_works_with_redis_down(app, build_app, database_url, make_user):
    from tests.conftest import login_screen

    username = make_user("USER")
    down = build_app(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=dead_redis_url())
    client = down.test_client()
    page = login_screen(client, username, PASSWORD)
    assert page.status_code == 200
    assert client.get("/policyview/list/").status_code == 200
