"""The ADMIN purge screen: runs and reports, dry run, apply after confirmation, one agency."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, PurgeRun, TemplateKind
from app.services.audit import Actor
from app.services.purge import PurgeScope, run_purge
from app.services.storage import document_key, open_store
from tests.conftest import csrf_token
from tests.purge_factory import World, days_ago, stored_keys, using_store, years_ago


@pytest.fixture
def store(app, tmp_path):
    with using_store(app, open_store(f"osfs://{tmp_path}")) as store:
        yield store


@pytest.fixture
def agencies(app, store, make_organisation):
    """Agencies A and B, each with an expired document, a kept one and an orphan file."""
    result = {}
    for name in ("a", "b"):
        organisation = make_organisation()
        world = World(app, store, organisation)
        abandoned = world.document(TemplateKind.other)
        result[name] = {
            "id": organisation,
            "expired": world.document(TemplateKind.notice, created_at=years_ago(4)),
            "kept": world.document(TemplateKind.notice, created_at=days_ago(3)),
        }
        result[name]["orphan"] = world.abandon(abandoned)
    return result


def keys_of(app, agencies, name):
    agency = agencies[name]
    return {
        agency["orphan"],
        document_key(agency["id"], agency["expired"]),
        document_key(agency["id"], agency["kept"]),
    }


def dry_run(http):
    token = csrf_token(http, "/purge/")
    return http.post("/purge/run", data={"csrf_token": token, "mode": "dry"})


def test_admin_dry_run_reports_their_agency_only_and_deletes_nothing(
    app, http, login, make_user, store, agencies
):
    login(make_user("ADMIN", agencies["a"]["id"]))
    files = stored_keys(store)
    response = dry_run(http)
    assert response.status_code == 302
    run_id = int(re.search(r"/purge/(\d+)$", response.headers["Location"]).group(1))
    page = http.get(f"/purge/{run_id}").get_data(as_text=True)
    assert agencies["a"]["orphan"] in page
    assert document_key(agencies["a"]["id"], agencies["a"]["expired"]) in page
    assert f"org-{agencies['b']['id']}/" not in page
    assert stored_keys(store) == files
    with app.app_context():
        run = db.session.get(PurgeRun, run_id)
        assert (run.trigger, run.applied, run.organisation_id) == (
            "screen",
            False,
            agencies["a"]["id"],
        )
        assert run.actor_name.startswith("admin_")
    listing = http.get("/purge/").get_data(as_text=True)
    assert f'href="/purge/{run_id}"' in listing


def test_apply_asks_for_confirmation_then_removes_their_agency_only(
    app, http, login, make_user, store, agencies
):
    login(make_user("ADMIN", agencies["a"]["id"]))
    a_expired = document_key(agencies["a"]["id"], agencies["a"]["expired"])
    confirm = http.get("/purge/run")
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert a_expired in page and agencies["a"]["orphan"] in page
    assert f"org-{agencies['b']['id']}/" not in page
    assert 'name="confirm" type="hidden" value="yes"' in page
    token = csrf_token(http, "/purge/run")
    # Without the confirmation, applying only shows that page.
    unconfirmed = http.post("/purge/run", data={"csrf_token": token, "mode": "apply"})
    assert unconfirmed.status_code == 302 and unconfirmed.headers["Location"].endswith("/purge/run")
    assert a_expired in stored_keys(store)
    # Without a CSRF token, nothing happens either.
    forged = http.post("/purge/run", data={"mode": "apply", "confirm": "yes"})
    assert forged.status_code in (302, 400)
    assert a_expired in stored_keys(store)

    applied = http.post(
        "/purge/run",
        data={"csrf_token": token, "mode": "apply", "confirm": "yes"},
        follow_redirects=True,
    )
    assert applied.status_code == 200
    assert 'id="purge-run"' in applied.get_data(as_text=True)  # the run's report
    assert stored_keys(store) == {
        document_key(agencies["a"]["id"], agencies["a"]["kept"])
    } | keys_of(app, agencies, "b")
    with app.app_context():
        assert db.session.get(Document, agencies["a"]["expired"]) is None
        assert db.session.get(Document, agencies["b"]["expired"]) is not None
        run = db.session.scalars(select(PurgeRun)).one()
        assert run.applied and run.organisation_id == agencies["a"]["id"]
        assert run.files_count == 2 and run.documents_count == 1


def test_an_admin_never_sees_another_agencys_runs(app, http, login, make_user, store, agencies):
    with app.app_context():
        b_run = run_purge(
            db.session,
            scope=PurgeScope(agencies["b"]["id"]),
            trigger="cli",
            apply=False,
            actor=Actor(None, "cli", None),
        ).id
        everything = run_purge(
            db.session,
            scope=PurgeScope(None),
            trigger="cli",
            apply=False,
            actor=Actor(None, "cli", None),
        ).id
    login(make_user("ADMIN", agencies["a"]["id"]))
    listing = http.get("/purge/").get_data(as_text=True)
    assert f"/purge/{b_run}" not in listing and f"/purge/{everything}" not in listing
    assert http.get(f"/purge/{b_run}").status_code == 404
    assert http.get(f"/purge/{everything}").status_code == 404
    assert http.get("/purge/99999999999").status_code == 404


def test_superadmin_sees_and_purges_every_agency(app, http, login, make_user, store, agencies):
    login(make_user("SUPERADMIN", agencies["a"]["id"]))
    response = dry_run(http)
    run_id = int(re.search(r"/purge/(\d+)$", response.headers["Location"]).group(1))
    page = http.get(f"/purge/{run_id}").get_data(as_text=True)
    assert agencies["a"]["orphan"] in page and agencies["b"]["orphan"] in page
    with app.app_context():
        assert db.session.get(PurgeRun, run_id).organisation_id is None


@pytest.mark.parametrize("role", ["USER", "MANAGER"])
def test_staff_below_admin_cannot_reach_the_purge(
    app, http, login, make_user, store, agencies, role
):
    login(make_user(role, agencies["a"]["id"]))
    for path in ("/purge/", "/purge/run"):
        response = http.get(path)
        assert response.status_code in (302, 403), (path, response.status_code)
    # A valid CSRF token (from a form they may open): refused for want of the permission.
    token = csrf_token(http, "/clientview/add")
    files = stored_keys(store)
    refused = http.post("/purge/run", data={"csrf_token": token, "mode": "apply", "confirm": "yes"})
    assert refused.status_code in (302, 403)
    assert stored_keys(store) == files
    with app.app_context():
        assert db.session.scalars(select(PurgeRun)).all() == []
