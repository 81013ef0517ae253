"""Agency A's USER, MANAGER and ADMIN find no trace of agency B through any door."""

from __future__ import annotations

import pytest

ROLES = ("USER", "MANAGER", "ADMIN")
RESOURCES = ("company", "client", "policy")


@pytest.fixture
def agencies(app, make_user, make_organisation, portfolio):
    own_org = make_organisation("Cabinet A")
    other_org = make_organisation("Cabinet B")
    users = {role: make_user(role, organisation_id=own_org) for role in ROLES}
    make_user("ADMIN", organisation_id=other_org, username="admin_of_b")
    return {
        "users": users,
        "own": portfolio(own_org, "A"),
        "other": portfolio(other_org, "B"),
        "other_org": other_org,
    }


@pytest.mark.parametrize("role", ROLES)
def test_api_doors_hide_the_other_agency(app, http, agencies, auth_headers, role):
    headers = auth_headers(agencies["users"][role])
    for resource in RESOURCES:
        listed = http.get(f"/api/v1/{resource}/?q=(page_size:100)", headers=headers)
        assert listed.status_code == 200
        assert listed.json["count"] == 1
        assert [row["id"] for row in listed.json["result"]] == [agencies["own"][resource]]
        other_id = agencies["other"][resource]
        assert http.get(f"/api/v1/{resource}/{other_id}", headers=headers).status_code == 404
        changed = http.put(f"/api/v1/{resource}/{other_id}", json={}, headers=headers)
        deleted = http.delete(f"/api/v1/{resource}/{other_id}", headers=headers)
        # 404 where the role may write, 403 where it may not: never a change.
        assert changed.status_code in (403, 404) and deleted.status_code in (403, 404)
    shown = http.get(f"/api/v1/policy/{agencies['own']['policy']}", headers=headers)
    assert shown.json["result"]["client_id"] == agencies["own"]["client"]


@pytest.mark.parametrize("role", ("MANAGER", "ADMIN"))
def test_audit_log_shows_no_entry_of_the_other_agency(app, http, agencies, auth_headers, role):
    headers = auth_headers(agencies["users"][role])
    response = http.get("/api/v1/audit/?q=(page_size:100)", headers=headers)
    assert response.status_code == 200
    organisations = {row["organisation_id"] for row in response.json["result"]}
    assert agencies["other_org"] not in organisations
    assert "admin_of_b" not in {row["username"] for row in response.json["result"]}


def test_admin_user_list_shows_no_user_of_the_other_agency(app, http, agencies, auth_headers):
    headers = auth_headers(agencies["users"]["ADMIN"])
    response = http.get("/api/v1/user/?q=(page_size:100)", headers=headers)
    assert response.status_code == 200
    assert "admin_of_b" not in {row["username"] for row in response.json["result"]}


@pytest.mark.parametrize("role", ROLES)
def test_screens_hide_the_other_agency(app, http, agencies, login, role):
    login(agencies["users"][role])
    for view, resource in (
        ("companyview", "company"),
        ("clientview", "client"),
        ("policyview", "policy"),
    ):
        other_id = agencies["other"][resource]
        assert http.get(f"/{view}/show/{other_id}").status_code == 404
        assert http.get(f"/{view}/edit/{other_id}").status_code in (403, 404)
        listing = http.get(f"/{view}/list/").get_data(as_text=True)
        assert "MartinB" not in listing and "Assureur B" not in listing and "POL-B" not in listing
    assert http.get(f"/history/client/{agencies['other']['client']}").status_code == 404
    lookup = http.get("/lookup/client?q=Martin")
    assert lookup.status_code == 200
    assert "MartinA" in lookup.get_data(as_text=True)
    assert "MartinB" not in lookup.get_data(as_text=True)
    home = http.get("/").get_data(as_text=True)
    assert "Cabinet B" not in home
