"""The words of the rules' reason keys and grounds, for screens, letters and refusals.

The API answers the stable keys (docs/domain-rules.md); people read these sentences.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.renewals.facts import Ground, Reason

GROUND_LABELS = {
    Ground.annual: _l("Annual cancellation at the échéance"),
    Ground.chatel: _l("Loi Chatel"),
    Ground.hamon: _l("Loi Hamon (after one year)"),
    Ground.health_ria: _l("Health insurance after one year"),
    Ground.borrower: _l("Loan insurance (loi Lemoine)"),
    Ground.change_of_situation: _l("Change of situation"),
    Ground.after_claim: _l("After the insurer cancelled another contract after a claim"),
}

REASON_TEXTS = {
    Reason.at_echeance: _l("ends at the échéance"),
    Reason.no_avis_since_renewal: _l(
        "renewed without an avis d'échéance: may cancel at any time, effective the next day"
    ),
    Reason.late_avis_window: _l("within the 20 days that follow a late avis d'échéance"),
    Reason.after_first_year: _l("one year has passed: effective one month after receipt"),
    Reason.at_any_time: _l("may be cancelled at any time"),
    Reason.within_three_months_of_change: _l("within three months of the change of situation"),
    Reason.within_one_month_of_claim_cancellation: _l(
        "within one month of the insurer's cancellation after a claim"
    ),
    Reason.before_contract_start: _l("the date is before the contract starts"),
    Reason.received_before_requested: _l("the request is dated after its receipt"),
    Reason.not_tacitly_renewed: _l("the contract is not tacitly renewed"),
    Reason.life_insurance_excluded: _l("life insurance is excluded"),
    Reason.group_contract_excluded: _l("group contracts are excluded"),
    Reason.legal_person_excluded: _l("the right belongs to natural persons only"),
    Reason.professional_use_excluded: _l("the right excludes professional contracts"),
    Reason.line_not_covered: _l("this line of business is not covered by the right"),
    Reason.borrower_own_regime: _l("loan insurance has its own cancellation rule"),
    Reason.before_first_anniversary: _l("the first year of cover is not over"),
    Reason.before_ria_start: _l("before 1 December 2020"),
    Reason.not_borrower_insurance: _l("the contract is not loan insurance"),
    Reason.before_lemoine_start: _l("before the loi Lemoine applied to this contract"),
    Reason.renewal_pending: _l("the last day to refuse renewal has not passed"),
    Reason.avis_sent_in_time: _l("the avis d'échéance was sent in time"),
    Reason.avis_overdue: _l("the last day has passed and no avis d'échéance was sent yet"),
    Reason.late_avis_window_closed: _l("the 20 days after the late avis are over"),
    Reason.previous_avis_unknown: _l("nothing is recorded about the last avis d'échéance"),
    Reason.no_change_of_situation: _l("no change of situation is given"),
    Reason.before_change_of_situation: _l("the request is before the change of situation"),
    Reason.change_of_situation_too_old: _l("more than three months after the change of situation"),
    Reason.no_claim_cancellation: _l("no cancellation after a claim is given"),
    Reason.before_claim_cancellation: _l("the request is before that cancellation"),
    Reason.claim_cancellation_too_old: _l("more than one month after that cancellation"),
    Reason.contract_ended: _l("the contract has already ended or been cancelled"),
}


def reason_text(reason: Reason | str) -> str:
    return str(REASON_TEXTS[Reason(reason)])


NON_PAYMENT_LABEL = _l("Non-payment of the premium (insurer)")


def ground_label(ground: Ground | str) -> str:
    if ground == "non_payment":  # app/services/renewals/cancellations.py NON_PAYMENT
        return str(NON_PAYMENT_LABEL)
    return str(GROUND_LABELS[Ground(ground)])
