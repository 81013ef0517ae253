"""API keys for scripts (app/services/api_keys.py, /api/v1/auth/api-keys)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_appbuilder.security.sqla.models import ApiKey
from sqlalchemy import select

from app.extensions import db
from app.models import AppUser, AuditLog
from tests.conftest import user_organisation

KEYS = "/api/v1/auth/api-keys"
LIST = "/api/v1/policy/"


def create_key(http, headers, **body):
    response = http.post(KEYS, json={"name": "nightly export", **body}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def stored_key(app, key_id) -> ApiKey:
    with app.app_context():
        key = db.session.get(ApiKey, key_id)
        db.session.expunge(key)
        return key


@pytest.fixture
def owner(make_user):
    return make_user("USER")


def test_a_key_is_shown_once_and_stored_hashed(app, http, owner, auth_headers):
    headers = auth_headers(owner)
    created = create_key(http, headers)
    assert created["key"].startswith("ma_") and len(created["key"]) > 40
    assert created["read_only"] is False and created["active"] is True
    row = stored_key(app, created["id"])
    assert created["key"] not in (row.key_hash, row.lookup_hash)
    assert row.key_hash.startswith("pbkdf2:")
    listing = http.get(KEYS, headers=headers)
    assert listing.status_code == 200
    (described,) = listing.json["result"]
    assert "key" not in described and described["prefix"] == created["key"][:10]
    assert described["name"] == "nightly export" and described["last_used_on"] is None
    (entry,) = _audit(app, "api_key_created")
    assert entry.username == owner and created["key"] not in str(entry.changes)


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_key_acts_as_its_owner_within_their_organisation(
    app, http, owner, auth_headers, portfolio, make_organisation, header
):
    own = portfolio(user_organisation(app, owner), "K")
    portfolio(make_organisation(), "Other")
    key = create_key(http, auth_headers(owner))["key"]
    headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    listing = http.get(LIST, headers=headers)
    assert listing.status_code == 200
    assert listing.json["ids"] == [own["policy"]]
    # The owner's role: a USER does not read the audit trail, nor manage users.
    assert http.get("/api/v1/audit/", headers=headers).status_code == 403
    assert http.get("/api/v1/user/", headers=headers).status_code == 403
    created = http.post("/api/v1/client/", json={"last_name": "ParClé"}, headers=headers)
    assert created.status_code == 201
    with app.app_context():
        from app.models import Client

        client = db.session.get(Client, created.json["id"])
        assert client.organisation_id == user_organisation(app, owner)


def test_the_last_use_is_recorded(app, http, owner, auth_headers):
    created = create_key(http, auth_headers(owner))
    assert stored_key(app, created["id"]).last_used_on is None
    assert http.get(LIST, headers={"X-API-Key": created["key"]}).status_code == 200
    used = stored_key(app, created["id"]).last_used_on
    assert used is not None and abs(dt.datetime.now() - used) < dt.timedelta(minutes=1)


def test_a_read_only_key_reads_but_never_writes(http, owner, auth_headers):
    key = create_key(http, auth_headers(owner), read_only=True)["key"]
    headers = {"X-API-Key": key}
    assert http.get(LIST, headers=headers).status_code == 200
    assert http.post("/api/v1/client/", json={"last_name": "X"}, headers=headers).status_code == 403
    assert http.put("/api/v1/client/1", json={"city": "Lyon"}, headers=headers).status_code == 403
    assert http.delete("/api/v1/client/1", headers=headers).status_code == 403
    # Nor can it mint itself a writing key.
    assert http.post(KEYS, json={"name": "escape"}, headers=headers).status_code == 403


def test_revoked_expired_and_unknown_keys_answer_401(app, http, owner, auth_headers):
    headers = auth_headers(owner)
    revoked = create_key(http, headers)
    assert http.delete(f"{KEYS}/{revoked['id']}", headers=headers).status_code == 200
    assert http.delete(f"{KEYS}/{revoked['id']}", headers=headers).status_code == 404
    expiring = create_key(http, headers, expires_at="2999-01-01T00:00:00Z")
    assert http.get(LIST, headers={"X-API-Key": expiring["key"]}).status_code == 200
    with app.app_context():
        db.session.get(ApiKey, expiring["id"]).expires_on = dt.datetime.now() - dt.timedelta(
            seconds=1
        )
        db.session.commit()
    for key in (revoked["key"], expiring["key"], "ma_" + "x" * 43, "not-a-key"):
        for sent in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
            response = http.get(LIST, headers=sent)
            if key == "not-a-key" and "Authorization" in sent:
                assert response.status_code == 401  # read as a (bad) JWT
            else:
                assert response.status_code == 401, (key, sent)
            assert set(response.json) == {"message"}
    assert len(_audit(app, "api_key_revoked")) == 1


def test_a_deactivated_owners_keys_stop(app, http, owner, auth_headers):
    key = create_key(http, auth_headers(owner))["key"]
    with app.app_context():
        db.session.query(AppUser).filter_by(username=owner).update({"active": False})
        db.session.commit()
    assert http.get(LIST, headers={"X-API-Key": key}).status_code == 401


def test_keys_are_private_to_their_owner(http, owner, make_user, auth_headers):
    mine = create_key(http, auth_headers(owner))
    other_headers = auth_headers(make_user("ADMIN"))
    assert http.get(KEYS, headers=other_headers).json["result"] == []
    assert http.delete(f"{KEYS}/{mine['id']}", headers=other_headers).status_code == 404
    assert http.get(LIST, headers={"X-API-Key": mine["key"]}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 257}, "name"),
        ({"name": "k", "read_only": "yes"}, "read_only"),
        ({"name": "k", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "k", "expires_at": 1234}, "expires_at"),
        ({"name": "k", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "k", "scopes": "admin"}, "scopes"),
    ],
)
def test_bad_key_requests_answer_422_per_field(http, owner, auth_headers, body, field):
    response = http.post(KEYS, json=body, headers=auth_headers(owner))
    assert response.status_code == 422
    assert field in response.json["message"]


@pytest.mark.parametrize(
    "kwargs",
    [{"json": ["a"]}, {"data": "{", "content_type": "application/json"}, {"data": "name=a"}],
)
def test_a_body_that_is_not_an_object_answers_400(http, owner, auth_headers, kwargs):
    response = http.post(KEYS, headers=auth_headers(owner), **kwargs)
    assert response.status_code == 400 and "message" in response.json


@pytest.mark.parametrize("key_id", ["abc", "0", "-3", "99999999999999999999"])
def test_revoking_an_unknown_key_answers_404(http, owner, auth_headers, key_id):
    assert http.delete(f"{KEYS}/{key_id}", headers=auth_headers(owner)).status_code == 404
