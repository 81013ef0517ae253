"""docs/permissions.md tells the truth: its matrix equals the roles in the database."""

from __future__ import annotations

import re
from pathlib import Path

MATRIX = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
ROLE_COLUMNS = ("USER", "MANAGER", "ADMIN", "SUPERADMIN")


def documented_grants() -> set[tuple[str, str, str]]:
    grants = set()
    row = re.compile(r"^\| ([^|]+?) \| (\w+) \| (yes|—) \| (yes|—) \| (yes|—) \| (yes|—) \|$")
    for line in MATRIX.read_text(encoding="utf-8").splitlines():
        match = row.match(line)
        if match:
            resource, permission, *marks = match.groups()
            for role, mark in zip(ROLE_COLUMNS, marks, strict=True):
                if mark == "yes" and role != "SUPERADMIN":
                    grants.add((role, resource, permission))
    return grants


def granted_in_database(app) -> set[tuple[str, str, str]]:
    with app.app_context():
        sm = app.appbuilder.sm
        return {
            (role, pv.view_menu.name, pv.permission.name)
            for role in ROLE_COLUMNS[:3]
            for pv in sm.find_role(role).permissions
        }


def test_documented_matrix_equals_the_roles(app):
    documented = documented_grants()
    assert documented, "no matrix rows found in docs/permissions.md"
    actual = granted_in_database(app)
    assert actual - documented == set(), "granted but not documented"
    assert documented - actual == set(), "documented but not granted"


def test_superadmin_holds_every_permission(app):
    with app.app_context():
        sm = app.appbuilder.sm
        everything = set(sm.session.query(sm.permissionview_model).all())
        assert set(sm.find_role("SUPERADMIN").permissions) == everything


ENDPOINTS = [
    # (method, path, needed: the lowest role allowed)
    ("GET", "/api/v1/policy/", "USER"),
    ("GET", "/api/v1/client/", "USER"),
    ("GET", "/api/v1/company/", "USER"),
    ("POST", "/api/v1/company/", "ADMIN"),
    ("GET", "/api/v1/audit/", "MANAGER"),
    ("GET", "/api/v1/user/", "ADMIN"),
    ("GET", "/api/v1/organisation/", "SUPERADMIN"),
]
RANK = {role: index for index, role in enumerate(ROLE_COLUMNS)}


def test_role_by_endpoint_matrix(app, http, make_user, auth_headers):
    """Anonymous gets 401; each role reaches exactly the endpoints its rank allows."""
    headers = {role: auth_headers(make_user(role)) for role in ROLE_COLUMNS}
    for method, path, lowest in ENDPOINTS:
        anonymous = http.open(path, method=method, json={})
        assert anonymous.status_code == 401, (method, path)
        for role in ROLE_COLUMNS:
            response = http.open(path, method=method, json={}, headers=headers[role])
            allowed = RANK[role] >= RANK[lowest]
            if allowed:
                # Reached the handler: a list answers 200, an empty POST a validation 4xx.
                assert response.status_code in (200, 400, 422), (
                    role,
                    method,
                    path,
                    response.status_code,
                )
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)
