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


def test_done_when_a_new_manager_reconciles_the_demo_statement_and_remits_last_month(
    app, http, make_user, login
):
    """The issue's walk, through the screens: rules for the three insurers; the demo
    statement uploaded shows its three differences and the rest matched, exported; last
    month's bordereau issued, its PDF and transfer file downloaded."""
    import re
    from pathlib import Path

    import xmlschema
    from openpyxl import load_workbook

    from app.models import CommissionStatement, Remittance
    from tests.test_remittances import _pdf_text
    from tests.test_screens_support import csrf_token, flashes, page_text

    today = dt.date.today()
    with app.app_context():
        organisation_id = demo.load_demo_data(db.session, today=today).organisation_id
        atl = db.session.scalar(
            select(Company.id).where(
                Company.organisation_id == organisation_id, Company.code == "ATL"
            )
        )
    login(make_user("MANAGER", organisation_id))
    overview = page_text(http.get("/commissions/"))
    rules = re.search(r'id="commission-rules">(.*?)</table>', overview, re.S).group(1)
    for name in ("Atlantique Assurances", "Mutuelle des Trois Vallées", "Garonne Prévoyance"):
        assert name in rules
    upload = "/commissions/statements/upload"
    assert 'id="statement-sample"' in page_text(http.get(upload))
    month = f"{today:%Y-%m}"
    sample = http.get(f"/commissions/statements/sample.csv?insurer_id={atl}&period={month}")
    assert sample.status_code == 200, page_text(sample)[:300]
    uploaded = http.post(
        upload,
        data={
            "insurer_id": str(atl),
            "period": month,
            "file": (io.BytesIO(sample.get_data()), "releve.csv"),
            "csrf_token": csrf_token(http, upload),
        },
        content_type="multipart/form-data",
    )
    preview_url = uploaded.headers["Location"]
    preview = page_text(http.get(preview_url))
    assert 'id="statement-problem"' not in preview  # the French headers are recognised
    token = preview_url.split("/preview/")[1].split("?")[0]
    hidden = dict(re.findall(r'<input type="hidden" name="(map_\w+)" value="([^"]*)">', preview))
    imported = http.post(
        f"/commissions/statements/preview/{token}/import",
        data={
            "insurer_id": str(atl),
            "period": month,
            **hidden,
            "csrf_token": csrf_token(http, preview_url),
        },
        follow_redirects=True,
    )
    assert flashes(imported)[0][0] == "success", flashes(imported)
    with app.app_context():
        statement_id = db.session.scalar(
            select(CommissionStatement.id).where(CommissionStatement.company_id == atl)
        )
        shipped = db.session.scalar(
            select(CommissionStatement.id).where(CommissionStatement.company_id != atl)
        )
    assert shipped is not None  # the demo shows a reconciled statement of another insurer
    show = page_text(http.get(f"/commissions/statements/{statement_id}"))
    counts = dict(re.findall(r'id="count-(\w+)">(\d+)<', show))
    assert (counts["amount_differs"], counts["missing"], counts["unknown"]) == ("1", "1", "1")
    assert int(counts["matched"]) >= 1
    exported = http.get(f"/commissions/statements/{statement_id}/export.xlsx")
    rows = list(load_workbook(io.BytesIO(exported.get_data()), read_only=True).active.values)
    results = [row[8] for row in rows[1:]]
    assert (
        len(results) - results.count("Rapprochée") == 3
        or len(results) - results.count("Matched") == 3
    )
    # Last month's bordereau, drafted at load: found on the overview, issued, downloaded.
    with app.app_context():
        draft = db.session.scalar(select(Remittance))
        last = today.replace(day=1) - dt.timedelta(days=1)
        assert draft.company_id == atl and draft.status.value == "draft"
        assert (draft.period_from, draft.period_to) == (last.replace(day=1), last)
        draft_id = draft.id
    overview = page_text(http.get("/commissions/"))
    assert f"/commissions/remittances/{draft_id}" in overview
    # Drafting it again finds nothing left to remit: said on the form.
    new = "/commissions/remittances/new"
    again = http.post(
        new,
        data={
            "insurer_id": str(atl),
            "period_from": last.replace(day=1).isoformat(),
            "period_to": last.isoformat(),
            "csrf_token": csrf_token(http, new),
        },
        follow_redirects=True,
    )
    assert flashes(again)[0][0] == "danger"
    remittance_url = f"/commissions/remittances/{draft_id}"
    issued = http.post(
        f"{remittance_url}/issue",
        data={"csrf_token": csrf_token(http, remittance_url)},
        follow_redirects=True,
    )
    assert flashes(issued)[0][0] == "success"
    with app.app_context():
        remittance = db.session.get(Remittance, draft_id)
        number, lines = remittance.number, len(remittance.lines)
    assert lines >= 3
    pdf = http.get(f"{remittance_url}/bordereau.pdf")
    assert pdf.status_code == 200 and number in _pdf_text(pdf.get_data())
    transfer = http.get(f"{remittance_url}/bordereau.xml")
    assert transfer.status_code == 200, flashes(http.get(remittance_url))
    xsd = Path(__file__).parent / "data" / "pain.001.001.03.xsd"
    xmlschema.XMLSchema(str(xsd)).validate(io.BytesIO(transfer.get_data()))
