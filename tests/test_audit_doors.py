"""The audit trail through its doors: screen, CSV export, history, read-only API — all scoped."""

from __future__ import annotations

import csv
import io

from tests.conftest import user_organisation


def change_client_city(app, client_id: int, city: str) -> None:
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        db.session.get(Client, client_id).city = city
        db.session.commit()


def two_agencies(app, make_user, make_organisation, portfolio):
    manager = make_user("MANAGER")
    own = portfolio(user_organisation(app, manager), "1")
    other = portfolio(make_organisation(), "2")
    change_client_city(app, own["client"], "Lyon")
    change_client_city(app, other["client"], "Brest")
    return manager, own, other


def test_manager_sees_own_organisation_log_only(
    app, http, login, make_user, make_organisation, portfolio
):
    manager, own, other = two_agencies(app, make_user, make_organisation, portfolio)
    login(manager)
    page = http.get("/audit/list/?psize_AuditLogView=100").get_data(as_text=True)
    assert ">Client<" in page
    response = http.get("/api/v1/audit/?q=(page_size:100)")
    assert response.status_code == 200
    organisations = {row["organisation_id"] for row in response.json["result"]}
    assert organisations == {user_organisation(app, manager)}
    object_ids = {(r["object_type"], r["object_id"]) for r in response.json["result"]}
    assert ("Client", str(own["client"])) in object_ids
    assert ("Client", str(other["client"])) not in object_ids


def test_user_role_cannot_open_the_audit_log(app, http, login, make_user):
    user = make_user("USER")
    login(user)
    assert http.get("/audit/list/").status_code == 403
    assert http.get("/api/v1/audit/").status_code == 403


def test_csv_export_keeps_filters_and_scope(
    app, http, login, make_user, make_organisation, portfolio
):
    manager, own, other = two_agencies(app, make_user, make_organisation, portfolio)
    login(manager)
    # The list exports (app/views/exports.py): French headers, ';'-separated, with a BOM.
    response = http.get("/audit/export/csv?_flt_0_object_type=Client")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert rows, "the export is empty"
    assert {row["Code du type d'objet"] for row in rows} == {"Client"}
    assert {row["Identifiant de l'objet"] for row in rows} == {str(own["client"])}
    update = next(row for row in rows if row["Code de l'action"] == "update")
    assert '"city": [null, "Lyon"]' in update["Modifications"]


def test_history_of_a_client_shows_its_changes(
    app, http, login, make_user, make_organisation, portfolio
):
    user = make_user("USER")
    own = portfolio(user_organisation(app, user), "1")
    other = portfolio(make_organisation(), "2")
    change_client_city(app, own["client"], "Nantes")
    login(user)
    page = http.get(f"/history/client/{own['client']}")
    assert page.status_code == 200
    assert "Nantes" in page.get_data(as_text=True)
    assert http.get(f"/history/client/{other['client']}").status_code == 404
    assert http.get(f"/history/policy/{other['policy']}").status_code == 404
    assert http.get("/history/organisation/1").status_code == 404


def test_audit_api_is_read_only(app, http, make_user, auth_headers):
    headers = auth_headers(make_user("ADMIN"))
    listed = http.get("/api/v1/audit/", headers=headers)
    assert listed.status_code == 200
    first = listed.json["result"][0]["id"]
    assert (
        http.post("/api/v1/audit/", json={"action": "forged"}, headers=headers).status_code == 405
    )
    assert http.put(f"/api/v1/audit/{first}", json={}, headers=headers).status_code == 405
    assert http.delete(f"/api/v1/audit/{first}", headers=headers).status_code == 405


def test_audit_api_filters_by_action_and_object(app, http, make_user, portfolio, auth_headers):
    manager = make_user("MANAGER")
    ids = portfolio(user_organisation(app, manager), "1")
    change_client_city(app, ids["client"], "Lille")
    headers = auth_headers(manager)
    query = "(filters:!((col:action,opr:eq,value:update),(col:object_type,opr:eq,value:Client)))"
    response = http.get(f"/api/v1/audit/?q={query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["count"] == 1
    assert response.json["result"][0]["changes"] == {"city": [None, "Lille"]}


def test_client_and_policy_pages_link_to_their_history(app, http, login, make_user, portfolio):
    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "1")
    login(user)
    client_page = http.get(f"/clientview/show/{ids['client']}").get_data(as_text=True)
    assert f'href="/history/client/{ids["client"]}"' in client_page
    policy_page = http.get(f"/policyview/show/{ids['policy']}").get_data(as_text=True)
    assert f'href="/history/policy/{ids["policy"]}"' in policy_page
