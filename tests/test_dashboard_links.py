"""Every number of the dashboard that links to the policy list lands on exactly the
policies it counted (FAB's ``_flt_<index>_<column>`` list filters)."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

from app.models import LineOfBusiness, PolicyStatus
from tests.dashboard_support import TODAY, Agency, link_of, text_of


def listed(http, url: str, organisation_id: int) -> set[str]:
    response = http.get(url)
    assert response.status_code == 200, url
    return set(re.findall(rf"\bD{organisation_id}-\d+\b", response.get_data(as_text=True)))


def in_days(days: int) -> dt.date:
    return TODAY + dt.timedelta(days=days)


def test_expiring_links_list_exactly_the_policies_counted(
    app, http, login, make_user, make_organisation
):
    a, b = Agency(app, make_organisation()), Agency(app, make_organisation())
    axa, mma = a.insurer("AXA"), a.insurer("MMA")
    start = TODAY - dt.timedelta(days=300)
    expected: dict[int, set[str]] = {30: set(), 60: set(), 90: set()}
    for days, insurer in [(0, axa), (10, mma), (30, axa), (31, axa), (45, mma), (60, axa)] + [
        (61, mma),
        (80, axa),
        (90, axa),
    ]:
        number = a.policy(insurer, effective=start, expiry=in_days(days))
        for horizon in expected:
            if days <= horizon:
                expected[horizon].add(number)
    # Outside every window, or not active: never counted, never listed.
    a.policy(axa, effective=start, expiry=in_days(91))
    a.policy(axa, effective=start - dt.timedelta(days=200), expiry=in_days(-1))
    a.policy(axa, effective=start, expiry=in_days(10), status=PolicyStatus.cancelled)
    a.policy(axa, effective=start, expiry=in_days(10), status=PolicyStatus.suspended)
    b.policy(b.insurer("Generali"), effective=start, expiry=in_days(10))
    login(make_user("MANAGER", a.organisation_id))

    page = http.get("/dashboard/").get_data(as_text=True)
    for horizon, numbers in expected.items():
        assert text_of(page, f"expiring-{horizon}") == str(len(numbers))
        url = link_of(page, f"expiring-{horizon}")
        assert urlsplit(url).path == "/policyview/list/"
        args = parse_qs(urlsplit(url).query)
        assert args["_flt_0_status"] == ["active"]
        assert args["_flt_1_expiry_date"] == [(TODAY - dt.timedelta(days=1)).isoformat()]
        assert args["_flt_2_expiry_date"] == [in_days(horizon + 1).isoformat()]
        assert listed(http, url, a.organisation_id) == numbers, horizon

    # With the insurer filter, the counts and the links narrow alike.
    filtered = http.get(f"/dashboard/?company_id={mma}").get_data(as_text=True)
    for horizon, count in ((30, 1), (60, 2), (90, 3)):
        assert text_of(filtered, f"expiring-{horizon}") == str(count)
        url = link_of(filtered, f"expiring-{horizon}")
        assert parse_qs(urlsplit(url).query)["_flt_0_company"] == [str(mma)]
        assert len(listed(http, url, a.organisation_id)) == count


def bar_links(page: str, chart_id: str) -> dict[str, str]:
    chart = re.search(rf'<svg id="{chart_id}".*?</svg>', page, re.S).group(0)
    links = {}
    for body in re.findall(r'<g class="bar"[^>]*>(.*?)</g>', chart, re.S):
        label = html.unescape(re.search(r"<title>(.*?): ", body).group(1))
        href = re.search(r'<a href="([^"]+)"', body)
        if href:
            links[label] = html.unescape(href.group(1))
    return links


def test_bars_link_to_their_policies(app, http, login, make_user, make_organisation):
    a = Agency(app, make_organisation())
    axa, mma = a.insurer("AXA"), a.insurer("MMA")
    home = {a.policy(axa, line=LineOfBusiness.home), a.policy(mma, line=LineOfBusiness.home)}
    drafts = {a.policy(axa, status=PolicyStatus.draft)}
    login(make_user("MANAGER", a.organisation_id))
    http.get("/lang/en", follow_redirects=True)
    page = http.get("/dashboard/").get_data(as_text=True)
    assert listed(http, bar_links(page, "chart-lines")["Home"], a.organisation_id) == home
    assert listed(http, bar_links(page, "chart-status")["Draft"], a.organisation_id) == drafts
    by_axa = listed(http, bar_links(page, "chart-insurers")["AXA"], a.organisation_id)
    assert len(by_axa) == 2 and drafts <= by_axa


def listed_any(http, url: str) -> set[str]:
    response = http.get(url)
    assert response.status_code == 200, url
    return set(re.findall(r"\bD\d+-\d+\b", response.get_data(as_text=True)))


def test_superadmin_links_keep_to_the_agency_chosen(app, http, login, make_user, make_organisation):
    a, b = Agency(app, make_organisation()), Agency(app, make_organisation())
    soon = in_days(10)
    ours = {a.policy(a.insurer("AXA"), expiry=soon) for _ in range(2)}
    theirs = {b.policy(b.insurer("MMA"), expiry=soon, line=LineOfBusiness.home)}
    login(make_user("SUPERADMIN", a.organisation_id))

    chosen = http.get(f"/dashboard/?organisation_id={b.organisation_id}").get_data(as_text=True)
    assert text_of(chosen, "expiring-30") == "1"
    assert listed_any(http, link_of(chosen, "expiring-30")) == theirs
    assert listed_any(http, bar_links(chosen, "chart-status")["En cours"]) == theirs

    # Every agency: the links are not narrowed either.
    every = http.get("/dashboard/").get_data(as_text=True)
    assert text_of(every, "expiring-30") == "3"
    assert listed_any(http, link_of(every, "expiring-30")) == ours | theirs


def test_a_forged_agency_filter_shows_nothing_of_another_agency(
    app, http, login, make_user, make_organisation
):
    a, b = (
        Agency(app, make_organisation("Cabinet Alpha")),
        Agency(app, make_organisation("Cabinet Beta")),
    )
    ours = {a.policy(a.insurer("AXA"))}
    b.policy(b.insurer("MMA"))
    login(make_user("MANAGER", a.organisation_id))
    page = http.get("/policyview/list/").get_data(as_text=True)
    # The agency filter offers the user's own agency only.
    assert "Cabinet Alpha" in page and "Cabinet Beta" not in page
    assert listed_any(http, f"/policyview/list/?_flt_0_organisation={a.organisation_id}") == ours
    assert listed_any(http, f"/policyview/list/?_flt_0_organisation={b.organisation_id}") == set()
