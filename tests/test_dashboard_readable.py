"""The dashboard as a reader sees it: the period ends today, cut labels keep their full
text, and numbers at a million policies are formatted per locale and fit their charts."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest

from app.models import LineOfBusiness, PolicyStatus
from app.services.dashboard.activity import DailyCounts
from app.services.dashboard.charts import text_width
from app.services.dashboard.collections import InsurerUnpaid, MonthlyCollections, Unpaid
from app.services.dashboard.commissions import Commissions, InsurerCommissions
from app.services.dashboard.load import DashboardData
from app.services.dashboard.portfolio import Expiring, InsurerCount
from app.services.dashboard.premiums import MonthlyPremiums
from app.services.dashboard.renewals import OUTCOMES, InsurerRetention, RenewalsDue, Retention
from app.views.labels import date_formatter
from tests.dashboard_support import TODAY, Agency, bar_values, column_values, svg, text_of

NNBSP = "\u202f"  # CLDR's French thousands separator


@pytest.fixture
def agency(app, make_organisation):
    return Agency(app, make_organisation("Cabinet A"))


@pytest.fixture
def manager(agency, make_user, login):
    username = make_user("MANAGER", agency.organisation_id)
    login(username)
    return username


def test_the_last_12_months_end_today_and_leave_out_the_future(app, http, agency, manager):
    insurer = agency.insurer("MMA")
    first_of_month = TODAY.replace(day=1)
    agency.policy(insurer, effective=first_of_month, premium="100.00")
    agency.policy(insurer, effective=TODAY + dt.timedelta(days=1), premium="5000.00")
    agency.policy(insurer, effective=TODAY + dt.timedelta(days=40), premium="7000.00")
    page = http.get("/dashboard/").get_data(as_text=True)
    with app.test_request_context():
        start = date_formatter(_months_before(first_of_month, 11))
        end = date_formatter(TODAY)
    period = f"Du {start} au {end}, jours du cabinet (documents et tâches : jours UTC)."
    assert html.escape(period) in page
    months = column_values(page, "chart-premiums-EUR")
    assert len(months) == 12 and months[-1] == Decimal("100.00")  # tomorrow is not written yet
    assert f'name="date_to" value="{TODAY.isoformat()}"' in page  # the reports cover the same


def _months_before(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def test_a_cut_insurer_name_keeps_its_full_text_in_a_title(http, agency, manager):
    long_name = "Mutuelle Générale des Travailleurs Indépendants du Grand Sud-Ouest"
    agency.policy(agency.insurer(long_name))
    agency.policy(agency.insurer("MMA"))
    chart = svg(http.get("/dashboard/").get_data(as_text=True), "chart-insurers")
    labels = re.findall(
        r'<text x="[^"]+" y="[^"]+" dy="0.35em" text-anchor="end"[^>]*>(.*?)</text>', chart
    )
    cut = [label for label in labels if "<title>" in label]
    assert len(cut) == 1
    title, shown = re.match(r"<title>(.*?)</title>(.*)", cut[0]).groups()
    assert html.unescape(title) == long_name
    assert html.unescape(shown).endswith("…") and long_name.startswith(html.unescape(shown)[:-1])
    assert "MMA" in labels  # a short name is whole, with no title of its own


def million_policies(scope) -> DashboardData:
    """What the aggregates answer for an agency of a million policies over the period."""
    months = [scope.start]
    while (following := (months[-1] + dt.timedelta(days=32)).replace(day=1)) < scope.end:
        months.append(following)
    days = [scope.start + dt.timedelta(days=n) for n in range((scope.end - scope.start).days)]
    return DashboardData(
        scope=scope,
        by_status={
            PolicyStatus.draft: 12_345,
            PolicyStatus.active: 1_000_000,
            PolicyStatus.suspended: 0,
            PolicyStatus.cancelled: 250_000,
            PolicyStatus.expired: 1,
        },
        by_insurer=[InsurerCount(1, "Atlantique Assurances", 1_263_346)],
        by_line={line: 100_000 for line in LineOfBusiness},
        premiums=MonthlyPremiums(
            months=months,
            by_currency={"EUR": [Decimal("103456789.12")] * len(months)},
            policies=[80_000] * len(months),
        ),
        expiring=Expiring(today=scope.today, counts={30: 81_234, 60: 160_000, 90: 240_000}),
        documents=DailyCounts(
            days=days,
            series={"ready": [12_000] * len(days), "failed": [1] * len(days)},
        ),
        failed_jobs=DailyCounts(days=days, series={"failed": [3] * len(days)}),
        renewals_due=RenewalsDue(
            months=months,
            by_outcome={outcome: [20_000] * len(months) for outcome in OUTCOMES},
        ),
        retention=Retention(
            first_day=scope.start,
            last_day=scope.today,
            insurers=[InsurerRetention(1, "Atlantique Assurances", 800_000, 700_000, 1_234)],
        ),
        collections=MonthlyCollections(
            months=months,
            collected={"EUR": [Decimal("90000000.00")] * len(months)},
            outstanding={"EUR": [Decimal("13456789.12")] * len(months)},
        ),
        unpaid=Unpaid(
            by_age={"EUR": [Decimal("1000000.00")] * 4},
            notices_by_age=[25_000] * 4,
            by_insurer={
                "EUR": [InsurerUnpaid(1, "Atlantique Assurances", Decimal("4e6"), 100_000)]
            },
        ),
        commissions=Commissions(
            months=months,
            expected=[Decimal("12345678.90")] * len(months),
            received=[Decimal("12000000.00")] * len(months),
            by_insurer=[
                InsurerCommissions(1, "Atlantique Assurances", Decimal("1e8"), Decimal("9e7"))
            ],
            differences=[],
            top=[],
        ),
        loss_ratio={
            "by_insurer": [
                {
                    "key": 1,
                    "name": "Atlantique Assurances",
                    "paid": "61000000.00",
                    "premiums": "103456789.12",
                    "ratio_percent": "59.0",
                }
            ],
            "by_line": [
                {
                    "key": "home",
                    "name": "home",
                    "paid": "61000000.00",
                    "premiums": "103456789.12",
                    "ratio_percent": "59.0",
                }
            ],
            "total": {
                "key": None,
                "name": None,
                "paid": "61000000.00",
                "premiums": "103456789.12",
                "ratio_percent": "59.0",
            },
        },
    )


@pytest.mark.parametrize(
    ("language", "million", "expiring", "premium_top", "documents_title", "retention"),
    [
        (
            "fr",
            f"1{NNBSP}000{NNBSP}000",
            f"81{NNBSP}234",
            "103\xa0M\xa0€",
            "Documents générés par semaine",
            f"87,5\xa0% (700{NNBSP}000 / 800{NNBSP}000)",
        ),
        (
            "en",
            "1,000,000",
            "81,234",
            "€103M",
            "Documents generated per week",
            "87.5% (700,000 / 800,000)",
        ),
    ],
)
def test_a_million_policies_read_in_the_readers_language(
    http, manager, monkeypatch, language, million, expiring, premium_top, documents_title, retention
):
    monkeypatch.setattr(
        "app.views.dashboard.load_dashboard", lambda session, scope: million_policies(scope)
    )
    if language == "en":
        http.get("/lang/en", follow_redirects=True)
    page = http.get("/dashboard/").get_data(as_text=True)
    status = bar_values(page, "chart-status")  # also checks each visible number
    assert max(status.values()) == 1_000_000
    assert million in html.unescape(svg(page, "chart-status"))
    assert text_of(page, "expiring-30") == expiring
    assert html.escape(premium_top) in svg(page, "chart-premiums-EUR")
    # A year of days: a column per week, titled so, and a visible failed segment per week.
    assert documents_title in page
    documents = svg(page, "chart-documents")
    assert 48 <= documents.count('<g class="column">') <= 54
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#d9534f"', documents)]
    assert heights and min(heights) >= 3  # 7 failed beside 84 000 ready still shows
    # No number is wider than the room the chart gives it.
    ticks = re.findall(r'text-anchor="end" font-size="11" fill="#666">([^<]*)</text>', documents)
    assert ticks and all(text_width(html.unescape(t), 11) <= 64 - 6 for t in ticks)
    # Renewals: a year of months of 80,000, and a retention rate with its counts.
    assert int(re.sub(r"\D", "", text_of(page, "renewals-due"))) == 4 * 20_000 * 12
    assert text_of(page, "retention-overall") == retention


def test_the_period_ends_on_the_agencys_day_not_utcs(app, http, agency, manager):
    # At any moment UTC+14 or UTC-12 is on another calendar day than UTC: the dashboard's
    # "today" must follow the agency's zone (a payment recorded today in Kiritimati counts).
    from app.extensions import db
    from app.models import Organisation
    from app.services.timezones import local_today, zone

    utc_today = dt.datetime.now(dt.UTC).date()
    name = next(
        n for n in ("Pacific/Kiritimati", "Etc/GMT+12") if local_today(zone(n)) != utc_today
    )
    with app.app_context():
        db.session.get(Organisation, agency.organisation_id).timezone = name
        db.session.commit()
    page = http.get("/dashboard/").get_data(as_text=True)
    with app.test_request_context():
        end = date_formatter(local_today(zone(name)))
    assert f"au {html.escape(end)}, jours du cabinet" in page
