"""The dashboard's loss ratio card: indemnities paid over the premiums falling due, per
insurer and per line; it moves when a settlement is recorded, follows the insurer filter,
and shows another agency's claims to no one."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Policy
from app.services.claims import lifecycle, settlements
from app.services.renewals.contracts import agency_today
from tests.conftest import user_organisation
from tests.test_api_premiums import make_policy
from tests.test_screens_premiums import _issue
from tests.test_screens_support import page_text


def _card(http, query: str = "") -> str:
    page = page_text(http.get(f"/dashboard/{query}"))
    match = re.search(r'id="card-loss-ratio".*?(?=class="panel panel-default"|\Z)', page, re.S)
    assert match, "no loss ratio card"
    return match.group(0)


def _indemnify(app, policy_id: int, amount: str) -> None:
    with app.app_context():
        session = db.session
        policy = session.get(Policy, policy_id)
        today = agency_today(session, policy.organisation_id)
        claim = lifecycle.record_claim(
            session, policy, today=today, nature="water_damage", occurred_on=today
        )
        session.flush()
        settlements.record_settlement(
            session, claim, today=today, kind="indemnity_client", amount=amount, paid_on=today
        )
        session.commit()


def test_the_loss_ratio_moves_when_an_indemnity_is_paid(app, http, login, make_user):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    policy_id = make_policy(app, org, "LR-1", started_days_ago=5)
    _issue(app, org, policy_id, 20)
    second = make_policy(app, org, "LR-4", started_days_ago=5)
    _issue(app, org, second, 20)
    other_org = user_organisation(app, make_user("MANAGER"))
    other_policy = make_policy(app, other_org, "LR-2", started_days_ago=5)
    _issue(app, other_org, other_policy, 20)
    _indemnify(app, other_policy, "9999.00")  # another agency's: never on this dashboard
    login(manager)
    before = _card(http)
    assert "Assureur LR-1" in before and "0\xa0%" in before
    assert "9\u202f999,00" not in before
    _indemnify(app, policy_id, "250.00")
    after = _card(http)
    assert "250,00\xa0€" in after
    total = re.search(r'class="loss-ratio-total">([^<]+)<', after).group(1)
    assert total != "0\xa0%" and total.endswith("%")
    with app.app_context():
        company_id = db.session.get(Policy, second).company_id
    # The other insurer chosen: this contract's claims and premiums are not counted.
    chosen = _card(http, f"?company_id={company_id}")
    assert "Assureur LR-4" in chosen and "Assureur LR-1" not in chosen
    assert "250,00\xa0€" not in chosen


def test_the_loss_ratio_of_a_line_is_named_in_french(app, http, login, make_user):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    policy_id = make_policy(app, org, "LR-3", started_days_ago=5)
    _issue(app, org, policy_id, 20)
    _indemnify(app, policy_id, "100.00")
    login(manager)
    card = _card(http)
    assert 'id="table-loss-ratio-lines"' in card and "Auto" in card
