"""The Comptabilité › Commissions screens: a statement uploaded with its columns mapped and
previewed, imported, its lines filtered, matched and unmatched by hand and exported; a
remittance bordereau drafted, issued, paid and downloaded. Through the browser's door:
forms with their CSRF token, refusals flashed."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CommissionColumnMapping,
    CommissionStatement,
    CommissionStatementLine,
    ExpectedCommission,
    ExpectedStatus,
    LineResult,
    Remittance,
    RemittanceStatus,
)
from tests.test_commission_statements import PERIOD, make_book
from tests.test_remittances import _pdf_text, agency  # noqa: F401 (the remittances' fixture)
from tests.test_screens_support import csrf_token, flashes, page_text

UPLOAD = "/commissions/statements/upload"


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


def _organisation(app, manager) -> int:
    from tests.conftest import user_organisation

    return user_organisation(app, manager)


def _upload(http, company_id, data: bytes, name: str = "releve.csv", period: str = PERIOD):
    return http.post(
        UPLOAD,
        data={
            "insurer_id": str(company_id),
            "period": period,
            "file": (io.BytesIO(data), name),
            "csrf_token": csrf_token(http, UPLOAD),
        },
        content_type="multipart/form-data",
    )


def test_a_statement_mapped_previewed_imported_matched_and_exported_on_screen(
    app, http, login, manager
):
    book = make_book(app, _organisation(app, manager), 6)
    login(manager)
    # The insurer's own headers: nothing is recognised, the columns are mapped on the preview.
    lines = [(policy, commission) for policy, _notice, commission in book["lines"]]
    lines.pop(2)
    lines.append(("TYPO-000002", book["lines"][2][2]))
    lines[0] = (lines[0][0], lines[0][1] + Decimal("7.50"))
    body = ["Ref contrat;Mois;Base;Montant com"]
    body += [f"{p};11/2026;100,00;{str(c).replace('.', ',')}" for p, c in lines]
    uploaded = _upload(http, book["company"], ("\n".join(body) + "\n").encode())
    assert uploaded.status_code == 302, page_text(uploaded)[:300]
    preview_url = uploaded.headers["Location"]
    first = page_text(http.get(preview_url))
    assert 'id="statement-problem"' in first and "Ref contrat" in first
    mapped = (
        f"{preview_url}&map_policy_number=Ref+contrat&map_period=Mois"
        "&map_premium=Base&map_commission=Montant+com"
    )
    preview = http.get(mapped)
    text = page_text(preview)
    assert 'id="statement-problem"' not in text
    rows = re.search(r'id="statement-preview-rows">(.*?)</table>', text, re.S).group(1)
    assert rows.count("<tr>") == 1 + 6 and "TYPO-000002" in rows
    with app.app_context():
        assert db.session.scalar(select(CommissionStatement.id)) is None  # nothing written yet
    token = preview_url.split("/preview/")[1].split("?")[0]
    imported = http.post(
        f"/commissions/statements/preview/{token}/import",
        data={
            "insurer_id": str(book["company"]),
            "period": PERIOD,
            "map_policy_number": "Ref contrat",
            "map_period": "Mois",
            "map_premium": "Base",
            "map_commission": "Montant com",
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text)[1],
        },
        follow_redirects=True,
    )
    category, message = flashes(imported)[0]
    assert category == "success", flashes(imported)
    assert re.search(r"\b4\b.*\b1\b.*\b1\b.*\b1\b", message), message
    with app.app_context():
        statement_id = db.session.scalar(select(CommissionStatement.id))
        assert db.session.scalar(select(CommissionColumnMapping.columns))["commission"] == (
            "Montant com"
        )
    show = f"/commissions/statements/{statement_id}"
    # The same file again is refused, said on the screen.
    again = _upload(http, book["company"], ("\n".join(body) + "\n").encode())
    again_page = http.get(again.headers["Location"])
    token2 = again.headers["Location"].split("/preview/")[1].split("?")[0]
    refused = http.post(
        f"/commissions/statements/preview/{token2}/import",
        data={
            "insurer_id": str(book["company"]),
            "period": PERIOD,
            "csrf_token": re.search(
                r'name="csrf_token" type="hidden" value="([^"]+)"', page_text(again_page)
            )[1],
        },
        follow_redirects=True,
    )
    assert flashes(refused)[0][0] == "danger"
    # Lines filtered by result; the unknown one matched by hand to the missing expectation.
    unknown_page = page_text(http.get(f"{show}?result=unknown"))
    lines_table = re.search(r'id="statement-lines">(.*?)</table>', unknown_page, re.S).group(1)
    assert "TYPO-000002" in lines_table and lines_table.count('class="line-') == 1
    with app.app_context():
        unknown = db.session.scalar(
            select(CommissionStatementLine).where(
                CommissionStatementLine.result == LineResult.unknown
            )
        )
        missing = db.session.scalar(
            select(CommissionStatementLine).where(
                CommissionStatementLine.result == LineResult.missing
            )
        )
        unknown_id, target = unknown.id, missing.expected_commission_id
    matched = http.post(
        f"{show}/lines/{unknown_id}/match",
        data={"expected_commission_id": str(target), "csrf_token": csrf_token(http, show)},
        follow_redirects=True,
    )
    assert flashes(matched)[0][0] == "success", flashes(matched)
    with app.app_context():
        assert db.session.get(ExpectedCommission, target).status is ExpectedStatus.received
    unmatched = http.post(
        f"{show}/lines/{unknown_id}/unmatch",
        data={"csrf_token": csrf_token(http, show)},
        follow_redirects=True,
    )
    assert flashes(unmatched)[0][0] == "success"
    # A second unmatch is refused and said.
    twice = http.post(
        f"{show}/lines/{unknown_id}/unmatch",
        data={"csrf_token": csrf_token(http, show)},
        follow_redirects=True,
    )
    assert flashes(twice)[0][0] == "danger"
    # Without the CSRF token nothing happens.
    assert http.post(f"{show}/lines/{unknown_id}/unmatch").status_code == 400
    exported = http.get(f"{show}/export.xlsx?result=amount_differs")
    assert exported.status_code == 200
    sheet = list(load_workbook(io.BytesIO(exported.get_data()), read_only=True).active.values)
    assert len(sheet) == 2 and sheet[1][1] == lines[0][0]
    csv_text = http.get(f"{show}/export.csv").get_data().decode("utf-8-sig")
    assert "TYPO-000002" in csv_text


def test_another_agencys_statement_is_not_found(app, http, login, manager, make_user):
    book = make_book(app, _organisation(app, manager), 3)
    login(manager)
    body = "N° police;Période;Commission\n" + "".join(
        f"{p};11/2026;{c}\n" for p, _n, c in book["lines"]
    )
    uploaded = _upload(http, book["company"], body.encode())
    preview_url = uploaded.headers["Location"]
    # Another agency's manager can neither read the staged file nor name the insurer.
    other = app.test_client()
    from tests.conftest import login_screen

    login_screen(other, make_user("MANAGER"))
    assert other.get(preview_url, follow_redirects=False).status_code == 302
    assert _upload(other, book["company"], body.encode()).status_code == 302
    page = other.get(UPLOAD)
    assert f'value="{book["company"]}"' not in page.get_data(as_text=True)


def test_a_remittance_drafted_issued_paid_and_downloaded_on_screen(
    app,
    http,
    login,
    manager,
    agency,  # noqa: F811
):
    login(manager)
    new = "/commissions/remittances/new"
    empty = http.post(
        new,
        data={
            "insurer_id": str(agency["company"]),
            "period_from": "2026-06-01",
            "period_to": "2026-06-30",
            "csrf_token": csrf_token(http, new),
        },
        follow_redirects=True,
    )
    assert flashes(empty)[0][0] == "danger"
    created = http.post(
        new,
        data={
            "insurer_id": str(agency["company"]),
            "period_from": "2026-11-01",
            "period_to": "2026-11-30",
            "csrf_token": csrf_token(http, new),
        },
    )
    assert created.status_code == 302
    show = created.headers["Location"]
    with app.app_context():
        remittance = db.session.scalar(select(Remittance))
        number, remittance_id = remittance.number, remittance.id
    assert show.endswith(f"/commissions/remittances/{remittance_id}")
    page = page_text(http.get(show))
    assert number in page and page.count("<tr><td>") >= 2
    issued = http.post(
        f"{show}/issue", data={"csrf_token": csrf_token(http, show)}, follow_redirects=True
    )
    assert flashes(issued)[0][0] == "success"
    pdf = http.get(f"{show}/bordereau.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert number in _pdf_text(pdf.get_data())
    xlsx = http.get(f"{show}/bordereau.xlsx")
    cells = [c for row in load_workbook(io.BytesIO(xlsx.get_data())).active.values for c in row]
    assert number in cells
    transfer = http.get(f"{show}/bordereau.xml")
    assert transfer.status_code == 200 and b"pain.001.001.03" in transfer.get_data()
    paid = http.post(
        f"{show}/paid", data={"csrf_token": csrf_token(http, show)}, follow_redirects=True
    )
    assert flashes(paid)[0][0] == "success"
    with app.app_context():
        assert db.session.get(Remittance, remittance_id).status is RemittanceStatus.paid
    twice = http.post(
        f"{show}/issue", data={"csrf_token": csrf_token(http, new)}, follow_redirects=True
    )
    assert flashes(twice)[0][0] == "danger"
    assert "BE-" in page_text(http.get("/commissions/"))
