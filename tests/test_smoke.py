"""The app builds, answers /health and serves a scoped policy list to a JWT holder."""

from __future__ import annotations


def test_health_answers_ok(http):
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_policy_list_shows_own_organisation_only(
    http, make_user, make_organisation, portfolio, auth_headers, app
):
    from tests.conftest import user_organisation

    user = make_user("USER")
    own = portfolio(user_organisation(app, user), "1")
    portfolio(make_organisation(), "2")
    response = http.get("/api/v1/policy/", headers=auth_headers(user))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [row["id"] for row in response.json["result"]] == [own["policy"]]
    assert response.json["count"] == 1
