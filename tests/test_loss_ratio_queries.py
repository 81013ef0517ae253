"""The loss ratio reads each side once (indemnities paid, premiums due, summed per insurer
and line) and adds the cells up per insurer and per line: the figures are those of the
rows themselves, in two statements whatever the number of insurers and lines."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import LineOfBusiness, Policy, PremiumNotice
from app.services.claims import lifecycle, settlements
from app.services.claims.loss_ratio import COUNTED_NOTICES, loss_ratio
from app.services.renewals.contracts import agency_today
from tests.conftest import user_organisation
from tests.test_api_premiums import make_policy
from tests.test_screens_premiums import _issue
from tests.test_screens_support import counted_queries


def _pay(app, policy_id: int, *amounts: tuple[str, str]) -> None:
    with app.app_context():
        session = db.session
        policy = session.get(Policy, policy_id)
        today = agency_today(session, policy.organisation_id)
        claim = lifecycle.record_claim(
            session, policy, today=today, nature="water_damage", occurred_on=today
        )
        session.flush()
        for kind, amount in amounts:
            settlements.record_settlement(
                session, claim, today=today, kind=kind, amount=amount, paid_on=today
            )
        session.commit()


def _book(app, org: int, prefix: str) -> list[int]:
    """Four contracts: insurers X and Y, each with an auto and a home contract."""
    ids = [make_policy(app, org, f"{prefix}-{n}", started_days_ago=5) for n in range(4)]
    with app.app_context():
        policies = [db.session.get(Policy, policy_id) for policy_id in ids]
        # Two insurers of two lines each: every cell of (insurer, line) holds one contract.
        policies[1].company_id = policies[0].company_id
        policies[3].company_id = policies[2].company_id
        policies[1].line_of_business = LineOfBusiness.home
        policies[3].line_of_business = LineOfBusiness.home
        db.session.commit()
    for policy_id in ids:
        _issue(app, org, policy_id, 200)
    return ids


def _expected(app, ids, start, end, paid_by_policy):
    """Per insurer and per line, read from the rows one by one."""
    paid, premiums = defaultdict(Decimal), defaultdict(Decimal)
    with app.app_context():
        for policy_id in ids:
            policy = db.session.get(Policy, policy_id)
            notices = db.session.scalars(
                select(PremiumNotice.total).where(
                    PremiumNotice.policy_id == policy_id,
                    PremiumNotice.status.in_(COUNTED_NOTICES),
                    PremiumNotice.due_on.between(start, end),
                )
            ).all()
            for key in ((policy.company_id, policy.company.name), policy.line_of_business.value):
                paid[key] += paid_by_policy.get(policy_id, Decimal("0"))
                premiums[key] += sum(notices, Decimal("0"))
    return paid, premiums


def test_the_loss_ratio_sums_each_cell_once_and_adds_them_up_per_insurer_and_line(app, make_user):
    org = user_organisation(app, make_user("MANAGER"))
    ids = _book(app, org, "LRQ")
    _pay(app, ids[0], ("indemnity_client", "300.10"), ("insurer_recourse", "50.00"))
    _pay(app, ids[1], ("indemnity_third_party", "120.45"))
    _pay(app, ids[3], ("indemnity_client", "80.00"), ("indemnity_client", "19.99"))
    other = user_organisation(app, make_user("MANAGER"))
    [foreign] = _book(app, other, "LRQO")[:1]
    _pay(app, foreign, ("indemnity_client", "9999.00"))  # another agency's: never counted
    with app.app_context():
        today = agency_today(db.session, org)
    start, end = today - dt.timedelta(days=30), today + dt.timedelta(days=200)
    paid_by_policy = {
        ids[0]: Decimal("300.10"),  # the recourse is not an indemnity
        ids[1]: Decimal("120.45"),
        ids[3]: Decimal("99.99"),
    }
    paid, premiums = _expected(app, ids, start, end, paid_by_policy)

    with app.app_context(), counted_queries(app) as statements:
        figures = loss_ratio(db.session, org, start, end)
    # One aggregate per side, not one per side and grouping.
    assert len([s for s in statements if "sum(" in s.lower()]) == len(statements) == 2

    insurers = {(row["key"], row["name"]): row for row in figures["by_insurer"]}
    lines = {row["key"]: row for row in figures["by_line"]}
    assert len(insurers) == 2 and set(lines) == {"auto", "home"}
    for key, row in [*insurers.items(), *lines.items()]:
        assert Decimal(row["paid"]) == paid[key].quantize(Decimal("0.01"))
        assert Decimal(row["premiums"]) == premiums[key].quantize(Decimal("0.01")) > 0
        ratio = (paid[key] / premiums[key] * 100).quantize(Decimal("0.1"))
        assert row["ratio_percent"] == str(ratio)
    assert Decimal(figures["total"]["paid"]) == Decimal("520.54")
    assert figures["total"]["premiums"] == str(sum(premiums[k] for k in ("auto", "home")))
    # Sorted by name, as before: the insurers' names, the lines' codes.
    assert [row["name"] for row in figures["by_line"]] == ["auto", "home"]

    # One insurer chosen: its two contracts only, in both groupings.
    with app.app_context():
        company_id = db.session.get(Policy, ids[2]).company_id
        chosen = loss_ratio(db.session, org, start, end, company_id=company_id)
    assert [row["key"] for row in chosen["by_insurer"]] == [company_id]
    assert chosen["by_line"][1]["paid"] == "99.99" and chosen["by_line"][0]["paid"] == "0.00"
    assert Decimal(chosen["total"]["paid"]) == Decimal("99.99")
