"""Beyond EXPORT_SYNC_MAX_ROWS rows, an export becomes a job (app/services/reports)
that delivers the same file as a Document; the user lands on the Jobs screen."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditLog, Document, Job, JobKind, JobStatus
from tests.conftest import user_organisation
from tests.export_support import add_policies, csv_rows

ARGS = "_flt_0_status=active&_oc_PolicyView=number&_od_PolicyView=desc"


@pytest.fixture
def small_threshold(app, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX_ROWS", 3)


def _the_job(app) -> tuple[int, int | None, JobStatus, dict]:
    with app.app_context():
        job = db.session.query(Job).one()
        return job.id, job.document_id, job.status, job.params


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_large_export_runs_as_a_job_delivering_the_same_rows(
    app, http, login, make_user, make_organisation, monkeypatch, fmt
):
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    add_policies(app, organisation_id, 15)  # 5 active
    add_policies(app, make_organisation(), 15, prefix="X")
    login(user)
    expected = csv_rows(http.get(f"/policyview/export/csv?{ARGS}"))  # under the threshold
    assert len(expected) == 6

    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX_ROWS", 3)
    response = http.get(f"/policyview/export/{fmt}?{ARGS}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/jobview/list/")
    job_id, document_id, status, params = _the_job(app)
    assert params["params"] == {
        "view": "PolicyView",
        "format": fmt,
        "args": [
            ["_flt_0_status", "active"],
            ["_oc_PolicyView", "number"],
            ["_od_PolicyView", "desc"],
        ],
    }
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/jobview/show/{job_id}"' in page  # the flash links to the job

    # Tests run Huey inline: the job already ran.
    assert status is JobStatus.succeeded and document_id is not None
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.organisation_id == organisation_id
        assert document.file_name.startswith("policies-") and document.file_name.endswith(fmt)
    download = http.get(f"/documentview/download/{document_id}")
    assert download.status_code == 200
    if fmt == "csv":
        assert download.get_data().startswith(b"\xef\xbb\xbf")
        text = download.get_data().decode("utf-8-sig")
        rows = [line.split(";") for line in text.splitlines()]
        assert rows == expected
    else:
        sheet = load_workbook(io.BytesIO(download.get_data())).worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0] == expected[0]
        assert [row[0] for row in rows[1:]] == [row[0] for row in expected[1:]]
        assert rows[1][7] == float(expected[1][7].replace(",", "."))

    with app.app_context():
        entry = (
            db.session.query(AuditLog)
            .filter_by(action="export")
            .order_by(AuditLog.id.desc())
            .first()
        )
        assert entry.object_type == "Policy"
        assert entry.changes["job_id"] == job_id and entry.changes["rows"] == 5


def test_job_keeps_the_organisation_scope_of_the_list(
    app, http, login, make_user, make_organisation, small_threshold
):
    user = make_user("MANAGER")
    add_policies(app, user_organisation(app, user), 4, prefix="OWN")
    other = make_organisation()
    add_policies(app, other, 4, prefix="OTHER")
    login(user)
    response = http.get(f"/policyview/export/csv?_flt_0_organisation_id={other}")
    assert response.status_code == 302
    _job_id, document_id, status, _params = _the_job(app)
    assert status is JobStatus.succeeded
    text = http.get(f"/documentview/download/{document_id}").get_data().decode("utf-8-sig")
    numbers = sorted(line.split(";")[0] for line in text.splitlines()[1:])
    assert numbers == [f"OWN-00{n}" for n in range(4)]


def test_audit_and_document_lists_also_turn_into_jobs(
    app, http, login, make_user, portfolio, small_threshold
):
    user = make_user("MANAGER")
    portfolio(user_organisation(app, user), "1")  # three audit rows, and more with the login
    login(user)
    response = http.get("/audit/export/xlsx?_oc_AuditLogView=action&_od_AuditLogView=asc")
    assert response.status_code == 302
    with app.app_context():
        job = db.session.query(Job).one()
        assert job.kind is JobKind.export and job.status is JobStatus.succeeded
        assert job.params["params"]["view"] == "AuditLogView"


def test_superadmin_beyond_the_threshold_is_asked_to_narrow_the_filters(
    app, http, login, make_user, make_organisation, small_threshold
):
    add_policies(app, make_organisation(), 4)
    login(make_user("SUPERADMIN"))
    response = http.get("/policyview/export/csv")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/policyview/list/")
    assert "alert-warning" in http.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Job).count() == 0


def test_superadmin_with_the_agency_filter_gets_a_job_for_that_agency(
    app, http, login, make_user, make_organisation, small_threshold
):
    chosen, other = make_organisation(), make_organisation()
    add_policies(app, chosen, 4, prefix="CHOSEN")
    add_policies(app, other, 4, prefix="OTHER")
    login(make_user("SUPERADMIN", other))
    response = http.get(f"/policyview/export/csv?_flt_0_organisation={chosen}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/jobview/list/")
    _job_id, document_id, status, _params = _the_job(app)
    assert status is JobStatus.succeeded
    with app.app_context():
        assert db.session.query(Job).one().organisation_id == chosen
        assert db.session.get(Document, document_id).organisation_id == chosen
    text = http.get(f"/documentview/download/{document_id}").get_data().decode("utf-8-sig")
    numbers = sorted(line.split(";")[0] for line in text.splitlines()[1:])
    assert numbers == [f"CHOSEN-00{n}" for n in range(4)]


def test_the_agency_filter_cannot_reach_another_agency(
    app, http, login, make_user, make_organisation
):
    user = make_user("MANAGER")
    add_policies(app, user_organisation(app, user), 2, prefix="OWN")
    other = make_organisation()
    add_policies(app, other, 2, prefix="OTHER")
    login(user)
    rows = csv_rows(http.get(f"/policyview/export/csv?_flt_0_organisation={other}"))
    assert len(rows) == 1  # the header alone


def test_export_producer_refuses_forged_parameters(app, make_user):
    from app.services.errors import InvalidRequestError
    from app.services.exports.jobs import check

    with app.test_request_context():
        for params in (
            {"view": "UserDBModelView", "format": "csv", "args": []},
            {"view": "PolicyView", "format": "pdf", "args": []},
            {"view": "PolicyView", "format": "csv", "args": "nope"},
            {"view": "PolicyView", "format": "csv", "args": [["_flt_7_status", "x"]]},
            {
                "view": "PolicyView",
                "format": "csv",
                "args": [["_oc_PolicyView", "x"], ["_od_PolicyView", "asc"]],
            },
        ):
            with pytest.raises(InvalidRequestError):
                check(db.session, None, 1, params)
