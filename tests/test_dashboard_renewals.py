"""The dashboard's Échéances: renewals due per month by decision, and retention per insurer.

Every number is checked against a count made by hand from the rows below; another
agency's cycles and contracts are there to be left out.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Policy, PolicyStatus, RenewalCycle, RenewalDecision, RenewalStatus
from app.services.dashboard import Scope, renewals_due_per_month, retention_per_insurer
from app.services.dashboard.renewals import (
    NOT_RENEW,
    OUTCOMES,
    REMARKET,
    RENEW,
    UNDECIDED,
    due_window,
)
from app.services.renewals import cycles
from app.services.renewals.rules import add_months
from tests.dashboard_support import TODAY, Agency, column_values, segment_values, svg, text_of
from tests.test_dashboard_queries import dashboard_queries

COLOURS = {RENEW: "#5cb85c", REMARKET: "#f0ad4e", NOT_RENEW: "#d9534f", UNDECIDED: "#aaaaaa"}
FIRST = TODAY.replace(day=1)
MONTHS = [add_months(FIRST, offset) for offset in range(12)]
FAR = TODAY + dt.timedelta(days=500)  # beyond both windows: the contract's own échéance


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def month_index(when: dt.date) -> int:
    return MONTHS.index(when.replace(day=1))


def policy_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Policy.id).where(Policy.number == number))


def cycle_of(number: str) -> RenewalCycle:
    """The open cycle the policy got at once (its échéance is within the lead time)."""
    policy = db.session.scalars(select(Policy).where(Policy.number == number)).one()
    return next(c for c in policy.renewal_cycles if c.echeance == policy.expiry_date)


def past_cycle(app, agency: Agency, company_id: int, echeance: dt.date, **state) -> None:
    """A cycle of an échéance already gone, on a contract that runs on (next échéance FAR)."""
    number = agency.policy(
        company_id, expiry=FAR, status=state.pop("policy_status", None) or PolicyStatus.active
    )
    with app.app_context():
        db.session.add(
            RenewalCycle(
                organisation_id=agency.organisation_id,
                policy_id=db.session.scalar(select(Policy.id).where(Policy.number == number)),
                echeance=echeance,
                last_day_to_refuse=echeance - dt.timedelta(days=60),
                previous_premium=Decimal("100.00"),
                status=state.get("status", RenewalStatus.open),
                decision=state.get("decision"),
            )
        )
        db.session.commit()


@pytest.fixture
def book(app, make_organisation):
    """Agency A (AXA, MMA) with every kind of échéance; agency B (Generali) alongside."""
    a, b = Agency(app, make_organisation("Cabinet A")), Agency(app, make_organisation("Cabinet B"))
    axa, mma, generali = a.insurer("AXA <France>"), a.insurer("MMA"), b.insurer("Generali")
    due: list[tuple[dt.date, str, str]] = []  # (échéance, outcome, insurer): the hand count

    # Within the lead time: each contract gets its cycle at once, then a decision.
    a.policy(axa, expiry=day(20))  # stays undecided
    remarket = a.policy(axa, expiry=day(25))
    not_renew = a.policy(mma, expiry=day(30))
    renewed = a.policy(mma, expiry=day(35))
    to_renew = a.policy(axa, expiry=day(50))
    moved = a.policy(axa, expiry=day(40))
    cancelled = a.policy(mma, expiry=day(45))
    with app.app_context():
        cycles.propose(cycle_of(remarket), decision=RenewalDecision.remarket)
        cycles.propose(cycle_of(not_renew), decision=RenewalDecision.not_renew)
        cycles.renew(cycle_of(renewed))  # its next échéance is a year on: outside the window
        cycles.propose(cycle_of(to_renew), decision=RenewalDecision.renew)
        moving = db.session.scalars(select(Policy).where(Policy.number == moved)).one()
        moving.expiry_date = day(250)  # the open cycle of day 40 is closed: no renewal
        ending = db.session.scalars(select(Policy).where(Policy.number == cancelled)).one()
        ending.status = PolicyStatus.cancelled  # its cycle closes: not renewed
        db.session.commit()
    due += [
        (day(20), UNDECIDED, "AXA"),
        (day(25), REMARKET, "AXA"),
        (day(30), NOT_RENEW, "MMA"),
        (day(35), RENEW, "MMA"),
        (day(50), RENEW, "AXA"),
        (day(250), UNDECIDED, "AXA"),  # the moved contract, counted at its new échéance
        (day(45), NOT_RENEW, "MMA"),
    ]
    # Beyond the lead time: no cycle yet, the contract's échéance counts, undecided.
    a.policy(axa, expiry=day(200))
    a.policy(mma, expiry=day(300))
    due += [(day(200), UNDECIDED, "AXA"), (day(300), UNDECIDED, "MMA")]
    # Not renewals: a contract not in force, one ending beyond the 12 months.
    a.policy(axa, expiry=day(210), status=PolicyStatus.draft)
    a.policy(axa, expiry=add_months(FIRST, 12) + dt.timedelta(days=3))
    with app.app_context():
        not_tacit = db.session.scalars(
            select(Policy).where(Policy.number == a.policy(axa, expiry=day(220)))
        ).one()
        not_tacit.tacit_renewal = False
        db.session.commit()

    # The last 12 months: AXA 3 renewed of 5 (one still open), MMA 1 of 2.
    for offset in (40, 100, 300):
        past_cycle(
            app, a, axa, day(-offset), status=RenewalStatus.renewed, decision=RenewalDecision.renew
        )
    past_cycle(
        app, a, axa, day(-60), status=RenewalStatus.closed, decision=RenewalDecision.not_renew
    )
    past_cycle(app, a, axa, day(-70))  # still open after its échéance
    past_cycle(app, a, axa, day(-80), status=RenewalStatus.closed)  # moved: left out
    past_cycle(app, a, axa, day(-400), status=RenewalStatus.renewed)  # too old
    past_cycle(app, a, mma, day(-50), status=RenewalStatus.renewed, decision=RenewalDecision.renew)
    past_cycle(
        app, a, mma, day(-90), status=RenewalStatus.closed, policy_status=PolicyStatus.cancelled
    )  # the contract ended at its échéance: lost

    # Agency B: a cycle and a contract due, renewals in the past: never counted for A.
    b.policy(generali, expiry=day(20))
    b.policy(generali, expiry=day(200))
    past_cycle(app, b, generali, day(-40), status=RenewalStatus.renewed)
    return {"a": a, "b": b, "axa": axa, "mma": mma, "generali": generali, "due": due}


def expected(
    due: list[tuple[dt.date, str, str]], insurer: str | None = None
) -> dict[str, list[int]]:
    counts = Counter(
        (month_index(when), outcome) for when, outcome, name in due if insurer in (None, name)
    )
    return {outcome: [counts[(m, outcome)] for m in range(12)] for outcome in OUTCOMES}


def scope_of(organisation_id: int | None, company_id: int | None = None) -> Scope:
    return Scope(organisation_id, company_id, FIRST, TODAY, TODAY, db.engine.dialect.name)


def test_due_per_month_equals_the_hand_count(app, book):
    with app.app_context():
        result = renewals_due_per_month(db.session, scope_of(book["a"].organisation_id))
    assert result.months == MONTHS
    assert result.by_outcome == expected(book["due"])
    assert result.total() == len(book["due"]) == 9


def test_one_insurer_counts_its_own_contracts_only(app, book):
    with app.app_context():
        result = renewals_due_per_month(
            db.session, scope_of(book["a"].organisation_id, book["mma"])
        )
    assert result.by_outcome == expected(book["due"], "MMA")


def test_retention_is_renewed_over_due_per_insurer(app, book):
    with app.app_context():
        result = retention_per_insurer(db.session, scope_of(book["a"].organisation_id))
    rows = {(row.name, row.due, row.renewed, row.pending, row.lost) for row in result.insurers}
    assert rows == {("AXA <France>", 5, 3, 1, 1), ("MMA", 2, 1, 0, 1)}
    assert [row.rate for row in result.insurers] == [Decimal("60.0"), Decimal("50.0")]
    assert (result.first_day, result.last_day) == (add_months(TODAY, -12) + dt.timedelta(1), TODAY)


def test_every_agency_for_the_platform_operator(app, book):
    with app.app_context():
        due = renewals_due_per_month(db.session, scope_of(None))
        retention = retention_per_insurer(db.session, scope_of(None))
    assert due.total() == 9 + 2
    assert {row.name: row.rate for row in retention.insurers}["Generali"] == Decimal("100.0")


def test_manager_sees_the_charts_of_their_agency(app, http, login, make_user, book):
    login(make_user("MANAGER", book["a"].organisation_id))
    page = http.get("/dashboard/").get_data(as_text=True)
    hand = expected(book["due"])
    totals = [sum(hand[outcome][m] for outcome in OUTCOMES) for m in range(12)]
    assert column_values(page, "chart-renewals") == totals
    for outcome, colour in COLOURS.items():
        assert segment_values(page, "chart-renewals", colour) == sum(hand[outcome])
    assert text_of(page, "renewals-due") == "9"
    assert retention_bars(page) == {
        "AXA <France>": (Decimal("60.0"), "60 % (3 / 5)"),
        "MMA": (Decimal("50.0"), "50 % (1 / 2)"),
    }
    assert plain(text_of(page, "retention-overall")) == "57,1 % (4 / 7)"
    assert "Generali" not in page
    # French labels: the legend, the card titles, the data table.
    words = (
        "Renouvelés ou à renouveler",
        "À remettre en concurrence",
        "Non renouvelés",
        "Sans décision",
        "Échéances : renouvellements par mois",
        "Taux de rétention par assureur",
        "Encore ouverts",
    )
    text = html.unescape(page)
    assert [w for w in words if w not in text] == []


def test_superadmin_agency_filter_leaves_the_other_agency_out(app, http, login, make_user, book):
    login(make_user("SUPERADMIN", book["a"].organisation_id))
    every = http.get("/dashboard/").get_data(as_text=True)
    assert text_of(every, "renewals-due") == "11"
    assert "Generali" in svg(every, "chart-retention")
    chosen = http.get(f"/dashboard/?organisation_id={book['b'].organisation_id}").get_data(
        as_text=True
    )
    assert text_of(chosen, "renewals-due") == "2"
    assert set(retention_bars(chosen)) == {"Generali"}


def test_manager_cannot_count_another_agencys_cycles(app, http, login, make_user, book):
    login(make_user("MANAGER", book["a"].organisation_id))
    other = book["b"].organisation_id
    page = http.get(f"/dashboard/?organisation_id={other}&company_id={book['generali']}")
    text = page.get_data(as_text=True)
    assert text_of(text, "renewals-due") == "9"  # refused filters: their own agency, every insurer
    assert "Generali" not in text


def test_charts_draw_under_the_content_security_policy(app, http, login, make_user, book):
    login(make_user("MANAGER", book["a"].organisation_id))
    response = http.get("/dashboard/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    page = response.get_data(as_text=True)
    for chart_id in ("chart-renewals", "chart-retention"):
        chart = svg(page, chart_id)
        # Inline SVG with presentation attributes: nothing the policy would block.
        assert not re.search(r"<script|\son\w+=|style=|href=\"(?:https?:)?//|<foreignObject", chart)
        assert re.search(r"<rect [^>]*height=\"[1-9]", chart)
    legend = re.search(
        r'<p class="small dashboard-legend" id="legend-renewals">(.*?)</p>', page, re.S
    )
    assert legend and "style=" not in legend.group(1) and legend.group(1).count("<rect") == 4


def test_an_agency_without_renewals_shows_empty_charts(
    app, http, login, make_user, make_organisation
):
    login(make_user("MANAGER", make_organisation("Cabinet vide")))
    page = http.get("/dashboard/").get_data(as_text=True)
    assert text_of(page, "renewals-due") == "0"
    assert column_values(page, "chart-renewals") == [0] * 12
    assert "Aucune échéance sur les 12 derniers mois." in html.unescape(page)


def test_query_count_does_not_grow_with_renewals(app, http, login, make_user, make_organisation):
    agency = Agency(app, make_organisation())
    login(make_user("MANAGER", agency.organisation_id))
    insurer = agency.insurer("AXA")
    agency.policy(insurer, expiry=day(30))
    few_all, few = dashboard_queries(app, http)
    for n in range(12):
        company = agency.insurer(f"Assureur {n}")
        agency.policy(company, expiry=day(20 + n))
        agency.policy(company, expiry=day(120 + 15 * n))
        past_cycle(app, agency, company, day(-40 - n), status=RenewalStatus.renewed)
    many_all, many = dashboard_queries(app, http)
    assert len(many_all) == len(few_all)
    assert len(many) == len(few)
    renewal_queries = [s for s in many if "renewal_cycle" in s]
    assert len(renewal_queries) == 2 and all("count(" in s.lower() for s in renewal_queries)


def test_the_window_starts_this_month():
    assert due_window(dt.date(2026, 12, 7)) == (dt.date(2026, 12, 1), dt.date(2027, 12, 1))
    assert due_window(dt.date(2024, 2, 29)) == (dt.date(2024, 2, 1), dt.date(2025, 2, 1))


def retention_bars(page: str) -> dict[str, tuple[Decimal, str]]:
    """Retention bars: insurer -> (data-value, visible text); the tooltip says the same."""
    bars = {}
    for value, body in re.findall(
        r'<g class="bar" data-value="([^"]+)">(.*?)</g>', svg(page, "chart-retention"), re.S
    ):
        title = html.unescape(re.search(r"<title>(.*?)</title>", body, re.S).group(1))
        label, shown = title.rsplit(": ", 1)
        visible = html.unescape(re.search(r'<text class="value"[^>]*>(.*?)</text>', body).group(1))
        assert visible == shown
        bars[label] = (Decimal(value), plain(visible))
    return bars


def plain(text: str) -> str:
    """French numbers use (narrow) no-break spaces: compare them as plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")
