"""The demo agency as a new manager finds it: commission rules for its three insurers, and
the sample statement of a month (three planted differences) found as three differences."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from app.extensions import db
from app.models import CommissionRule, Company
from app.services import demo
from app.services.commissions import expected
from app.services.premiums import issuing


def test_the_demo_statement_shows_its_three_differences(
    app, http, make_user, auth_headers, tmp_path
):
    today = dt.date.today()
    with app.app_context():
        summary = demo.load_demo_data(db.session, today=today)
        organisation_id = summary.organisation_id
        codes = set(
            db.session.scalars(
                select(Company.code)
                .join(CommissionRule, CommissionRule.company_id == Company.id)
                .where(Company.organisation_id == organisation_id)
            )
        )
        assert codes == {"ATL", "MTV", "GAR"}
        issuing.issue_due(db.session, organisation_id=organisation_id, today=today)
        expected.refresh(db.session, organisation_id)
        db.session.commit()
        atl = db.session.scalar(select(Company.id).where(Company.code == "ATL"))
    month = f"{today:%Y-%m}"
    target = tmp_path / "releve.csv"
    result = app.test_cli_runner().invoke(
        args=["monassurance", "demo-statement", "--month", month, "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    manager = make_user("MANAGER", organisation_id)
    answer = http.post(
        "/api/v1/commission_statement/",
        data={
            "insurer_id": str(atl),
            "period": month,
            "file": (io.BytesIO(target.read_bytes()), "releve.csv"),
        },
        headers=auth_headers(manager),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    counts = answer.json["result"]["results"]
    assert (counts["amount_differs"], counts["missing"], counts["unknown"]) == (1, 1, 1)
    assert counts["matched"] >= 1


def test_the_comptabilite_menu_shows_commissions_to_managers_only(app, http, make_user, login):
    manager = make_user("MANAGER")
    login(manager)
    page = http.get("/commissions/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Comptabilité" in text and "Règles de commission" in text
    assert "Aucun bordereau importé pour l'instant." in text or "Aucun bordereau" in text
    http.get("/logout/")
    user = make_user("USER")
    login(user)
    assert http.get("/commissions/").status_code in (302, 403)
