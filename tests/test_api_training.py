"""/api/v1/training/: the DDA training log (15 hours a year per person).

A manager records trainings of the agency's people; a year's hours add up per person,
everyone active listed (0 when none); from October those under 15 hours are warned;
another agency's person or record is refused; staff do not reach the log.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AppUser
from app.services.compliance.training import warns


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(AppUser.id).where(AppUser.username == username))


def record(http, headers, person, day="2025-03-10", hours="7.5", **body):
    return http.post(
        "/api/v1/training/",
        json={
            "user_id": person,
            "completed_on": day,
            "hours": hours,
            "title": "Actualité de l'assurance",
            "body": "Institut de formation",
            **body,
        },
        headers=headers,
    )


@pytest.mark.parametrize(
    ("year", "today", "shown"),
    [
        (2026, dt.date(2026, 9, 30), False),  # the year still has a quarter to go
        (2026, dt.date(2026, 10, 1), True),  # from 1 October
        (2025, dt.date(2026, 1, 5), True),  # a past year
    ],
)
def test_the_shortfall_is_shown_from_october(year, today, shown):
    assert warns(year, today) is shown


def test_a_years_hours_add_up_per_person_and_warn_under_fifteen(
    http, app, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    manager = make_user("MANAGER", org)
    staff = make_user("USER", org)
    headers = auth_headers(manager)
    staff_id, manager_id = user_id(app, staff), user_id(app, manager)
    assert record(http, headers, staff_id, hours="7.5").status_code == 201
    assert record(http, headers, staff_id, day="2025-11-20", hours="7.50").status_code == 201
    assert record(http, headers, manager_id, hours="14.75").status_code == 201
    # Another year's hours do not count for 2025.
    assert record(http, headers, manager_id, day="2024-06-01", hours="10").status_code == 201
    answer = http.get("/api/v1/training/hours?year=2025", headers=headers)
    assert answer.status_code == 200, answer.json
    people = {row["user_id"]: row for row in answer.json["people"]}
    assert (people[staff_id]["hours"], people[staff_id]["warning"]) == ("15.00", False)
    assert (people[manager_id]["hours"], people[manager_id]["missing"]) == ("14.75", "0.25")
    assert people[manager_id]["warning"] is True  # 2025 is over: the shortfall shows
    assert answer.json["required_hours"] == "15"
    assert http.get("/api/v1/training/hours", headers=headers).status_code == 400


def test_bad_records_and_other_agencies_are_refused(
    http, app, make_organisation, make_user, auth_headers
):
    a, b = make_organisation(), make_organisation()
    manager = make_user("MANAGER", a)
    headers = auth_headers(manager)
    foreigner = user_id(app, make_user("USER", b))
    me = user_id(app, manager)
    assert record(http, headers, foreigner).status_code == 422
    assert record(http, headers, me, hours="0").status_code == 422
    assert record(http, headers, me, hours="201").status_code == 422
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert record(http, headers, me, day=future).status_code == 422
    assert record(http, headers, me, title="   ").status_code == 422
    created = record(http, headers, me)
    assert created.status_code == 201, created.json
    b_headers = auth_headers(make_user("MANAGER", b))
    assert http.get(f"/api/v1/training/{created.json['id']}", headers=b_headers).status_code == 404
    staff_headers = auth_headers(make_user("USER", a))
    assert http.get("/api/v1/training/", headers=staff_headers).status_code == 403
