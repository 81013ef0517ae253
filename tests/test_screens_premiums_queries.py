"""The Comptabilité lists run a fixed number of SQL queries, whatever the number of rows
(no query per row for a notice's contract, client and insurer, nor a payment's client)."""

from __future__ import annotations

from app.extensions import db
from app.models import Payment, PaymentMethod, PremiumNotice
from app.services.renewals.contracts import agency_today
from tests.conftest import user_organisation
from tests.test_api_premiums import make_policy
from tests.test_screens_premiums import _issue
from tests.test_screens_queries import _queries_for

LISTS = ("/premiumnoticeview/list/", "/unpaidnoticeview/list/", "/paymentview/list/")


def _add_contracts(app, organisation_id: int, how_many: int, start: int) -> None:
    """Contracts each with its late first notice (in the work list) and a payment."""
    for n in range(start, start + how_many):
        policy_id = make_policy(app, organisation_id, f"Q-{n}", started_days_ago=20)
        _issue(app, organisation_id, policy_id, 0)
        with app.app_context():
            notice = db.session.query(PremiumNotice).filter_by(policy_id=policy_id).first()
            db.session.add(
                Payment(
                    organisation_id=organisation_id,
                    client_id=notice.policy.client_id,
                    amount=notice.total / 2,
                    received_on=agency_today(db.session, organisation_id),
                    method=PaymentMethod.transfer,
                )
            )
            db.session.commit()


def test_the_accounting_lists_do_not_grow_with_rows(app, http, make_user, login):
    user = make_user("MANAGER")
    organisation_id = user_organisation(app, user)
    login(user)
    _add_contracts(app, organisation_id, 2, 0)
    few = {path: _queries_for(app, http, path) for path in LISTS}
    _add_contracts(app, organisation_id, 12, 2)
    many = {path: _queries_for(app, http, path) for path in LISTS}
    assert many == few, (few, many)
