"""Every route the app registers refuses an anonymous caller, except an explicit allow-list.

A route added later without protection makes this test fail.
"""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import AppUser, AuditLog, Document, Job, JobKind, JobStatus
from app.models.delivery import PurgeRun
from app.services import audit
from tests.conftest import ROLES, login_screen, user_organisation
from tests.links_support import stored_document
from tests.related_support import premium_rows

# Public on purpose: login and language switch, operator probes, static files. The API
# spec and Swagger UI are not: they need a login (README, docs/api.md).
PUBLIC_ROUTES = {
    "/",
    "/login/",
    "/lang/<string:locale>",
    "/health",
    "/health/db",
    "/metrics",
    "/static/<path:filename>",
    "/static/appbuilder/<path:filename>",
    "/api/v1/security/login",
    "/back",
    # A signed download link: the token in the path is the credential (app/views/download.py).
    "/d/<token>",
    # The icon browsers ask for on every page.
    "/favicon.ico",
}
# Anonymous-safe by nature: logging out when logged out only redirects.
HARMLESS_ROUTES = {"/logout/"}

SAMPLE_VALUES = {
    "pk": "1",
    "version": "v1",
    "filename": "x",
    "name": "x",
    "locale": "fr",
    "group_by": "x",
    "role_id": "1",
    "column_name": "x",
}


def concrete_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: SAMPLE_VALUES.get(m.group(1), "1"), rule)


def refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code in (301, 302, 303, 307, 308):
        # To the login form, or (FAB actions with an unknown name) back home with nothing done.
        location = response.headers.get("Location", "")
        return "/login" in location or location in ("/", "http://localhost/")
    # 400/404/405: refused before any data was read (bad input, unknown object or method).
    return response.status_code in (400, 404, 405)


def all_rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.rule, method


def test_every_route_refuses_anonymous_callers(app):
    client = app.test_client()
    leaks = []
    for rule, method in all_rules(app):
        if rule in PUBLIC_ROUTES or rule in HARMLESS_ROUTES:
            continue
        response = client.open(concrete_path(rule), method=method, json={})
        if not refused(response):
            leaks.append(f"{method} {rule} -> {response.status_code}")
    assert leaks == []


def test_protected_list_routes_answer_401_or_login_redirect(app):
    """Guard the guard: the walk above must not pass because everything 404s."""
    client = app.test_client()
    assert client.get("/api/v1/policy/").status_code == 401
    screen = client.get("/policyview/list/")
    assert screen.status_code == 302 and "/login" in screen.headers["Location"]


@pytest.mark.parametrize("rule", sorted(PUBLIC_ROUTES))
def test_public_routes_still_exist(app, rule):
    assert rule in {r.rule for r in app.url_map.iter_rules()}, f"{rule} is allow-listed but gone"


# --- Logged in: no route answers 5xx ------------------------------------------------------
# Each role logs in once and GETs every route, its path variables filled with a row of its
# own agency, a row of another agency and hostile strings. A 5xx is a crash: FAB routes the
# product does not use (a ModelView's /download/<filename> answered 500) must be gone.

# Which rows a route's <pk> names, by the route's first path segments.
PK_KINDS = [
    (re.compile(r"^/(clientview|api/v1/client|history/<[^>]+>)/"), "client"),
    (re.compile(r"^/(policyview|api/v1/policy|documentview/generate)/"), "policy"),
    (re.compile(r"^/(companyview|api/v1/company)/"), "company"),
    (re.compile(r"^/(documentview|api/v1/document|links)/"), "document"),
    (re.compile(r"^/(jobview|api/v1/job)/"), "job"),
    (re.compile(r"^/(templateview|api/v1/template)/"), "template"),
    (re.compile(r"^/(users|api/v1/user|api/v1/auth/users)/"), "user"),
    (re.compile(r"^/(organisationview|api/v1/organisation)/"), "organisation"),
    (re.compile(r"^/(audit|api/v1/audit)/"), "audit"),
    (re.compile(r"^/purge/"), "purge"),
    (re.compile(r"^/api/v1/premium_notice/"), "premium_notice"),
    (re.compile(r"^/api/v1/payment/"), "payment"),
    (re.compile(r"^/api/v1/allocation/"), "allocation"),
]
ID_VARIABLES = {"pk", "user_id"}
# Plausible values first: the walk varies one variable at a time from the first values.
PLAUSIBLE = {
    "version": ("v1",),
    "fmt": ("csv", "xlsx"),
    "extension": ("csv", "xlsx"),
    "locale": ("fr",),
    "kind": ("client", "policy", "company"),
    "subject": ("client", "policy"),
    "number": ("1",),
    "filename": ("x", "js/lookup-select.js"),
}
HOSTILE = ("x", "../etc/passwd", "99999999999999999999")
VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# Logging out would end the walk's session.
NOT_WALKED = {"/logout/"}


