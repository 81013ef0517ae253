"""The Impayés work list's two letters, generated from the screen and read back from their PDF.

The relance names the sum due, the notice and the first day a mise en demeure may leave
(the 11th after the due date, L113-3); the mise en demeure names the sum and the
suspension and cancellation dates — planned from today, then those its recorded sending
fixes (sent + 30 days, then + 10).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import Document, PremiumNotice
from app.services.renewals.unpaid import formal_notice_possible_on
from tests.test_avis_echeance import download, pdf_text
from tests.test_mise_en_demeure import french
from tests.test_screens_premiums import UNPAID
from tests.test_screens_premiums import agency as agency  # noqa: F401 (the fixture)
from tests.test_screens_support import csrf_token, flashes


def _letter(app, http, auth_headers, agency, action: str) -> str:
    """Run the work list's bulk ``action`` on the late notice; the text of the PDF made."""
    first = agency["notices"][0]
    with app.app_context():
        before = set(db.session.scalars(select(Document.id)))
    response = http.post(
        "/unpaidnoticeview/action_post",
        data={"action": action, "rowid": [str(first)], "csrf_token": csrf_token(http, UNPAID)},
        follow_redirects=True,
    )
    assert flashes(response)[0][0] == "success", flashes(response)
    with app.app_context():
        [document_id] = set(db.session.scalars(select(Document.id))) - before
    return pdf_text(download(http, auth_headers(agency["manager"]), document_id))


def _amount(text: str) -> str:
    return text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")


def test_the_relance_names_the_sum_and_when_a_formal_notice_may_leave(
    app, http, login, auth_headers, agency
):
    login(agency["manager"])
    with app.app_context():
        late = db.session.get(PremiumNotice, agency["notices"][0])
        number, due_on = late.number, late.due_on
    text = _letter(app, http, auth_headers, agency, "send_relances")
    assert "Relance : cotisation restant à régler" in text
    # Only the notice 20 days late is in arrears: 83,37 (the first carries the odd cents).
    compact = _amount(text)  # the PDF breaks lines inside numbers: "POL-A/ 1-01"
    assert "Sommerestantdue83,37€" in compact and number in compact
    assert french(formal_notice_possible_on(due_on)) in text
    assert "suspendues 30 jours après son envoi" in text and "L113-3" in text


def test_the_mise_en_demeure_names_the_sum_and_the_suspension_and_cancellation_dates(
    app, http, login, auth_headers, agency
):
    login(agency["manager"])
    today = agency["today"]
    text = _letter(app, http, auth_headers, agency, "formal_notice_letters")
    assert "Mise en demeure de payer votre cotisation" in text
    assert "83,37€" in _amount(text) and "POL-A/1-01" in _amount(text)
    # Not recorded yet: the dates it fixes if it leaves today.
    assert french(today + dt.timedelta(days=30)) in text
    assert french(today + dt.timedelta(days=40)) in text

    # Recorded sent two days ago from the notice's page: the letter states its dates.
    first = agency["notices"][0]
    sent_on = today - dt.timedelta(days=2)
    page = f"/premiumnoticeview/formal-notice/{first}"
    recorded = http.post(
        page,
        data={
            "sent_on": sent_on.isoformat(),
            "registered_letter_number": "1A 987 654 3210 9",
            "csrf_token": csrf_token(http, page),
        },
        follow_redirects=True,
    )
    assert flashes(recorded)[0][0] == "success", flashes(recorded)
    text = _letter(app, http, auth_headers, agency, "formal_notice_letters")
    assert "1A 987 654 3210 9" in text
    assert french(sent_on + dt.timedelta(days=30)) in text
    assert french(sent_on + dt.timedelta(days=40)) in text
