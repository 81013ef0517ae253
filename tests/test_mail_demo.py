"""The issue's "done when", tried as a new user would on the demo: the manager e-mails the
avis of the contracts due in 30 days in one action from the Échéances list, sees them in the
Boîte d'envoi, a real SMTP server (aiosmtpd, as MAIL_URL would point at) receives each once
with its PDF, and each contract's history shows its message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import Message, MessageStatus, Policy, RenewalCycle, RenewalStatus
from tests.conftest import csrf_token
from tests.mail_support import SmtpServer, smtp_for


def test_the_demo_manager_e_mails_the_avis_due_in_30_days_and_each_contract_shows_it(
    app, http, make_user, login
):
    from app.services import demo

    with app.app_context():
        organisation_id = demo.load_demo_data(db.session).organisation_id
        today = dt.date.today()
        due = db.session.execute(
            select(RenewalCycle.id, RenewalCycle.policy_id).where(
                RenewalCycle.organisation_id == organisation_id,
                RenewalCycle.status == RenewalStatus.open,
                RenewalCycle.echeance.between(today, today + dt.timedelta(days=30)),
            )
        ).all()
        numbers = dict(db.session.execute(select(Policy.id, Policy.number)).all())
    assert due, "the demo has contracts due within 30 days"
    manager = make_user("MANAGER", organisation_id)
    login(manager)
    server = SmtpServer()
    server.start()
    try:
        with smtp_for(app, server):
            page = http.post(
                "/renewals/action_post",
                data={
                    "action": "email_avis",
                    "rowid": [str(cycle_id) for cycle_id, _policy in due],
                    "csrf_token": csrf_token(http, f"/outbox/compose/policy/{due[0][1]}"),
                },
                follow_redirects=True,
            )
    finally:
        server.stop()
    assert page.status_code == 200
    with app.app_context():
        messages = db.session.scalars(
            select(Message).where(Message.organisation_id == organisation_id)
        ).all()
        by_cycle = {message.renewal_cycle_id: message for message in messages}
        # One message per contract whose client has an address (the demo's all have one).
        assert set(by_cycle) == {cycle_id for cycle_id, _policy in due}
        assert all(m.status is MessageStatus.sent for m in messages), [m.error for m in messages]
        sent_ids = {m.message_id for m in messages}
    # A long Message-ID is folded onto its own header line: compare the ids themselves.
    received = {key.strip(): message for key, message in server.recorder.unique().items()}
    assert set(received) == sent_ids and len(server.recorder.received) == len(sent_ids)
    for message in received.values():
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content().startswith(b"%PDF")
    outbox = http.get("/outbox/list/").get_data(as_text=True)
    for _cycle, policy_id in due[:5]:
        assert numbers[policy_id] in outbox
        history = http.get(f"/history/policy/{policy_id}").get_data(as_text=True)
        assert "E-mail envoyé" in history