def agency_rows(app, organisation_id: int, suffix: str, portfolio, user_id: int) -> dict[str, int]:
    """The id of one row of every kind a route's <pk> can name, in this agency."""
    rows = dict(portfolio(organisation_id, suffix))
    rows["document"] = stored_document(app, organisation_id)
    with app.app_context():
        job = Job(
            organisation_id=organisation_id,
            owner_id=user_id,
            kind=JobKind.render,
            status=JobStatus.succeeded,
            document_id=rows["document"],
        )
        run = PurgeRun(trigger="manual", organisation_id=organisation_id, status="done")
        db.session.add_all([job, run])
        actor = audit.Actor(user_id, "tests", organisation_id)
        audit.record(
            db.session,
            "update",
            "Client",
            rows["client"],
            actor=actor,
            organisation_id=organisation_id,
        )
        db.session.commit()
        audit_id = db.session.query(AuditLog.id).filter_by(organisation_id=organisation_id)
        notice, payment = premium_rows(organisation_id, rows["policy"], suffix)
        rows.update(
            premium_notice=notice.id,
            payment=payment.id,
            allocation=payment.allocations[0].id,
            job=job.id,
            purge=run.id,
            user=user_id,
            organisation=organisation_id,
            template=db.session.get(Document, rows["document"]).template_id,
            audit=audit_id.first()[0],
        )
    return rows


def account_id(app, username: str) -> int:
    with app.app_context():
        return db.session.query(AppUser.id).filter_by(username=username).scalar()


@pytest.fixture
def two_agencies(app, make_user, make_organisation, portfolio):
    """A user of each role in agency A; one row of every kind in A and in B."""
    users = {"USER": make_user("USER")}
    own = user_organisation(app, users["USER"])
    users.update({role: make_user(role, own) for role in ROLES if role != "USER"})
    other = make_organisation()
    stranger = make_user("USER", other)
    return {
        "users": users,
        "own": agency_rows(app, own, "A", portfolio, account_id(app, users["USER"])),
        "other": agency_rows(app, other, "B", portfolio, account_id(app, stranger)),
    }


def variable_values(rule: str, name: str, own: dict[str, int], other: dict[str, int]) -> tuple:
    if name in ID_VARIABLES:
        kind = next((kind for pattern, kind in PK_KINDS if pattern.match(rule)), None)
        ids = (str(own[kind]), str(other[kind])) if kind else ("1",)
        return (*ids, *HOSTILE)
    return (*PLAUSIBLE.get(name, ()), *HOSTILE)


def fill(rule: str, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: values[m.group(1)], rule)


def walked_paths(app, own: dict[str, int], other: dict[str, int]) -> list[str]:
    """Every GET route, each variable in turn taking each of its values (the others plausible)."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule in NOT_WALKED:
            continue
        values = {
            name: variable_values(rule.rule, name, own, other)
            for name in VARIABLE.findall(rule.rule)
        }
        base = {name: choices[0] for name, choices in values.items()}
        paths.add(fill(rule.rule, base))
        for name, choices in values.items():
            paths.update(fill(rule.rule, {**base, name: value}) for value in choices[1:])
    return sorted(paths)


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_5xx_to_a_logged_in_get(app, http, two_agencies, role):
    assert login_screen(http, two_agencies["users"][role]).status_code == 200
    statuses, crashes = {}, []
    for path in walked_paths(app, two_agencies["own"], two_agencies["other"]):
        try:
            statuses[path] = http.get(path).status_code
        except Exception as error:  # TESTING propagates what would be a 500
            crashes.append(f"GET {path} raised {type(error).__name__}: {error}")
            continue
        if statuses[path] >= 500:
            crashes.append(f"GET {path} -> {statuses[path]}")
    assert not crashes, "\n".join(crashes)
    # Guard the guard: the walk reached the role's own rows and was not logged out.
    assert statuses[f"/clientview/show/{two_agencies['own']['client']}"] == 200
    assert statuses[f"/documentview/show/{two_agencies['own']['document']}"] == 200
    own, other = two_agencies["own"], two_agencies["other"]
    assert statuses[f"/api/v1/premium_notice/{own['premium_notice']}"] == 200
    assert statuses[f"/api/v1/policy/{own['policy']}/account"] == 200
    if role != "SUPERADMIN":
        assert statuses[f"/api/v1/payment/{other['payment']}"] == 404


# FAB routes the product does not use (app/routes.py): gone even for SUPERADMIN, who holds
# every permission. The ones the screens use stay.
UNUSED_FAB_ROUTES = [
    "/clientview/download/x",  # FAB's file download: answered 500 (no UPLOAD_FOLDER)
    "/users/download/x",
    "/roles/download/x",
    "/companyview/action/x/1",  # actions, on views that declare none
    "/groups/action/x/1",
    "/permissions/show/1",  # routes behind a permission the view does not declare
    "/viewmenus/edit/1",
    "/userstatschartview/chart/",  # Google Charts from a CDN: blank under our CSP
    "/api/v1/menu/",  # for single-page front ends
]
USED_ENDPOINTS = [
    "DocumentView.download",
    "DocumentApi.download",
    "PolicyView.action",
    "PolicyView.action_post",
    "ClientView.action",  # the client page's RGPD actions (app/views/privacy.py)
    "OrganisationUserView.action",
    "RoleModelView.action_post",
    "PermissionModelView.list",
]


def test_unused_fab_routes_answer_404_and_used_ones_stay(app, http, make_user):
    assert login_screen(http, make_user("SUPERADMIN")).status_code == 200
    answers = {path: http.get(path).status_code for path in UNUSED_FAB_ROUTES}
    assert answers == dict.fromkeys(UNUSED_FAB_ROUTES, 404)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(USED_ENDPOINTS) <= endpoints
