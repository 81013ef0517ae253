"""API login sessions: rotation, reuse detection, expiry, revocation (app/services/tokens.py).

Through the doors scripts use: /api/v1/security/login|refresh and /api/v1/auth/*.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from app.extensions import db
from app.models import AppUser, AuditLog
from app.models.auth import AuthSession, RefreshToken
from tests.conftest import PASSWORD, user_organisation

LIST = "/api/v1/policy/"


def login(http, username, password=PASSWORD, agent="script/1.0"):
    response = http.post(
        "/api/v1/security/login",
        json={"username": username, "password": password},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def refresh(http, refresh_token):
    return http.post("/api/v1/security/refresh", headers=bearer(refresh_token))


def user_id(app, username):
    with app.app_context():
        return db.session.scalar(select(AppUser.id).where(AppUser.username == username))


def audit_actions(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


@pytest.fixture
def user(make_user):
    return make_user("USER")


# --- login and rotation ------------------------------------------------------------


def test_login_answers_both_tokens_and_records_the_session(app, http, user):
    tokens = login(http, user, agent="nightly-export")
    assert tokens["access_token"] and tokens["refresh_token"]
    with app.app_context():
        (session,) = db.session.scalars(
            select(AuthSession).where(AuthSession.user_id == user_id(app, user))
        ).all()
        assert session.device == "nightly-export" and session.ip == "127.0.0.1"
        assert session.expires_on - session.created_on == dt.timedelta(days=30)
        (token,) = session.tokens
        # Only a hash of the jti is kept.
        assert len(token.jti_hash) == 64 and token.jti_hash not in tokens["refresh_token"]
        assert token.used_on is None and token.revoked_on is None
    assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 200


def test_the_access_token_lasts_fifteen_minutes(app, http, user):
    tokens = login(http, user)
    refresh_claims = json.loads(_b64decode(tokens["refresh_token"].split(".")[1]))
    with app.app_context():
        stored = db.session.scalars(select(RefreshToken.jti_hash)).all()
    assert stored == [hashlib.sha256(refresh_claims["jti"].encode()).hexdigest()]
    payload = json.loads(_b64decode(tokens["access_token"].split(".")[1]))
    assert payload["exp"] - payload["iat"] == 15 * 60
    assert payload["type"] == "access" and isinstance(payload["sid"], int)


def test_refresh_rotates_many_times(app, http, user):
    tokens = login(http, user)
    seen = {tokens["refresh_token"]}
    for _ in range(5):
        response = refresh(http, tokens["refresh_token"])
        assert response.status_code == 200
        tokens = response.json
        assert tokens["refresh_token"] not in seen
        seen.add(tokens["refresh_token"])
        assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 200
    with app.app_context():
        rows = db.session.scalars(select(RefreshToken)).all()
        assert len({row.session_id for row in rows}) == 1  # one family
        assert sum(row.used_on is not None for row in rows) == 5
        # Refreshing never extends the login: every token ends with the family.
        assert len({row.expires_on for row in rows}) == 1


def test_a_replayed_refresh_token_ends_the_family_and_is_audited(app, http, user):
    first = login(http, user)
    second = refresh(http, first["refresh_token"]).json
    other_login = login(http, user)  # another device: not touched

    replay = refresh(http, first["refresh_token"])
    assert replay.status_code == 401 and set(replay.json) == {"message"}
    # The whole family is gone: the newest refresh token and the access tokens too.
    assert refresh(http, second["refresh_token"]).status_code == 401
    assert http.get(LIST, headers=bearer(second["access_token"])).status_code == 401
    assert http.get(LIST, headers=bearer(first["access_token"])).status_code == 401
    assert http.get(LIST, headers=bearer(other_login["access_token"])).status_code == 200

    # Both presentations of a dead token are audited: the replay and the revoked one after it.
    entries = audit_actions(app, "token_reuse")
    assert len(entries) == 2 and entries[0].object_id == entries[1].object_id
    entry = entries[0]
    assert entry.username == user and entry.object_type == "AuthSession"
    assert entry.organisation_id == user_organisation(app, user)
    with app.app_context():
        family = db.session.get(AuthSession, entry.object_id)
        assert family.revoked_reason == "reuse"
        assert all(token.revoked_on or token.used_on for token in family.tokens)


# --- expiry and bad tokens -----------------------------------------------------------


def test_an_expired_access_token_is_refused(app, http, user, monkeypatch):
    monkeypatch.setitem(app.config, "JWT_ACCESS_TOKEN_EXPIRES", dt.timedelta(seconds=-1))
    tokens = login(http, user)
    response = http.get(LIST, headers=bearer(tokens["access_token"]))
    assert response.status_code == 401 and "expir" in response.json["message"]
    # The refresh token still gives a pair (here again already expired: the config says so).
    assert refresh(http, tokens["refresh_token"]).status_code == 200


def test_an_expired_login_cannot_refresh(app, http, user, monkeypatch):
    monkeypatch.setitem(app.config, "JWT_REFRESH_TOKEN_EXPIRES", dt.timedelta(seconds=-1))
    tokens = login(http, user)
    response = refresh(http, tokens["refresh_token"])
    assert response.status_code == 401 and set(response.json) == {"message"}
    # The session is over, so its access tokens stop too.
    assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 401


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tampered_tokens_are_refused(app, http, user, make_user):
    tokens = login(http, user)
    header, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(_b64decode(payload))
    claims["sub"] = str(user_id(app, make_user("SUPERADMIN")))
    forged_payload = ".".join([header, _b64encode(json.dumps(claims).encode()), signature])
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for token in (forged_payload, f"{header}.{payload}.{flipped}", f"{header}.{payload}."):
        response = http.get(LIST, headers=bearer(token))
        assert response.status_code == 401 and set(response.json) == {"message"}


def test_alg_none_is_refused(app, http, user):
    tokens = login(http, user)
    payload = tokens["access_token"].split(".")[1]
    none_header = _b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    for token in (f"{none_header}.{payload}.", f"{none_header}.{payload}"):
        assert http.get(LIST, headers=bearer(token)).status_code == 401
    refresh_payload = tokens["refresh_token"].split(".")[1]
    assert refresh(http, f"{none_header}.{refresh_payload}.").status_code == 401


def test_each_token_only_opens_its_own_door(http, user):
    tokens = login(http, user)
    assert http.get(LIST, headers=bearer(tokens["refresh_token"])).status_code == 401
    response = refresh(http, tokens["access_token"])
    assert response.status_code == 401 and set(response.json) == {"message"}
    assert http.post("/api/v1/security/refresh").status_code == 401


def test_a_token_signed_by_us_without_a_session_is_refused(app, http, user):
    """Only tokens issued with a session pass: a bare FAB-style token is not enough."""
    with app.test_request_context():
        token = create_access_token(identity=str(user_id(app, user)), fresh=True)
    assert http.get(LIST, headers=bearer(token)).status_code == 401


# --- sessions, logout ------------------------------------------------------------------


def test_sessions_lists_own_devices_and_marks_the_current_one(http, user, make_user):
    laptop = login(http, user, agent="laptop")
    phone = login(http, user, agent="phone")
    login(http, make_user("USER"), agent="someone else")
    response = http.get("/api/v1/auth/sessions", headers=bearer(phone["access_token"]))
    assert response.status_code == 200
    rows = {row["device"]: row for row in response.json["result"]}
    assert set(rows) == {"laptop", "phone"}
    assert rows["phone"]["current"] is True and rows["laptop"]["current"] is False
    assert rows["phone"]["ip"] == "127.0.0.1"
    assert {"id", "created_on", "last_used_on", "expires_on"} <= set(rows["phone"])

    ended = http.delete(
        f"/api/v1/auth/sessions/{rows['laptop']['id']}", headers=bearer(phone["access_token"])
    )
    assert ended.status_code == 200
    assert http.get(LIST, headers=bearer(laptop["access_token"])).status_code == 401
    assert refresh(http, laptop["refresh_token"]).status_code == 401
    assert http.get(LIST, headers=bearer(phone["access_token"])).status_code == 200
    again = http.delete(
        f"/api/v1/auth/sessions/{rows['laptop']['id']}", headers=bearer(phone["access_token"])
    )
    assert again.status_code == 404
    assert len(audit_actions(http.application, "session_revoked")) == 1


@pytest.mark.parametrize("session_id", ["0", "-1", "abc", "²", "99999999999999999999"])
def test_ending_an_unknown_session_answers_404(http, user, session_id):
    tokens = login(http, user)
    response = http.delete(
        f"/api/v1/auth/sessions/{session_id}", headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 404 and "message" in response.json


def test_nobody_ends_another_users_session(http, user, make_user):
    mine = login(http, user)
    other = login(http, make_user("ADMIN"))
    theirs = http.get("/api/v1/auth/sessions", headers=bearer(other["access_token"]))
    other_id = theirs.json["result"][0]["id"]
    response = http.delete(
        f"/api/v1/auth/sessions/{other_id}", headers=bearer(mine["access_token"])
    )
    assert response.status_code == 404
    assert http.get(LIST, headers=bearer(other["access_token"])).status_code == 200


def test_logout_ends_the_current_session_at_once(app, http, user):
    tokens = login(http, user)
    other = login(http, user)
    response = http.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 401
    assert refresh(http, tokens["refresh_token"]).status_code == 401
    assert http.get(LIST, headers=bearer(other["access_token"])).status_code == 200
    assert [entry.object_type for entry in audit_actions(app, "logout")] == ["AuthSession"]


def test_logout_all_ends_every_session(app, http, user):
    first, second = login(http, user), login(http, user)
    response = http.post("/api/v1/auth/logout-all", headers=bearer(second["access_token"]))
    assert response.status_code == 200 and response.json["ended"] == 2
    for tokens in (first, second):
        assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 401
        assert refresh(http, tokens["refresh_token"]).status_code == 401
    assert len(audit_actions(app, "logout_all")) == 1


def test_the_auth_endpoints_need_a_token(http):
    assert http.get("/api/v1/auth/sessions").status_code == 401
    assert http.post("/api/v1/auth/logout").status_code == 401
    assert http.post("/api/v1/auth/logout-all").status_code == 401


# --- an administrator ends sessions; account changes end them ------------------------------


def test_an_admin_ends_the_sessions_of_a_user_of_their_organisation(
    app, http, make_user, make_organisation
):
    organisation = make_organisation()
    admin = login(http, make_user("ADMIN", organisation))
    target = make_user("USER", organisation)
    stolen = login(http, target)
    target_id = user_id(app, target)

    path = f"/api/v1/auth/users/{target_id}/sessions"
    response = http.delete(path, headers=bearer(admin["access_token"]))
    assert response.status_code == 200 and response.json["ended"] == 1
    assert http.get(LIST, headers=bearer(stolen["access_token"])).status_code == 401
    assert refresh(http, stolen["refresh_token"]).status_code == 401
    (entry,) = audit_actions(app, "sessions_ended")
    assert entry.object_id == str(target_id) or entry.object_id == target_id

    # Another agency's ADMIN does not even see the user; a USER may not ask at all.
    outsider = login(http, make_user("ADMIN"))
    assert http.delete(path, headers=bearer(outsider["access_token"])).status_code == 404
    colleague = login(http, make_user("USER", organisation))
    assert http.delete(path, headers=bearer(colleague["access_token"])).status_code == 403
    assert (
        http.delete(
            "/api/v1/auth/users/abc/sessions", headers=bearer(admin["access_token"])
        ).status_code
        == 404
    )


def _put_user(http, admin_token, target_id, body):
    response = http.put(f"/api/v1/user/{target_id}", json=body, headers=bearer(admin_token))
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"active": False}, "deactivated"),
        ({"password": "a brand new passphrase"}, "password_changed"),
        ({"role": "MANAGER"}, "role_changed"),
    ],
)
def test_account_changes_stop_outstanding_tokens_at_once(
    app, http, make_user, make_organisation, change, reason
):
    organisation = make_organisation()
    admin = login(http, make_user("ADMIN", organisation))
    target = make_user("USER", organisation)
    tokens = login(http, target)
    _put_user(http, admin["access_token"], user_id(app, target), change)
    assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 401
    assert refresh(http, tokens["refresh_token"]).status_code == 401
    with app.app_context():
        reasons = db.session.scalars(
            select(AuthSession.revoked_reason).where(AuthSession.user_id == user_id(app, target))
        ).all()
    assert reasons == [reason]
    # The administrator's own session is untouched.
    assert http.get(LIST, headers=bearer(admin["access_token"])).status_code == 200


def test_an_unrelated_change_keeps_the_sessions(app, http, make_user, make_organisation):
    organisation = make_organisation()
    admin = login(http, make_user("ADMIN", organisation))
    target = make_user("USER", organisation)
    tokens = login(http, target)
    _put_user(http, admin["access_token"], user_id(app, target), {"first_name": "Renée"})
    assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 200


def test_an_inactive_user_can_neither_log_in_nor_refresh(app, http, user):
    tokens = login(http, user)
    with app.app_context():
        # Straight in the database: the refresh check itself must refuse the account.
        db.session.query(AppUser).filter_by(username=user).update({"active": False})
        db.session.commit()
    assert refresh(http, tokens["refresh_token"]).status_code == 401
    refused = http.post("/api/v1/security/login", json={"username": user, "password": PASSWORD})
    assert refused.status_code == 401


def test_unknown_user_and_wrong_password_get_the_same_answer(http, user):
    wrong = http.post("/api/v1/security/login", json={"username": user, "password": "nope"})
    unknown = http.post(
        "/api/v1/security/login", json={"username": "nobody-at-all", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


@pytest.mark.parametrize("device", [5, "x" * 257, ["a"]])
def test_a_bad_device_label_is_refused(http, user, device):
    response = http.post(
        "/api/v1/security/login",
        json={"username": user, "password": PASSWORD, "device": device},
    )
    assert response.status_code == 400 and "message" in response.json


def test_a_device_label_names_the_session(http, user):
    response = http.post(
        "/api/v1/security/login",
        json={"username": user, "password": PASSWORD, "device": "CI runner"},
    )
    sessions = http.get("/api/v1/auth/sessions", headers=bearer(response.json["access_token"]))
    assert [row["device"] for row in sessions.json["result"]] == ["CI runner"]


def test_a_password_reset_through_fabs_manager_ends_the_sessions_too(app, http, user):
    """The screens reset passwords through FAB's security manager: the same rule holds."""
    tokens = login(http, user)
    with app.test_request_context():
        app.appbuilder.sm.reset_password(user_id(app, user), "another long passphrase")
    assert http.get(LIST, headers=bearer(tokens["access_token"])).status_code == 401
    assert refresh(http, tokens["refresh_token"]).status_code == 401
