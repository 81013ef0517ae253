"""In Debian's chromium, against `python run.py`: the dashboard's server-drawn SVG charts really
draw (laid out, with visible shapes, nothing blocked by the CSP), agree with each other, and
follow the insurer filter.

Fixtures (site, browser_page) live in tests/browser_support.py; screenshots of each step
go to tests/artifacts/browser/<test name>/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import Shots, Site, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every chart card of the dashboard, and whether the demo portfolio guarantees it data.
CHART_CARDS = {
    "card-status": True,
    "card-premiums": True,
    "card-insurers": True,
    "card-lines": True,
    "card-renewals": True,  # the demo's contracts all come due within the year
    "card-documents": False,  # no document in a fresh demo portfolio: axes only
    "card-jobs": False,
}

# Measured by the browser itself: what was laid out and painted, not what the HTML says.
MEASURE_CHARTS = """
cards => cards.map(card => {
  const shapes = 'rect, line, path, circle, polygon, polyline';
  const drawn = el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 || box.height > 0;
  };
  return [...card.querySelectorAll('svg.dashboard-chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    return {
      id: svg.id,
      width: box.width,
      height: box.height,
      shapes: [...svg.querySelectorAll(shapes)].filter(drawn).length,
      bars: [...svg.querySelectorAll('rect')].filter(r => {
        const b = r.getBoundingClientRect(); return b.width > 0 && b.height > 0 && r.closest('g');
      }).length,
    };
  });
})
"""


def bar_values(page: Page, chart_id: str) -> list[int]:
    """The values of a horizontal bar chart (data-value of each bar)."""
    return [
        int(v)
        for v in page.locator(f"#{chart_id} g.bar").evaluate_all(
            "bars => bars.map(b => b.dataset.value)"
        )
    ]


def measure(page: Page) -> dict[str, list[dict[str, Any]]]:
    cards = page.locator(", ".join(f"#{card}" for card in CHART_CARDS))
    expect(cards).to_have_count(len(CHART_CARDS))
    ids = cards.evaluate_all("cards => cards.map(c => c.id)")
    return dict(zip(ids, cards.evaluate_all(MEASURE_CHARTS), strict=True))


def test_dashboard_draws_every_chart_and_follows_the_insurer_filter(
    site: Site, browser_page: tuple[Page, Shots]
):
    page, shots = browser_page
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and problems.append(f"CSP: {message.text}")
        ),
    )
    log_in(page, site, shots)

    page.locator(".navbar a[href='/dashboard/']").click()
    expect(page).to_have_url(f"{site.url}dashboard/")
    page.locator("svg.dashboard-chart").first.wait_for()
    shots("dashboard")

    for card, charts in measure(page).items():
        assert charts, f"{card} holds no chart"
        for chart in charts:
            assert chart["width"] > 100 and chart["height"] > 40, (card, chart)
            assert chart["shapes"] > 0, (card, chart)
            if CHART_CARDS[card]:
                assert chart["bars"] > 0, f"{card}: no bar drawn ({chart})"
    assert problems == []

    # The three breakdowns count the same policies.
    by_status = bar_values(page, "chart-status")
    assert sum(by_status) >= 200  # the demo portfolio, plus what other tests added
    assert sum(bar_values(page, "chart-insurers")) == sum(by_status)
    assert sum(bar_values(page, "chart-lines")) == sum(by_status)

    # One insurer: its one bar, and the other charts narrowed to its policies.
    page.locator("#company_id").select_option(label="Atlantique Assurances")
    page.locator("#dashboard-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"company_id=\d+"))
    expect(page.locator("#chart-insurers g.bar")).to_have_count(1)
    shots("dashboard-one-insurer")
    insurer_policies = bar_values(page, "chart-insurers")[0]
    assert 0 < insurer_policies < sum(by_status)
    assert sum(bar_values(page, "chart-status")) == insurer_policies
    for card, charts in measure(page).items():
        assert all(chart["shapes"] > 0 for chart in charts), (card, charts)
    assert problems == []
