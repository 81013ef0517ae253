"""Link-signing keys: made on first use and stored encrypted, rotated without breaking links,
retired after; or taken from LINK_SIGNING_KEYS. Through `flask keys …` and the ADMIN screen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, SigningKey
from app.services.links import keys
from app.services.links.tokens import read
from tests.conftest import csrf_token, user_organisation
from tests.links_support import Clock, french, path_of, stored_document

ENV_KEYS = "envA:" + "a" * 40 + ",envB:" + "b" * 40


@pytest.fixture(autouse=True)
def _generous_download_limit(app, monkeypatch):
    """Many downloads from one test client: the limits have their own tests (test_links_limits)."""
    monkeypatch.setitem(app.config, "RATELIMIT_LINK_DOWNLOAD", "1000/minute")


@pytest.fixture
def staff(make_user, app):
    username = make_user("USER")
    return username, user_organisation(app, username)


@pytest.fixture
def headers(staff, auth_headers):
    return auth_headers(staff[0])


@pytest.fixture
def document_id(app, staff):
    return stored_document(app, staff[1])


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def link(http, headers, document_id, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    response = http.get(f"/api/v1/document/{document_id}/link?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return path_of(response.json["url"])


def kid_of(path: str) -> str:
    return read(path.removeprefix("/d/")).claims.kid


def rotate(app):
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    return result.output


def key_rows(app):
    with app.app_context():
        return db.session.scalars(select(SigningKey).order_by(SigningKey.id)).all()


# --- database keys ---------------------------------------------------------------------------


def test_the_first_link_makes_a_key_whose_secret_is_stored_encrypted(
    app, http, headers, document_id
):
    assert key_rows(app) == []
    path = link(http, headers, document_id)
    (row,) = key_rows(app)
    assert row.active and row.retired_at is None and row.verify_until is None
    assert kid_of(path) == row.kid
    with app.app_context():
        secret = keys.verifying_key(db.session, row.kid).secret
        assert len(secret) == 32
        assert secret not in row.secret_encrypted.encode()
        # Encrypted with a key derived from SECRET_KEY: the right one decrypts, another does not.
        assert keys._fernet(app.config["SECRET_KEY"]).decrypt(row.secret_encrypted.encode()) == (
            secret
        )
        with pytest.raises(keys.KeyConfigError):
            keys.verifying_key(db.session, row.kid, {**app.config, "SECRET_KEY": "another"})
    # One key, reused by the next links.
    assert kid_of(link(http, headers, document_id)) == row.kid
    assert len(key_rows(app)) == 1


def test_rotation_keeps_old_links_working_until_they_expire(app, http, headers, document_id, clock):
    anonymous = app.test_client()
    old = link(http, headers, document_id, ttl=3600)
    output = rotate(app)
    new = link(http, headers, document_id, ttl=3600)
    assert kid_of(new) != kid_of(old)
    assert f"new signing key {kid_of(new)}" in output
    assert f"key {kid_of(old)} stops signing" in output
    # Both verify: rotation is not an outage.
    assert anonymous.get(old).status_code == 200
    assert anonymous.get(new).status_code == 200
    old_row, new_row = key_rows(app)
    assert not old_row.active and new_row.active
    assert old_row.verify_until - old_row.created_at >= dt.timedelta(seconds=3600)
    clock.advance(seconds=3590)
    assert anonymous.get(old).status_code == 200
    clock.advance(seconds=20)
    assert anonymous.get(old).status_code == 410  # expired, as its lifetime said


def test_a_key_stops_verifying_after_its_window_then_is_retired(
    app, http, headers, document_id, clock, monkeypatch
):
    anonymous = app.test_client()
    old = link(http, headers, document_id, ttl=3600)
    # An operator shortened LINK_TTL_MAX_SECONDS: the old key's window closes before the
    # link's own expiry, and the key's window wins.
    monkeypatch.setitem(app.config, "LINK_TTL_MAX_SECONDS", 60)
    rotate(app)
    clock.advance(seconds=59)
    assert anonymous.get(old).status_code == 200
    clock.advance(seconds=2)
    refused = anonymous.get(old)
    assert refused.status_code == 403 and refused.json == {
        "message": french("This link is not valid.")
    }
    # The next rotation retires it and wipes its secret.
    output = rotate(app)
    assert f"key {kid_of(old)} retired" in output
    old_row = next(row for row in key_rows(app) if row.kid == kid_of(old))
    assert old_row.retired_at is not None and old_row.secret_encrypted == ""
    assert anonymous.get(old).status_code == 403
    reasons = [
        row.changes["reason"]
        for row in _audit(app, "link.refused")
        if row.changes.get("kid") == kid_of(old)
    ]
    assert reasons == ["key_expired", "retired_key"]


def test_rotation_is_audited(app):
    rotate(app)
    rotate(app)
    first, second = _audit(app, "signing_key.rotated")
    assert second.username == "cli"
    assert second.changes["new"] == key_rows(app)[-1].kid
    assert list(second.changes["verifying_until"]) == [first.changes["new"]]


def test_keys_list_shows_each_state(app, clock):
    assert "no signing key yet" in app.test_cli_runner().invoke(args=["keys", "list"]).output
    rotate(app)
    clock.advance(seconds=1)
    rotate(app)
    output = app.test_cli_runner().invoke(args=["keys", "list"]).output
    first, second = (row.kid for row in key_rows(app))
    assert re.search(rf"^{second}\s+database\s+signing", output, re.M)
    assert re.search(rf"^{first}\s+database\s+verifying", output, re.M)
    assert "secret" not in output.lower()


def test_a_changed_secret_key_refuses_plainly_and_rotation_recovers(
    app, http, headers, document_id
):
    path = link(http, headers, document_id)
    # As if the key had been made under another SECRET_KEY (changing the app's own would
    # also end the test's login): its secret no longer decrypts.
    with app.app_context():
        row = db.session.scalars(select(SigningKey)).one()
        row.secret_encrypted = keys._fernet("the previous SECRET_KEY").encrypt(b"x" * 32).decode()
        db.session.commit()
    response = http.get(f"/api/v1/document/{document_id}/link", headers=headers)
    assert response.status_code == 503
    assert response.json == {"message": french("Signed links are not available right now.")}
    assert app.test_client().get(path).status_code == 503
    listing = app.test_cli_runner().invoke(args=["keys", "list"])
    assert listing.exit_code == 0  # listing needs no secret
    rotate(app)  # needs no old secret either: it only demotes and retires
    assert app.test_client().get(link(http, headers, document_id)).status_code == 200


# --- keys from the environment ---------------------------------------------------------------


def test_environment_keys_sign_with_the_first_and_verify_with_all(
    app, http, headers, document_id, monkeypatch
):
    monkeypatch.setitem(app.config, "LINK_SIGNING_KEYS", ENV_KEYS)
    path = link(http, headers, document_id)
    assert kid_of(path) == "envA"
    assert key_rows(app) == []  # the table is not used
    # The operator rotates: a new key first, the old one kept after it.
    monkeypatch.setitem(app.config, "LINK_SIGNING_KEYS", "envC:" + "c" * 40 + "," + ENV_KEYS)
    assert kid_of(link(http, headers, document_id)) == "envC"
    assert app.test_client().get(path).status_code == 200
    # ... and removes it once its links have expired.
    monkeypatch.setitem(app.config, "LINK_SIGNING_KEYS", "envC:" + "c" * 40)
    assert app.test_client().get(path).status_code == 403


def test_rotation_refuses_when_keys_come_from_the_environment(app, monkeypatch):
    monkeypatch.setitem(app.config, "LINK_SIGNING_KEYS", ENV_KEYS)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert "LINK_SIGNING_KEYS is set" in result.output
    assert "docs/operations.md" in result.output
    assert key_rows(app) == []
    listing = app.test_cli_runner().invoke(args=["keys", "list"]).output
    assert re.search(r"^envA\s+environment\s+signing", listing, re.M)
    assert re.search(r"^envB\s+environment\s+verifying", listing, re.M)
    assert "a" * 40 not in listing


@pytest.mark.parametrize(
    "value",
    ["nocolon", "k1:short", "k 1:" + "x" * 40, "k1:" + "x" * 40 + ",k1:" + "y" * 40, ","],
)
def test_malformed_environment_keys_are_refused_with_a_reason(app, value):
    with pytest.raises(keys.KeyConfigError, match="LINK_SIGNING_KEYS"):
        keys.environment_keys({"LINK_SIGNING_KEYS": value})


def test_malformed_environment_keys_make_links_unavailable_not_500(
    app, http, headers, document_id, monkeypatch
):
    monkeypatch.setitem(app.config, "LINK_SIGNING_KEYS", "k1:short")
    response = http.get(f"/api/v1/document/{document_id}/link", headers=headers)
    assert response.status_code == 503
    assert "message" in response.json
    result = app.test_cli_runner().invoke(args=["keys", "list"])
    assert result.exit_code == 1 and "shorter than 32" in result.output


# --- the ADMIN screen ------------------------------------------------------------------------


def test_an_admin_lists_and_rotates_keys_on_the_screen(app, http, login, make_user):
    admin = make_user("ADMIN")
    login(admin)
    home = http.get("/").get_data(as_text=True)
    assert "/signing-keys/" in home  # under Administration
    page = http.get("/signing-keys/")
    assert page.status_code == 200
    assert "rotate-keys" in page.get_data(as_text=True)
    token = csrf_token(http, "/signing-keys/")
    response = http.post("/signing-keys/rotate", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    (row,) = key_rows(app)
    assert row.kid in response.get_data(as_text=True)
    (audited,) = _audit(app, "signing_key.rotated")
    assert audited.username == admin
    assert audited.organisation_id == user_organisation(app, admin)


def test_rotating_on_the_screen_needs_the_csrf_token(app, http, login, make_user):
    login(make_user("ADMIN"))
    assert http.post("/signing-keys/rotate", data={}).status_code == 400
    assert key_rows(app) == []


@pytest.mark.parametrize("role", ["USER", "MANAGER"])
def test_other_roles_neither_see_nor_rotate_keys(app, http, login, make_user, role):
    login(make_user(role))
    assert "/signing-keys/" not in http.get("/").get_data(as_text=True)
    page = http.get("/signing-keys/")
    assert page.status_code in (302, 403)
    # A valid CSRF token (tokens belong to the session, not to a form): refused all the same.
    token = csrf_token(http, "/resetmypassword/form")
    refused = http.post("/signing-keys/rotate", data={"csrf_token": token})
    assert refused.status_code in (302, 403)
    assert "/signing-keys" not in refused.headers.get("Location", "")
    assert key_rows(app) == []


def test_the_screen_explains_environment_keys_and_offers_no_rotation(
    app, http, login, make_user, monkeypatch
):
    monkeypatch.setitem(app.config, "LINK_SIGNING_KEYS", ENV_KEYS)
    login(make_user("ADMIN"))
    page = http.get("/signing-keys/").get_data(as_text=True)
    assert "LINK_SIGNING_KEYS" in page
    assert "envA" in page and "envB" in page
    assert "rotate-keys" not in page


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        ).all()
