"""The cancellation-rights rules (app/services/renewals/rules.py), table-tested.

Every case cites the article it follows in its id. Expected dates are worked out by hand
from the article (docs/domain-rules.md explains each choice), never from the code. Weekends
and public holidays never move a date: several cases fall on them on purpose.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from app.services.renewals.rules import (
    BASIS,
    Avis,
    ContractFacts,
    Ground,
    Line,
    Reason,
    RuleRefusal,
    add_months,
    cancellation_effect,
    cancellation_rights,
    chatel_window,
    insurer_after_claim_effective_on,
    last_day_to_refuse,
    next_echeance,
    previous_echeance,
)

D = dt.date.fromisoformat


def facts(effective: str, echeance: str, line: str = "auto", **extra: Any) -> ContractFacts:
    """A contract effective on ``effective`` whose main échéance is ``echeance`` ("DD/MM")."""
    day, month = (int(part) for part in echeance.split("/"))
    return ContractFacts(
        effective_on=D(effective), echeance_day=day, echeance_month=month, line=Line(line), **extra
    )


AUTO = facts("2024-03-10", "10/03")  # a private car, natural person, tacitly renewed
LEAP_AUTO = facts("2024-02-29", "29/02")
HOME = facts("2020-01-01", "01/01", "home")
HEALTH = facts("2019-05-01", "01/05", "health")
PRO_3M = facts("2020-01-01", "01/01", "professional", client_kind="business", notice_months=3)


# --- the last day to refuse renewal: échéance minus the notice, counted backwards -----------

LAST_DAY_CASES = [
    pytest.param("2026-01-01", 2, "2025-11-01", id="L113-12-1jan-gives-1nov-a-saturday-holiday"),
    pytest.param("2026-01-31", 2, "2025-11-30", id="L113-12-31jan-clamps-to-30nov-a-sunday"),
    pytest.param("2026-04-30", 2, "2026-02-28", id="L113-12-30apr-clamps-to-28feb"),
    pytest.param("2024-04-30", 2, "2024-02-29", id="L113-12-30apr-leap-year-29feb"),
    pytest.param("2025-02-28", 2, "2024-12-28", id="L113-12-28feb-counted-back-gives-28dec"),
    pytest.param("2026-03-31", 1, "2026-02-28", id="L113-12-31mar-minus-1-month-28feb"),
    pytest.param("2026-12-10", 2, "2026-10-10", id="L113-12-issue-example-10dec"),
    pytest.param("2026-05-15", 3, "2026-02-15", id="L113-12-professional-3-months"),
    pytest.param("2027-01-01", 2, "2026-11-01", id="L113-12-sunday-1nov-not-moved"),
]


@pytest.mark.parametrize(("echeance", "notice", "expected"), LAST_DAY_CASES)
def test_last_day_to_refuse(echeance: str, notice: int, expected: str) -> None:
    assert last_day_to_refuse(D(echeance), notice) == D(expected)


# --- échéances: anniversaries, 29 February, a short first term -------------------------------

ECHEANCE_CASES = [
    pytest.param(LEAP_AUTO, "2024-02-29", "2025-02-28", id="L113-12-29feb-falls-28feb-2025"),
    pytest.param(LEAP_AUTO, "2025-02-28", "2026-02-28", id="L113-12-29feb-after-2025-renewal"),
    pytest.param(LEAP_AUTO, "2027-03-01", "2028-02-29", id="L113-12-29feb-back-in-leap-2028"),
    pytest.param(
        facts("2025-11-15", "01/01"), "2025-11-20", "2026-01-01", id="L113-12-short-first-term"
    ),
    pytest.param(AUTO, "2025-03-10", "2026-03-10", id="L113-12-on-echeance-day-next-is-a-year-on"),
    pytest.param(
        facts("2025-06-01", "01/06"), "2025-01-01", "2026-06-01", id="L113-12-before-start"
    ),
]


@pytest.mark.parametrize(("contract", "on", "expected"), ECHEANCE_CASES)
def test_next_echeance(contract: ContractFacts, on: str, expected: str) -> None:
    assert next_echeance(contract, D(on)) == D(expected)


def test_previous_echeance_is_the_last_renewal_not_the_start() -> None:
    assert previous_echeance(AUTO, D("2025-03-09")) is None  # first year: no renewal yet
    assert previous_echeance(AUTO, D("2025-03-10")) == D("2025-03-10")
    assert previous_echeance(LEAP_AUTO, D("2026-02-27")) == D("2025-02-28")
    assert (
        previous_echeance(facts("2024-03-10", "10/03", tacit_renewal=False), D("2026-01-01"))
        is None
    )


def test_months_are_added_with_the_day_clamped_to_the_month_end() -> None:
    assert add_months(D("2025-01-31"), 1) == D("2025-02-28")
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert add_months(D("2025-03-31"), -1) == D("2025-02-28")
    assert add_months(D("2025-12-15"), 1) == D("2026-01-15")
    assert add_months(D("2026-01-15"), -1) == D("2025-12-15")


# --- Chatel: was the avis late, and when does the 20-day window end --------------------------

CHATEL_WINDOW_CASES = [
    # échéance 1 Jan 2026, last day to refuse 1 Nov 2025
    pytest.param(HOME, "2025-10-17", None, False, None, id="L113-15-1-15-days-before-in-time"),
    pytest.param(HOME, "2025-10-18", None, True, "2025-11-07", id="L113-15-1-14-days-before-late"),
    pytest.param(HOME, "2025-11-01", None, True, "2025-11-21", id="L113-15-1-sent-on-last-day"),
    pytest.param(HOME, "2025-12-15", None, True, "2026-01-04", id="L113-15-1-after-last-day"),
    pytest.param(
        HOME, "2026-01-10", "2026-01-01", True, "2026-01-30", id="L113-15-1-after-the-echeance"
    ),
    # échéance 30 Apr 2025, last day 28 Feb 2025: the window crosses the end of February
    pytest.param(
        facts("2020-04-30", "30/04", "home"),
        "2025-02-14",
        None,
        True,
        "2025-03-06",
        id="L113-15-1-window-across-28feb",
    ),
    pytest.param(
        facts("2020-04-29", "29/04", "home"),
        "2024-02-20",
        None,
        True,
        "2024-03-11",
        id="L113-15-1-window-across-29feb-leap",
    ),
    pytest.param(PRO_3M, "2025-12-20", None, False, None, id="L113-15-1-professional-never-late"),
]


@pytest.mark.parametrize(("contract", "sent", "echeance", "late", "ends"), CHATEL_WINDOW_CASES)
def test_chatel_window(
    contract: ContractFacts, sent: str, echeance: str | None, late: bool, ends: str | None
) -> None:
    window = chatel_window(contract, D(sent), D(echeance) if echeance else None)
    assert window.late is late
    assert window.window_ends_on == (D(ends) if ends else None)


def test_chatel_window_reports_the_echeance_and_the_last_day() -> None:
    window = chatel_window(HOME, D("2025-10-25"))
    assert (window.echeance, window.last_day_to_refuse) == (D("2026-01-01"), D("2025-11-01"))
    assert window.applies and not chatel_window(PRO_3M, D("2025-10-25")).applies


def test_chatel_outer_bound_is_off_by_default_and_counts_months_before_the_last_day() -> None:
    # Unconfirmed for insurance (domain.md): only applied when asked for.
    assert not chatel_window(HOME, D("2025-07-31")).too_early
    assert chatel_window(HOME, D("2025-07-31"), outer_months=3).too_early
    assert not chatel_window(HOME, D("2025-08-01"), outer_months=3).too_early


# --- a request received: its effective date and basis, or the rule that refuses it -----------

HOME_LATE_AVIS = facts(
    "2020-01-01", "01/01", "home", avis=(Avis(D("2026-01-01"), D("2025-10-25")),)
)
HOME_AVIS_IN_TIME = facts(
    "2020-01-01", "01/01", "home", avis=(Avis(D("2026-01-01"), D("2025-10-01")),)
)
HOME_NO_AVIS = facts("2020-01-01", "01/01", "home", avis=(Avis(D("2026-01-01"), None),))
HOME_AVIS_AFTER_ECHEANCE = facts(
    "2020-01-01", "01/01", "home", avis=(Avis(D("2026-01-01"), D("2026-01-10")),)
)
HOME_AVIS_OVERDUE = facts(
    "2020-01-01",
    "01/01",
    "home",
    avis=(Avis(D("2025-01-01"), D("2024-10-01")), Avis(D("2026-01-01"), None)),
)
HOME_EARLY_AVIS = facts(
    "2020-01-01", "01/01", "home", avis=(Avis(D("2026-01-01"), D("2025-07-15")),)
)
BORROWER_NEW = facts("2023-03-01", "01/03", "life", borrower=True)
BORROWER_OLD = facts("2019-01-01", "01/01", "life", borrower=True)
MOVED = facts("2020-01-01", "01/01", "home", situation_changed_on=D("2025-01-31"))
MOVED_NOV = facts("2020-01-01", "01/01", "home", situation_changed_on=D("2024-11-30"))
CLAIM = facts("2020-01-01", "01/01", "home", claim_cancellation_notified_on=D("2025-01-31"))

# (contract, ground, requested_on, received_on, effective_on or refusal reason)
EFFECT_CASES = [
    # L113-12: at the échéance, the postmark at least the notice before it
    pytest.param(
        AUTO, "annual", "2025-01-10", "2025-01-13", "2025-03-10", id="L113-12-on-last-day"
    ),
    pytest.param(
        AUTO, "annual", "2025-01-11", "2025-01-13", "2026-03-10", id="L113-12-too-late-next-year"
    ),
    pytest.param(
        facts("2020-01-31", "31/01"),
        "annual",
        "2025-11-30",
        "2025-12-02",
        "2026-01-31",
        id="L113-12-31jan-postmark-sunday-30nov",
    ),
    pytest.param(
        facts("2020-01-31", "31/01"),
        "annual",
        "2025-12-01",
        "2025-12-02",
        "2027-01-31",
        id="L113-12-31jan-1dec-too-late",
    ),
    pytest.param(PRO_3M, "annual", "2025-10-01", "2025-10-02", "2026-01-01", id="L113-12-pro-3m"),
    pytest.param(
        PRO_3M, "annual", "2025-10-02", "2025-10-03", "2027-01-01", id="L113-12-pro-3m-too-late"
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "life"),
        "annual",
        "2025-06-01",
        "2025-06-02",
        Reason.life_insurance_excluded,
        id="L113-12-not-for-life",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", tacit_renewal=False),
        "annual",
        "2025-06-01",
        "2025-06-02",
        Reason.not_tacitly_renewed,
        id="L113-12-no-tacit-renewal",
    ),
    pytest.param(
        AUTO, "annual", "2024-03-09", "2024-03-09", Reason.before_contract_start, id="L113-12-early"
    ),
    pytest.param(
        AUTO,
        "annual",
        "2025-01-10",
        "2025-01-09",
        Reason.received_before_requested,
        id="L113-12-received-before-sent",
    ),
    # L113-15-1 Chatel: late avis → 20 days from sending; no avis → any time after renewal
    pytest.param(
        HOME_LATE_AVIS, "chatel", "2025-11-14", "2025-11-17", "2026-01-01", id="L113-15-1-day-20"
    ),
    pytest.param(
        HOME_LATE_AVIS,
        "chatel",
        "2025-11-15",
        "2025-11-17",
        Reason.late_avis_window_closed,
        id="L113-15-1-day-21-refused",
    ),
    pytest.param(
        HOME_AVIS_IN_TIME,
        "chatel",
        "2025-11-10",
        "2025-11-12",
        Reason.avis_sent_in_time,
        id="L113-15-1-avis-in-time-no-window",
    ),
    pytest.param(
        HOME_NO_AVIS, "chatel", "2026-03-05", "2026-03-09", "2026-03-06", id="L113-15-1-no-avis"
    ),
    pytest.param(
        HOME_NO_AVIS,
        "chatel",
        "2026-02-28",
        "2026-03-02",
        "2026-03-01",
        id="L113-15-1-no-avis-postmark-saturday-28feb",
    ),
    pytest.param(
        HOME_AVIS_AFTER_ECHEANCE,
        "chatel",
        "2026-01-25",
        "2026-01-27",
        "2026-01-26",
        id="L113-15-1-avis-after-echeance-day-after-postmark",
    ),
    pytest.param(
        HOME_AVIS_AFTER_ECHEANCE,
        "chatel",
        "2026-01-30",
        "2026-02-02",
        "2026-01-31",
        id="L113-15-1-avis-after-echeance-day-20",
    ),
    pytest.param(
        HOME_AVIS_AFTER_ECHEANCE,
        "chatel",
        "2026-01-31",
        "2026-02-02",
        Reason.late_avis_window_closed,
        id="L113-15-1-avis-after-echeance-window-over",
    ),
    pytest.param(
        HOME_AVIS_OVERDUE,
        "chatel",
        "2025-11-20",
        "2025-11-21",
        Reason.avis_overdue,
        id="L113-15-1-avis-overdue-not-yet-a-right",
    ),
    pytest.param(
        HOME_EARLY_AVIS,
        "chatel",
        "2026-02-10",
        "2026-02-11",
        Reason.renewal_pending,
        id="L113-15-1-early-avis-counts-by-default",
    ),
    pytest.param(
        PRO_3M,
        "chatel",
        "2025-11-10",
        "2025-11-12",
        Reason.legal_person_excluded,
        id="L113-15-1-legal-person",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "liability", use="professional"),
        "chatel",
        "2025-11-10",
        "2025-11-12",
        Reason.professional_use_excluded,
        id="L113-15-1-professional-use",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "health", group_contract=True),
        "chatel",
        "2025-11-10",
        "2025-11-12",
        Reason.group_contract_excluded,
        id="L113-15-1-group-contract",
    ),
    # L113-15-2 Hamon: auto, home, affinity; after one year; one month after receipt
    pytest.param(
        AUTO,
        "hamon",
        "2025-03-09",
        "2025-03-09",
        Reason.before_first_anniversary,
        id="L113-15-2-d-1",
    ),
    pytest.param(
        AUTO, "hamon", "2025-03-10", "2025-03-10", "2025-04-10", id="L113-15-2-anniversary"
    ),
    pytest.param(
        AUTO, "hamon", "2025-03-08", "2025-03-11", "2025-04-11", id="L113-15-2-counts-receipt"
    ),
    pytest.param(
        AUTO, "hamon", "2025-03-14", "2025-03-15", "2025-04-15", id="L113-15-2-saturday-receipt"
    ),
    pytest.param(
        facts("2023-06-01", "01/06"),
        "hamon",
        "2025-01-30",
        "2025-01-31",
        "2025-02-28",
        id="L113-15-2-31jan-plus-1-month-28feb",
    ),
    pytest.param(
        facts("2022-05-01", "01/05", "home"),
        "hamon",
        "2024-01-29",
        "2024-01-31",
        "2024-02-29",
        id="L113-15-2-31jan-plus-1-month-leap-29feb",
    ),
    pytest.param(
        LEAP_AUTO,
        "hamon",
        "2025-02-27",
        "2025-02-27",
        Reason.before_first_anniversary,
        id="L113-15-2-29feb-not-yet-on-27feb",
    ),
    pytest.param(
        LEAP_AUTO, "hamon", "2025-02-28", "2025-02-28", "2025-03-28", id="L113-15-2-29feb-on-28feb"
    ),
    pytest.param(
        facts("2020-01-01", "01/01", use="professional"),
        "hamon",
        "2025-06-01",
        "2025-06-02",
        Reason.professional_use_excluded,
        id="L113-15-2-professional-use",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "home", client_kind="business"),
        "hamon",
        "2025-06-01",
        "2025-06-02",
        Reason.legal_person_excluded,
        id="L113-15-2-legal-person",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "liability"),
        "hamon",
        "2025-06-01",
        "2025-06-02",
        Reason.line_not_covered,
        id="L113-15-2-liability-not-a-hamon-line",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "travel", affinity=True),
        "hamon",
        "2025-06-01",
        "2025-06-02",
        "2025-07-02",
        id="L113-15-2-affinity-contract",
    ),
    # L113-15-2 santé (décret 2020-1438): from 1 Dec 2020, after one year
    pytest.param(
        HEALTH,
        "health_ria",
        "2020-11-30",
        "2020-11-30",
        Reason.before_ria_start,
        id="RIA-30nov2020",
    ),
    pytest.param(HEALTH, "health_ria", "2020-12-01", "2020-12-01", "2021-01-01", id="RIA-1dec2020"),
    pytest.param(
        facts("2024-07-15", "01/01", "health"),
        "health_ria",
        "2025-07-14",
        "2025-07-14",
        Reason.before_first_anniversary,
        id="RIA-L113-15-2-day-before-first-anniversary",
    ),
    pytest.param(
        facts("2024-07-15", "01/01", "health"),
        "health_ria",
        "2025-07-15",
        "2025-07-15",
        "2025-08-15",
        id="RIA-L113-15-2-first-anniversary",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "health", client_kind="business", group_contract=True),
        "health_ria",
        "2025-06-01",
        "2025-06-02",
        "2025-07-02",
        id="RIA-L113-15-2-al5-group-souscripteur",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "health", client_kind="business"),
        "health_ria",
        "2025-06-01",
        "2025-06-02",
        Reason.legal_person_excluded,
        id="RIA-L113-15-2-legal-person-individual-contract",
    ),
    pytest.param(
        AUTO, "health_ria", "2025-06-01", "2025-06-02", Reason.line_not_covered, id="RIA-not-health"
    ),
    # L113-12-2 (Lemoine): at any time; ten days after the lender's decision reaches the insurer
    pytest.param(
        BORROWER_NEW, "borrower", "2025-06-02", "2025-06-10", "2025-06-20", id="L113-12-2-10-days"
    ),
    pytest.param(
        BORROWER_OLD,
        "borrower",
        "2022-07-15",
        "2022-07-20",
        Reason.before_lemoine_start,
        id="L113-12-2-old-contract-before-1sep2022",
    ),
    pytest.param(
        BORROWER_OLD,
        "borrower",
        "2022-09-01",
        "2022-09-21",
        "2022-10-01",
        id="L113-12-2-old-contract-from-1sep2022",
    ),
    pytest.param(
        facts("2022-06-01", "01/06", "life", borrower=True),
        "borrower",
        "2022-06-01",
        "2022-06-01",
        "2022-06-11",
        id="L113-12-2-new-loan-from-1jun2022",
    ),
    pytest.param(
        AUTO,
        "borrower",
        "2025-06-01",
        "2025-06-02",
        Reason.not_borrower_insurance,
        id="L113-12-2-no",
    ),
    pytest.param(
        BORROWER_NEW,
        "annual",
        "2025-06-01",
        "2025-06-02",
        Reason.life_insurance_excluded,
        id="L113-12-borrower-on-life-line",
    ),
    # L113-16: within three months of the event; one month after receipt
    pytest.param(
        MOVED,
        "change_of_situation",
        "2025-04-30",
        "2025-05-02",
        "2025-06-02",
        id="L113-16-3-months-on-30apr",
    ),
    pytest.param(
        MOVED,
        "change_of_situation",
        "2025-05-01",
        "2025-05-02",
        Reason.change_of_situation_too_old,
        id="L113-16-1may-too-late",
    ),
    pytest.param(
        MOVED_NOV,
        "change_of_situation",
        "2025-02-28",
        "2025-02-28",
        "2025-03-28",
        id="L113-16-30nov-plus-3-months-28feb",
    ),
    pytest.param(
        MOVED,
        "change_of_situation",
        "2025-01-30",
        "2025-01-31",
        Reason.before_change_of_situation,
        id="L113-16-before-the-event",
    ),
    pytest.param(
        HOME,
        "change_of_situation",
        "2025-01-30",
        "2025-01-31",
        Reason.no_change_of_situation,
        id="L113-16-no-event",
    ),
    pytest.param(
        facts("2020-01-01", "01/01", "life", situation_changed_on=D("2025-01-31")),
        "change_of_situation",
        "2025-02-10",
        "2025-02-11",
        Reason.life_insurance_excluded,
        id="L113-16-not-for-life",
    ),
    # R113-10: within one month of the insurer's after-claim cancellation; one month after
    pytest.param(
        CLAIM, "after_claim", "2025-02-28", "2025-03-03", "2025-04-03", id="R113-10-28feb"
    ),
    pytest.param(
        CLAIM,
        "after_claim",
        "2025-03-01",
        "2025-03-03",
        Reason.claim_cancellation_too_old,
        id="R113-10-1mar-too-late",
    ),
    pytest.param(
        HOME,
        "after_claim",
        "2025-03-01",
        "2025-03-03",
        Reason.no_claim_cancellation,
        id="R113-10-no",
    ),
]


@pytest.mark.parametrize(("contract", "ground", "requested", "received", "expected"), EFFECT_CASES)
def test_cancellation_effect(
    contract: ContractFacts, ground: str, requested: str, received: str, expected: str | Reason
) -> None:
    if isinstance(expected, Reason):
        with pytest.raises(RuleRefusal) as refused:
            cancellation_effect(contract, ground, D(requested), D(received))
        assert refused.value.reason is expected
        assert refused.value.basis == BASIS[Ground(ground)]
        return
    result = cancellation_effect(contract, ground, D(requested), D(received))
    assert result.open
    assert result.ground == ground
    assert result.effective_on == D(expected)


def test_each_ground_cites_its_article() -> None:
    expected = {
        "annual": "L113-12",
        "chatel": "L113-15-1",
        "hamon": "L113-15-2",
        "health_ria": "L113-15-2 (santé, décret 2020-1438)",
        "borrower": "L113-12-2 (loi 2022-270)",
        "change_of_situation": "L113-16",
        "after_claim": "R113-10",
    }
    results = {r.ground.value: r.basis for r in cancellation_rights(AUTO, D("2025-06-01"))}
    assert results == expected
    with pytest.raises(RuleRefusal) as refused:
        cancellation_effect(AUTO, Ground.hamon, D("2024-06-01"), D("2024-06-01"))
    assert refused.value.basis == "L113-15-2"
    assert str(refused.value) == "L113-15-2: before_first_anniversary"


def test_borrower_cancellation_waits_for_a_later_substitute_contract() -> None:
    # L113-12-2: the later of ten days after the lender's decision and the substitute's start.
    later = cancellation_effect(
        BORROWER_NEW,
        "borrower",
        D("2025-06-02"),
        D("2025-06-10"),
        substitute_starts_on=D("2025-07-01"),
    )
    earlier = cancellation_effect(
        BORROWER_NEW,
        "borrower",
        D("2025-06-02"),
        D("2025-06-10"),
        substitute_starts_on=D("2025-06-15"),
    )
    assert (later.effective_on, earlier.effective_on) == (D("2025-07-01"), D("2025-06-20"))


def test_an_avis_sent_too_early_counts_as_none_when_the_outer_bound_is_set() -> None:
    # The unconfirmed "3 months before" bound: with it, the renewal happened without a valid avis.
    result = cancellation_effect(
        HOME_EARLY_AVIS, "chatel", D("2026-02-10"), D("2026-02-11"), outer_months=3
    )
    assert (result.effective_on, result.reason) == (D("2026-02-11"), Reason.no_avis_since_renewal)


def test_the_insurer_after_claim_cancellation_takes_effect_a_month_after_notice() -> None:
    assert insurer_after_claim_effective_on(D("2025-01-31")) == D("2025-02-28")  # R113-10 al. 1
    assert insurer_after_claim_effective_on(D("2025-12-15")) == D("2026-01-15")


# --- every ground on one date -----------------------------------------------------------------

AUTO_TODAY = facts(
    "2024-03-10", "10/03", avis=(Avis(D("2025-03-10"), D("2024-12-01")),)
)  # avis in time: 1 Dec 2024 is 40 days before the last day, 10 Jan 2025

# (contract, on, ground, open, effective_on, reason)
RIGHTS_CASES = [
    pytest.param(
        AUTO_TODAY,
        "2025-06-02",
        "annual",
        True,
        "2026-03-10",
        Reason.at_echeance,
        id="L113-12-today",
    ),
    pytest.param(
        AUTO_TODAY,
        "2025-06-02",
        "chatel",
        False,
        None,
        Reason.renewal_pending,
        id="L113-15-1-today",
    ),
    pytest.param(
        AUTO_TODAY,
        "2025-06-02",
        "hamon",
        True,
        "2025-07-02",
        Reason.after_first_year,
        id="L113-15-2-today",
    ),
    pytest.param(
        AUTO_TODAY,
        "2024-09-02",
        "hamon",
        False,
        None,
        Reason.before_first_anniversary,
        id="L113-15-2-first-year",
    ),
    pytest.param(
        AUTO,
        "2025-06-02",
        "chatel",
        False,
        None,
        Reason.previous_avis_unknown,
        id="L113-15-1-no-record",
    ),
    pytest.param(
        HOME_NO_AVIS,
        "2026-01-01",
        "chatel",
        True,
        "2026-01-02",
        Reason.no_avis_since_renewal,
        id="L113-15-1-renewal-day",
    ),
    pytest.param(
        HOME_NO_AVIS,
        "2025-12-31",
        "chatel",
        False,
        None,
        Reason.avis_overdue,
        id="L113-15-1-eve-of-renewal",
    ),
    pytest.param(
        HEALTH,
        "2025-06-02",
        "health_ria",
        True,
        "2025-07-02",
        Reason.after_first_year,
        id="RIA-today",
    ),
    pytest.param(
        BORROWER_NEW,
        "2025-06-02",
        "borrower",
        True,
        "2025-06-12",
        Reason.at_any_time,
        id="L113-12-2-today",
    ),
    pytest.param(
        MOVED,
        "2025-03-01",
        "change_of_situation",
        True,
        "2025-04-01",
        Reason.within_three_months_of_change,
        id="L113-16-today",
    ),
    pytest.param(
        CLAIM,
        "2025-02-15",
        "after_claim",
        True,
        "2025-03-15",
        Reason.within_one_month_of_claim_cancellation,
        id="R113-10-today",
    ),
    pytest.param(
        AUTO,
        "2024-03-09",
        "annual",
        False,
        None,
        Reason.before_contract_start,
        id="L113-12-before-start",
    ),
    pytest.param(
        AUTO,
        "2024-03-09",
        "borrower",
        False,
        None,
        Reason.before_contract_start,
        id="L113-12-2-before-start",
    ),
]


@pytest.mark.parametrize(
    ("contract", "on", "ground", "is_open", "effective", "reason"), RIGHTS_CASES
)
def test_cancellation_rights_on_a_date(
    contract: ContractFacts,
    on: str,
    ground: str,
    is_open: bool,
    effective: str | None,
    reason: Reason,
) -> None:
    results = {r.ground: r for r in cancellation_rights(contract, D(on))}
    assert list(results) == list(Ground)
    result = results[Ground(ground)]
    assert (result.open, result.reason) == (is_open, reason)
    assert result.effective_on == (D(effective) if effective else None)


def test_a_right_serialises_to_the_api_shape() -> None:
    result = cancellation_effect(AUTO, "hamon", D("2025-06-02"), D("2025-06-02"))
    assert result.to_dict() == {
        "ground": "hamon",
        "open": True,
        "effective_on": "2025-07-02",
        "basis": "L113-15-2",
        "reason": "after_first_year",
    }


# --- the facts refuse what cannot be a contract; the module stays pure ------------------------


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"echeance_day": 30, "echeance_month": 2}, id="30-february"),
        pytest.param({"echeance_day": 31, "echeance_month": 4}, id="31-april"),
        pytest.param({"echeance_month": 13}, id="month-13"),
        pytest.param({"notice_months": 0}, id="no-notice"),
        pytest.param({"line": "boat"}, id="unknown-line"),
        pytest.param({"client_kind": "robot"}, id="unknown-client-kind"),
    ],
)
def test_impossible_facts_are_refused(bad: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "effective_on": D("2024-01-01"),
        "echeance_day": 1,
        "echeance_month": 1,
        "line": "auto",
    }
    with pytest.raises(ValueError):
        ContractFacts(**{**values, **bad})


def test_29_february_is_a_valid_echeance_and_unknown_grounds_are_refused() -> None:
    assert LEAP_AUTO.echeance_day == 29
    with pytest.raises(ValueError):
        cancellation_effect(AUTO, "whim", D("2025-06-02"), D("2025-06-02"))


def test_the_rules_speak_the_models_vocabulary() -> None:
    from app.models.client import ClientKind as ModelClientKind
    from app.models.policy import LineOfBusiness
    from app.services.renewals.rules import ClientKind

    assert {line.value for line in Line} == {line.value for line in LineOfBusiness}
    assert {kind.value for kind in ClientKind} == {kind.value for kind in ModelClientKind}


def test_the_rules_import_only_the_standard_library() -> None:
    allowed = {"__future__", "calendar", "collections", "dataclasses", "datetime", "enum"}
    package = Path(__file__).resolve().parents[1] / "app" / "services" / "renewals"
    for name in ("rules.py", "facts.py"):
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("app.services.renewals."):
                    continue
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"{name} imports {roots - allowed}"
