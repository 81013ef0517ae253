"""The dashboard runs one aggregate per chart plus a fixed overhead, whatever the
number of policies, documents and jobs."""

from __future__ import annotations

from app.models import DocumentStatus, JobStatus, LineOfBusiness, PolicyStatus
from tests.dashboard_support import Agency
from tests.test_screens_support import counted_queries

# status, insurer, line, premiums, expiring, documents, failed jobs, renewals due, retention,
# premiums collected per month, unpaid by age and insurer, commissions per month and insurer,
# the statements' open differences, the contracts earning most commission (the commissions
# card's three, app/services/dashboard/commissions.py), and the loss ratio card's two:
# indemnities paid and premiums due, each summed per (insurer, line) once and added up
# per insurer and per line in Python (app/services/claims/loss_ratio.py)
CHARTS = 16
FILTER_CHOICES = 1  # the insurers of the filter select (+1 for SUPERADMIN's agencies)


def dashboard_queries(app, http, path="/dashboard/"):
    http.get(path)  # warm FAB's per-process caches
    with counted_queries(app) as statements:
        assert http.get(path).status_code == 200
    business = [s for s in statements if " ab_" not in s and "ab_permission" not in s]
    return statements, business


def grow(agency: Agency, insurers: int, policies: int) -> None:
    ids = [agency.insurer(f"Assureur {n}") for n in range(insurers)]
    lines, statuses = list(LineOfBusiness), list(PolicyStatus)
    for n in range(policies):
        agency.policy(ids[n % len(ids)], line=lines[n % len(lines)], status=statuses[n % 5])
        agency.document(DocumentStatus.ready if n % 2 else DocumentStatus.failed, days_ago=n)
        agency.job(JobStatus.failed, days_ago=n)


def test_query_count_is_one_per_chart_and_does_not_grow(
    app, http, login, make_user, make_organisation
):
    agency = Agency(app, make_organisation())
    login(make_user("MANAGER", agency.organisation_id))
    grow(agency, 1, 2)
    few_all, few = dashboard_queries(app, http)
    grow(agency, 15, 40)
    many_all, many = dashboard_queries(app, http, "/dashboard/?months=3")
    assert len(many_all) == len(few_all), (len(few_all), len(many_all))
    assert len(many) == len(few) == CHARTS + FILTER_CHOICES, [s[:80] for s in many]
    # Each chart query is an aggregate.
    aggregates = [s for s in many if "count(" in s.lower() or "sum(" in s.lower()]
    assert len(aggregates) == CHARTS


def test_superadmin_adds_only_the_agency_list(app, http, login, make_user, make_organisation):
    agency = Agency(app, make_organisation())
    grow(agency, 2, 3)
    login(make_user("SUPERADMIN", agency.organisation_id))
    _, every = dashboard_queries(app, http)
    _, chosen = dashboard_queries(
        app, http, f"/dashboard/?organisation_id={agency.organisation_id}"
    )
    assert len(every) == len(chosen) == CHARTS + FILTER_CHOICES + 1
