"""The reminder letter (avis de prélèvement / rappel d'échéance) from the Impayés work list.

For agencies that remind by letter: the notices due within the agency's reminder days get
a printed reminder, one per contract, naming the sum and the due date; it sets the shared
"told" mark, so the client is told once per moment — the letter is not printed twice, and
the daily e-mail run finds the notice already told.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Client,
    Document,
    Job,
    Mandate,
    Organisation,
    Policy,
    PremiumNotice,
    ReminderChannel,
    UnpaidStage,
)
from app.services.mail import reminders
from tests.test_avis_echeance import download, pdf_text
from tests.test_mise_en_demeure import french
from tests.test_screens_premiums import UNPAID
from tests.test_screens_premiums import agency as agency  # noqa: F401 (the fixture)
from tests.test_screens_support import csrf_token, flashes


def _channel(app, org: int, channel: ReminderChannel) -> None:
    with app.app_context():
        db.session.get(Organisation, org).reminder_channel = channel
        db.session.commit()


def _send(http, notice_id: int):
    return http.post(
        "/unpaidnoticeview/action_post",
        data={
            "action": "send_reminder_letters",
            "rowid": [str(notice_id)],
            "csrf_token": csrf_token(http, UNPAID),
        },
        follow_redirects=True,
    )


def _letter_text(app, http, auth_headers, agency) -> str:
    """The text of the reminder letter the last job made."""
    with app.app_context():
        job_id = db.session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))
        [document_id] = db.session.scalars(select(Document.id).where(Document.job_id == job_id))
    return pdf_text(download(http, auth_headers(agency["manager"]), document_id))


def _jobs(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Job))


def test_the_reminder_letter_names_the_notice_due_soon_and_marks_it_told(
    app, http, login, auth_headers, agency
):
    _channel(app, agency["org"], ReminderChannel.letter)
    soon = agency["notices"][1]  # due in ten days: within the 15 reminder days
    with app.app_context():
        notice = db.session.get(PremiumNotice, soon)
        assert notice.stage is UnpaidStage.reminder_due and notice.reminded_on is None
        number, due_on = notice.number, notice.due_on
    login(agency["manager"])
    response = _send(http, soon)
    assert flashes(response)[0][0] == "success", flashes(response)
    with app.app_context():
        job = db.session.scalars(select(Job)).one()
        assert db.session.get(PremiumNotice, soon).reminded_on == agency["today"]
    with app.app_context():
        [document_id] = db.session.scalars(select(Document.id).where(Document.job_id == job.id))
    text = pdf_text(download(http, auth_headers(agency["manager"]), document_id))
    compact = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    assert "Rappel d'échéance" in text or "Rappel d’échéance" in text
    assert "Montantàrégler83,33€" in compact and number in compact
    assert french(due_on) in text
    # The late notice is the relance's, not on this letter.
    assert "83,37" not in compact

    # Told once: a second letter for the same notice is refused, nothing queued.
    again = _send(http, soon)
    assert flashes(again)[0] == ("danger", "Ces clients ont déjà été prévenus de ces échéances.")
    assert _jobs(app) == 1


def test_the_daily_email_finds_the_client_told_by_the_letter(app, http, login, agency):
    soon = agency["notices"][1]
    with app.app_context():
        policy = db.session.get(PremiumNotice, soon).policy
        db.session.get(Client, policy.client_id).email = "jeanne@example.org"
        db.session.commit()
        # Before the letter, the e-mail run would remind this client.
        assert (
            reminders.send_due(db.session, agency["org"], agency["today"], dry_run=True).reminders
            == 1
        )
    login(agency["manager"])
    assert flashes(_send(http, soon))[0][0] == "success"
    with app.app_context():
        run = reminders.send_due(db.session, agency["org"], agency["today"], dry_run=True)
        assert run.reminders == 0


def test_a_late_or_far_notice_gets_no_reminder_letter(app, http, login, agency):
    late, _soon, far = agency["notices"][:3]
    login(agency["manager"])
    category, text = flashes(_send(http, late))[0]
    assert category == "danger" and "rappel à envoyer" in text, text
    # Due in 40 days: not in the work list yet, so not selectable from it.
    assert flashes(_send(http, far))[0] == ("warning", "Aucune quittance sélectionnée.")
    assert _jobs(app) == 0
    with app.app_context():
        assert all(
            db.session.get(PremiumNotice, notice_id).reminded_on is None
            for notice_id in (late, far)
        )


def test_a_user_cannot_send_reminder_letters(app, http, login, agency):
    login(agency["user"])
    response = _send(http, agency["notices"][1])
    assert flashes(response)[0][0] == "danger"
    assert _jobs(app) == 0


def test_a_contract_debited_by_mandate_gets_an_avis_de_prelevement(
    app, http, login, auth_headers, agency
):
    _channel(app, agency["org"], ReminderChannel.letter)
    soon = agency["notices"][1]
    with app.app_context():
        policy = db.session.get(Policy, agency["policy"])
        mandate = Mandate(
            organisation_id=agency["org"],
            client_id=policy.client_id,
            reference="RUM-REMIND-1",
            iban="FR7630006000011234567890189",
            debtor_name="Jeanne Martin",
            signed_on=agency["today"] - dt.timedelta(days=60),
        )
        db.session.add(mandate)
        db.session.flush()
        policy.mandate_id = mandate.id
        db.session.commit()
    login(agency["manager"])
    assert flashes(_send(http, soon))[0][0] == "success"
    text = _letter_text(app, http, auth_headers, agency)
    compact = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    assert "Avis de prélèvement" in text and "RUM-REMIND-1" in compact
    assert "seraprélevéesurvotrecompte" in compact and "Montantàrégler83,33€" in compact
    # The IBAN is not printed (it is masked everywhere; the RUM names the mandate).
    assert "FR7630006000011234567890189" not in compact
