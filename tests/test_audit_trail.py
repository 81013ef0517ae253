"""Every write to a business model leaves exactly one audit row with its diff."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditLog
from tests.conftest import user_organisation

POLICY_BODY = {
    "number": "POL-AUDIT-1",
    "line_of_business": "home",
    "status": "draft",
    "effective_date": "2026-01-01",
    "expiry_date": "2027-01-01",
    "premium": "310.00",
    "currency": "EUR",
    "payment_frequency": "annual",
}


def audit_rows(app, **filters):
    with app.app_context():
        query = select(AuditLog).filter_by(**filters).order_by(AuditLog.id)
        return [
            {
                "action": row.action,
                "object_type": row.object_type,
                "object_id": row.object_id,
                "changes": row.changes,
                "username": row.username,
                "organisation_id": row.organisation_id,
                "request_id": row.request_id,
            }
            for row in db.session.scalars(query)
        ]


def test_api_create_update_delete_each_write_one_row(app, http, make_user, portfolio, auth_headers):
    user = make_user("USER")
    org = user_organisation(app, user)
    ids = portfolio(org, "1")
    headers = {**auth_headers(user), "X-Request-ID": "req-audit-1"}
    body = {**POLICY_BODY, "client_id": ids["client"], "company_id": ids["company"]}

    created = http.post("/api/v1/policy/", json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    policy_id = str(created.json["id"])
    rows = audit_rows(app, object_type="Policy", object_id=policy_id)
    assert [r["action"] for r in rows] == ["create"]
    assert rows[0]["changes"]["premium"] == [None, "310.00"]
    assert rows[0]["username"] == user
    assert rows[0]["organisation_id"] == org
    assert rows[0]["request_id"] == "req-audit-1"

    updated = http.put(f"/api/v1/policy/{policy_id}", json={"premium": "333.30"}, headers=headers)
    assert updated.status_code == 200, updated.get_data(as_text=True)
    rows = audit_rows(app, object_type="Policy", object_id=policy_id, action="update")
    assert len(rows) == 1
    assert rows[0]["changes"] == {"premium": ["310.00", "333.30"]}

    deleted = http.delete(f"/api/v1/policy/{policy_id}", headers=headers)
    assert deleted.status_code == 200
    rows = audit_rows(app, object_type="Policy", object_id=policy_id, action="delete")
    assert len(rows) == 1
    assert rows[0]["changes"]["number"] == ["POL-AUDIT-1", None]


def test_refused_write_leaves_no_audit_row(app, http, make_user, portfolio, auth_headers):
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "1")
    before = audit_rows(app, object_type="Policy")
    body = {**POLICY_BODY, "client_id": ids["client"], "company_id": ids["company"]}
    response = http.post(
        "/api/v1/policy/", json={**body, "premium": "-1"}, headers=auth_headers(user)
    )
    assert response.status_code == 422
    assert audit_rows(app, object_type="Policy") == before


def test_failing_audit_write_rolls_back_the_change(app, http, make_user, portfolio, auth_headers):
    """If the audit row cannot be written, the change itself must fail."""
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "1")
    headers = auth_headers(user)
    with app.app_context():
        db.session.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
        db.session.commit()
    try:
        response = http.put(
            f"/api/v1/policy/{ids['policy']}", json={"premium": "999.00"}, headers=headers
        )
        assert response.status_code >= 400
    finally:
        with app.app_context():
            db.session.rollback()
            db.session.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
            db.session.commit()
    shown = http.get(f"/api/v1/policy/{ids['policy']}", headers=headers)
    assert shown.json["result"]["premium"] in ("420.50", 420.5)


def test_audit_rows_cannot_be_changed_through_the_orm(app, make_organisation):
    make_organisation()
    with app.app_context():
        row = db.session.scalars(select(AuditLog)).first()
        assert row is not None
        row.action = "forged"
        with pytest.raises(Exception, match="cannot be changed"):
            db.session.commit()
        db.session.rollback()


def test_logins_failures_and_logouts_are_audited(app, http, login, make_user):
    from tests.conftest import PASSWORD, api_token, login_screen

    user = make_user("USER")
    login_screen(http, user, "wrong password!!")
    login_screen(http, "nobody-by-that-name", PASSWORD)
    api_token(http, user)
    login(user)
    http.get("/logout/")
    actions = [
        (r["action"], r["username"])
        for r in audit_rows(app, object_type="User")
        if r["action"] in ("login", "login_failed", "logout")
    ]
    assert actions == [
        ("login_failed", user),
        ("login_failed", "nobody-by-that-name"),
        ("login", user),
        ("login", user),
        ("logout", user),
    ]


def test_role_permission_changes_are_audited(app):
    from flask_appbuilder.security.sqla.models import Role

    with app.app_context():
        role = db.session.scalars(select(Role).filter_by(name="USER")).one()
        removed = role.permissions[0]
        role.permissions.remove(removed)
        db.session.commit()
        try:
            rows = audit_rows(app, object_type="Role", object_id=str(role.id), action="update")
            assert len(rows) == 1
            before, after = rows[0]["changes"]["permissions"]
            assert str(removed) in before and str(removed) not in after
        finally:
            role.permissions.append(removed)
            db.session.commit()


def test_user_creation_is_audited_with_the_password_masked(app, http, make_user, auth_headers):
    from tests.test_users_api import GOOD_PASSWORD, new_user

    headers = auth_headers(make_user("ADMIN"))
    created = http.post("/api/v1/user/", json=new_user(), headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    rows = audit_rows(app, object_type="User", object_id=str(created.json["id"]), action="create")
    assert len(rows) == 1
    assert rows[0]["changes"]["password"] == [None, "***"]
    assert rows[0]["changes"]["roles"] == [None, ["USER"]]
    with app.app_context():
        raw = db.session.execute(text("SELECT changes FROM audit_log")).scalars().all()
    assert not any(GOOD_PASSWORD in str(value) for value in raw)


def test_logout_without_a_session_redirects_and_records_nothing(app, http):
    response = http.get("/logout/")
    assert response.status_code == 302
    assert [r for r in audit_rows(app, object_type="User") if r["action"] == "logout"] == []
