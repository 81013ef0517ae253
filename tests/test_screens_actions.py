"""Bulk status changes from the policy list: Activer, Suspendre, Résilier."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Policy, PolicyStatus
from tests.conftest import user_organisation
from tests.test_screens_support import csrf_token, flashes, load, page_text


@pytest.fixture
def policies(app, make_user, login, portfolio):
    """A logged-in USER with one policy in each status; returns {status: id}."""
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    ids = portfolio(organisation_id, "1")
    with app.app_context():
        rows = {}
        for status in PolicyStatus:
            rows[status] = Policy(
                organisation_id=organisation_id,
                number=f"S-{status.value}",
                client_id=ids["client"],
                company_id=ids["company"],
                line_of_business="auto",
                status=status,
                effective_date=dt.date(2026, 1, 1),
                expiry_date=dt.date(2027, 1, 1),
                premium=Decimal("100"),
            )
        db.session.add_all(rows.values())
        db.session.commit()
        by_status = {status: row.id for status, row in rows.items()}
    login(user)
    return by_status


def _act(http, action, ids):
    token = csrf_token(http, "/policyview/list/")
    return http.post(
        "/policyview/action_post",
        data={"action": action, "rowid": [str(i) for i in ids], "csrf_token": token},
        follow_redirects=True,
    )


def _statuses(app, ids):
    return {load(app, Policy, i).status for i in ids}


def test_the_list_offers_the_three_actions_in_french(app, http, policies):
    page = page_text(http.get("/policyview/list/"))
    for label in ("Activer", "Suspendre", "Résilier"):
        assert label in page
    assert 'name="rowid"' in page


def test_activate_changes_draft_and_suspended_only(app, http, policies):
    response = _act(http, "activate", list(policies.values()))
    assert ("success", "2 contrats passés au statut « En cours ».") in flashes(response)
    assert (
        "warning",
        "3 contrats inchangés : leur statut ne permet pas « En cours ».",
    ) in flashes(response)
    assert load(app, Policy, policies[PolicyStatus.draft]).status == PolicyStatus.active
    assert load(app, Policy, policies[PolicyStatus.suspended]).status == PolicyStatus.active
    assert load(app, Policy, policies[PolicyStatus.cancelled]).status == PolicyStatus.cancelled
    assert load(app, Policy, policies[PolicyStatus.expired]).status == PolicyStatus.expired


def test_suspend_changes_active_only(app, http, policies):
    response = _act(http, "suspend", [policies[PolicyStatus.active], policies[PolicyStatus.draft]])
    assert ("success", "1 contrat passé au statut « Suspendu ».") in flashes(response)
    assert ("warning", "1 contrat inchangé : son statut ne permet pas « Suspendu ».") in flashes(
        response
    )
    assert load(app, Policy, policies[PolicyStatus.active]).status == PolicyStatus.suspended
    assert load(app, Policy, policies[PolicyStatus.draft]).status == PolicyStatus.draft


def test_cancel_never_touches_expired_policies(app, http, policies):
    _act(http, "cancel", list(policies.values()))
    assert load(app, Policy, policies[PolicyStatus.expired]).status == PolicyStatus.expired
    assert _statuses(app, [policies[s] for s in PolicyStatus if s != PolicyStatus.expired]) == {
        PolicyStatus.cancelled
    }


def test_english_users_get_english_messages(app, http, policies):
    http.get("/lang/en")
    response = _act(http, "suspend", [policies[PolicyStatus.active]])
    assert ("success", "1 policy changed to Suspended.") in flashes(response)


@pytest.mark.parametrize("rowids", [[], ["abc"], ["99999999999999999999"], ["987654"]])
def test_no_usable_row_changes_nothing(app, http, policies, rowids):
    token = csrf_token(http, "/policyview/list/")
    response = http.post(
        "/policyview/action_post",
        data={"action": "cancel", "rowid": rowids, "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert ("warning", "Aucun contrat sélectionné.") in flashes(response)
    assert load(app, Policy, policies[PolicyStatus.active]).status == PolicyStatus.active


@pytest.mark.parametrize("action", ["delete", "purge", "", "__init__"])
def test_unknown_actions_are_refused(app, http, policies, action):
    token = csrf_token(http, "/policyview/list/")
    response = http.post(
        "/policyview/action_post",
        data={"action": action, "rowid": [str(policies[PolicyStatus.active])], "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert ("danger", "Accès refusé") in flashes(response)
    assert load(app, Policy, policies[PolicyStatus.active]).status == PolicyStatus.active


def test_a_user_without_the_action_permission_is_refused(app, http, make_user, login, portfolio):
    """Each action is its own FAB permission (named after the action): without it, refused."""
    from app.services import roles

    user = make_user("USER")
    ids = portfolio(user_organisation(app, user), "1")
    login(user)
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(roles.USER)
        kept = [
            pv
            for pv in role.permissions
            if not (pv.view_menu.name == "Policy" and pv.permission.name == "can_write")
        ]
        removed = [pv for pv in role.permissions if pv not in kept]
        role.permissions = kept
        db.session.commit()
    try:
        token = csrf_token(http, "/policyview/list/")
        response = http.post(
            "/policyview/action_post",
            data={"action": "cancel", "rowid": [str(ids["policy"])], "csrf_token": token},
            follow_redirects=True,
        )
        assert ("danger", "Accès refusé") in flashes(response)
        assert load(app, Policy, ids["policy"]).status == PolicyStatus.active
    finally:
        with app.app_context():
            role = app.appbuilder.sm.find_role(roles.USER)
            role.permissions = [*role.permissions, *[db.session.merge(pv) for pv in removed]]
            db.session.commit()
