"""The data templates see: plain, complete, translated, hashed; and document file names."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Organisation, PaymentFrequency, Policy, TemplateKind
from app.services.rendering import (
    context_sha256,
    file_name_for,
    load_policy_for_render,
    policy_context,
    render,
    sample_context,
    template_prefix,
)
from app.services.rendering.context import add_months, instalments

PLAIN = (str, int, float, Decimal, dt.date, type(None))
CONTRACT_KEYS = {
    "organisation": {
        "name",
        "orias_number",
        "address",
        "postal_code",
        "city",
        "phone",
        "email",
        "complaints_contact",
        "mediator",
    },
    "policy": {
        "number",
        "line_of_business",
        "line_label",
        "status",
        "status_label",
        "effective_date",
        "expiry_date",
        "premium",
        "currency",
        "payment_frequency",
        "payment_frequency_label",
    },
    "client": {
        "kind",
        "display_name",
        "first_name",
        "last_name",
        "company_name",
        "siren",
        "email",
        "phone",
        "address",
        "postal_code",
        "city",
        "birth_date",
    },
    "insurer": {"name", "code", "contact_name", "email", "phone"},
}


def walk(value, path: str = "") -> list[str]:
    """Paths of every value that is not plain data."""
    if isinstance(value, dict):
        bad = [f"{path}.{key}" for key in value if not isinstance(key, str)]
        for key, item in value.items():
            bad += walk(item, f"{path}.{key}")
        return bad
    if isinstance(value, list):
        return [bad for index, item in enumerate(value) for bad in walk(item, f"{path}[{index}]")]
    return [] if type(value) in PLAIN or type(value) is bool else [f"{path}: {type(value)}"]


TERM_KEYS = {"sequence", "start", "end", "premium", "status", "instalments"}
RENEWAL_KEYS = {
    "echeance",
    "start",
    "end",
    "premium",
    "previous_premium",
    "instalments",
    "renewed",
    "tacit_renewal",
    "notice_months",
    "last_day_to_refuse",
    "avis_sent_on",
    "late",
    "chatel_window_end",
    "chatel_applies",
    "annual",
    "hamon",
    "health_ria",
}


def assert_contract_keys(context: dict) -> None:
    for section, keys in CONTRACT_KEYS.items():
        assert keys <= set(context[section]), (section, keys - set(context[section]))
    assert {"due_date", "amount"} <= set(context["instalments"][0])
    assert set(context["term"]) >= TERM_KEYS and set(context["renewal"]) >= RENEWAL_KEYS
    assert all(TERM_KEYS - {"instalments"} | {"current"} <= set(t) for t in context["terms"])
    assert isinstance(context["today"], dt.date) and context["locale"] in ("fr", "en")


def load(app, policy_id: int, organisation_id: int | None) -> Policy | None:
    return load_policy_for_render(db.session, policy_id, organisation_id)


def test_policy_context_is_plain_data_with_every_documented_key(
    app, make_organisation, portfolio
) -> None:
    organisation_id = make_organisation("Cabinet Plain")
    ids = portfolio(organisation_id, suffix="5")
    with app.app_context():
        context = policy_context(
            load(app, ids["policy"], organisation_id), today=dt.date(2026, 2, 1)
        )
    assert walk(context) == []
    assert_contract_keys(context)
    assert context["policy"]["number"] == "POL-5"
    assert context["policy"]["premium"] == Decimal("420.50")
    assert context["policy"]["status"] == "active" and context["policy"]["currency"] == "EUR"
    assert context["client"]["display_name"] == "Jeanne Martin5"
    assert context["insurer"]["name"] == "Assureur 5"
    assert context["organisation"]["name"] == "Cabinet Plain"
    assert context["today"] == dt.date(2026, 2, 1)
    assert [line["amount"] for line in context["instalments"]] == [Decimal("420.50")]


def test_labels_follow_the_render_locale(app, make_organisation, portfolio) -> None:
    organisation_id = make_organisation()
    ids = portfolio(organisation_id)
    with app.app_context():
        policy = load(app, ids["policy"], organisation_id)
        french = policy_context(policy)
        english = policy_context(policy, locale="en")
    assert french["policy"]["line_label"] == "Automobile"
    assert french["policy"]["status_label"] == "En cours"
    assert english["policy"]["line_label"] == "Motor"
    assert english["policy"]["status_label"] == "Active"
    assert english["locale"] == "en"


def test_load_policy_is_two_queries_and_scoped_to_the_organisation(
    app, make_organisation, portfolio
) -> None:
    mine, theirs = make_organisation(), make_organisation()
    ids = portfolio(mine, suffix="8")
    with app.app_context():
        statements: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            policy = load(app, ids["policy"], mine)
            context = policy_context(policy)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        # The policy with its relations, then its premium notices (a join would multiply
        # them by its terms and renewal cycles): nothing more while the context is built.
        assert len(statements) == 2, statements
        assert "FROM premium_notice" in statements[1]
        assert context["insurer"]["name"] == "Assureur 8"
        assert load(app, ids["policy"], theirs) is None
        assert load(app, ids["policy"], None) is not None
        assert load(app, 10**9, None) is None


@pytest.mark.parametrize("frequency", list(PaymentFrequency))
@pytest.mark.parametrize(
    "premium", ["420.50", "100.00", "0.01", "0.00", "1000.07", "9999999999.99"]
)
def test_instalments_add_up_to_the_premium(frequency: PaymentFrequency, premium: str) -> None:
    lines = instalments(Decimal(premium), frequency, dt.date(2026, 1, 31), dt.date(2027, 1, 31))
    expected = {"monthly": 12, "quarterly": 4, "semiannual": 2, "annual": 1}[frequency.value]
    assert len(lines) == expected
    assert sum(line["amount"] for line in lines) == Decimal(premium)
    amounts = [line["amount"] for line in lines]
    # Equal shares; the odd cents go on the first instalment.
    assert len(set(amounts[1:])) <= 1
    assert all(amount >= 0 for amount in amounts) and amounts[0] >= amounts[-1]
    assert all(amount == amount.quantize(Decimal("0.01")) for amount in amounts)


def test_instalment_dates_keep_the_day_and_clamp_to_month_end() -> None:
    lines = instalments(Decimal("120"), "monthly", dt.date(2026, 1, 31), dt.date(2026, 5, 1))
    assert [line["due_date"] for line in lines] == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
    ]
    assert [line["amount"] for line in lines] == [Decimal("30.00")] * 4
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_rounding_remainder_goes_on_the_first_instalment() -> None:
    lines = instalments(Decimal("100.00"), "quarterly", dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert [line["amount"] for line in lines] == [Decimal("25.00")] * 4
    lines = instalments(Decimal("100.00"), "monthly", dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert lines[0]["amount"] == Decimal("8.37")
    assert [line["amount"] for line in lines[1:]] == [Decimal("8.33")] * 11


def test_short_or_long_periods_still_add_up() -> None:
    short = instalments(Decimal("50"), "quarterly", dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    assert [line["amount"] for line in short] == [Decimal("50.00")]
    long = instalments(Decimal("300"), "annual", dt.date(2026, 1, 1), dt.date(2029, 1, 1))
    assert [line["due_date"].year for line in long] == [2026, 2027, 2028]
    assert sum(line["amount"] for line in long) == Decimal("300")


def test_sample_context_uses_the_organisation_name_and_orias(app, make_organisation) -> None:
    organisation_id = make_organisation("Cabinet Réel")
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        context = sample_context(organisation, today=dt.date(2026, 5, 20))
        orias = organisation.orias_number
    assert walk(context) == []
    assert_contract_keys(context)
    assert context["organisation"]["name"] == "Cabinet Réel"
    assert context["organisation"]["orias_number"] == orias
    assert context["client"]["city"] and context["insurer"]["name"]
    assert sum(line["amount"] for line in context["instalments"]) == context["policy"]["premium"]
    assert context["policy"]["effective_date"] == dt.date(2026, 5, 1)


def test_sample_context_without_organisation_has_a_sample_orias() -> None:
    context = sample_context(None)
    assert len(context["organisation"]["orias_number"]) == 8
    assert context["organisation"]["name"]


def test_dates_and_money_in_french_and_english() -> None:
    context = sample_context(None)
    context["policy"].update(premium=Decimal("1234.5"), effective_date=dt.date(2026, 1, 5))
    body = (
        "<p>{{ policy.effective_date|date }}|{{ policy.effective_date|date('short') }}|"
        "{{ policy.premium|money }}|{{ policy.premium|money('USD') }}|"
        "{{ policy.premium|number(2) }}|{{ '2026-03-01'|date('dd MMM yyyy') }}</p>"
        "<p>{{ organisation.orias_number }}</p>"
    )
    french = render(body, "html", context, locale="fr").data.decode()
    english = render(body, "html", context, locale="en").data.decode()
    nbsp = "\u202f"  # Babel's narrow no-break space in French numbers
    assert (
        f"5 janvier 2026|05/01/2026|1{nbsp}234,50\xa0€|1{nbsp}234,50\xa0$US|1{nbsp}234,50|"
        "01 mars 2026" in french
    )
    assert "5 January 2026|05/01/2026|€1,234.50|US$1,234.50|1,234.50|01 Mar 2026" in english


def test_context_hash_is_stable_and_sensitive() -> None:
    context = sample_context(None, today=dt.date(2026, 1, 1))
    same = sample_context(None, today=dt.date(2026, 1, 1))
    reordered = dict(reversed(list(same.items())))
    assert context_sha256(context) == context_sha256(reordered)
    assert len(context_sha256(context)) == 64
    changed = sample_context(None, today=dt.date(2026, 1, 1))
    changed["policy"]["premium"] = Decimal("684.37")
    assert context_sha256(changed) != context_sha256(context)
    moved = sample_context(None, today=dt.date(2026, 1, 1))
    moved["instalments"][1]["due_date"] = dt.date(2026, 4, 2)
    assert context_sha256(moved) != context_sha256(context)
    # The hash is of canonical JSON: sorted keys, ISO dates, Decimals as strings, UTF-8.
    canonical = '{"a":"2026-01-02","b":"1.50","c":["é"]}'.encode()
    assert (
        context_sha256({"b": Decimal("1.50"), "a": dt.date(2026, 1, 2), "c": ["é"]})
        == hashlib.sha256(canonical).hexdigest()
    )


@pytest.mark.parametrize(
    ("prefix", "number", "extension", "expected"),
    [
        (
            "conditions-particulieres",
            "POL-2026-0042",
            "pdf",
            "conditions-particulieres-POL-2026-0042.pdf",
        ),
        ("avis-echeance", "AUTO/2026/7", "html", "avis-echeance-AUTO-2026-7.html"),
        ("rapport", None, "xlsx", "rapport-42.xlsx"),
        ("document", "Élan 2026 «x»", "PDF", "document-Elan-2026-x.pdf"),
        ("contrat", "../../etc/passwd", "pdf", "contrat-etc-passwd.pdf"),
        ("contrat", "...", "pdf", "contrat-42.pdf"),
        ("contrat", "POL", "p/d\\f", "contrat-POL.p-d-f"),
        ("../x", "POL", "pdf", "x-POL.pdf"),
    ],
)
def test_file_names(prefix: str, number, extension: str, expected: str) -> None:
    assert file_name_for(prefix, number, 42, extension) == expected


@pytest.mark.parametrize(
    ("name", "key", "kind", "expected"),
    [
        # Each built-in template by its own key: the avis PDF and the XLSX échéancier differ.
        ("Avis d'échéance", "avis_echeance", TemplateKind.notice, "avis-echeance"),
        ("Échéancier (tableur)", "echeancier", TemplateKind.notice, "echeancier"),
        (
            "Document d'entrée en relation (DER)",
            "document_entree_relation",
            "other",
            "document-entree-relation",
        ),
        (
            "Conditions particulières",
            "conditions_particulieres",
            TemplateKind.contract,
            "conditions-particulieres",
        ),
        # An agency's own template by its name.
        (
            "Lettre de résiliation (loi Hamon)",
            None,
            TemplateKind.other,
            "lettre-de-resiliation-loi-hamon",
        ),
        ("Relance_impayé.v2", None, TemplateKind.notice, "relance-impaye-v2"),
        ("« … »", None, TemplateKind.notice, "avis-echeance"),  # no letters: the kind's word
        ("A" * 80, None, TemplateKind.contract, "a" * 50),
    ],
)
def test_each_template_names_its_files(name: str, key, kind, expected: str) -> None:
    assert template_prefix(name, key, kind) == expected


def test_file_name_is_never_longer_than_120() -> None:
    name = file_name_for("avis-echeance", "X" * 40 + "é" * 300, 7, "pdf")
    assert len(name) <= 120 and name.startswith("avis-echeance-X") and name.endswith(".pdf")


# --- the current term and the coming renewal --------------------------------------------------


def test_the_context_has_the_current_term_and_the_coming_renewal(
    app, make_organisation, portfolio
) -> None:
    # portfolio: an auto contract of 1 Jan 2026 to 1 Jan 2027 at 420.50, paid annually.
    organisation_id = make_organisation()
    ids = portfolio(organisation_id, suffix="T")
    with app.app_context():
        context = policy_context(
            load(app, ids["policy"], organisation_id), today=dt.date(2026, 11, 20)
        )
    assert walk(context) == []
    term, renewal = context["term"], context["renewal"]
    assert (term["sequence"], term["start"], term["end"]) == (
        1,
        dt.date(2026, 1, 1),
        dt.date(2027, 1, 1),
    )
    assert term["premium"] == Decimal("420.50") and term["instalments"] == context["instalments"]
    assert [t["current"] for t in context["terms"]] == [True]
    assert renewal["echeance"] == renewal["start"] == dt.date(2027, 1, 1)
    assert renewal["end"] == dt.date(2028, 1, 1) and renewal["renewed"] is False
    assert renewal["premium"] == renewal["previous_premium"] == Decimal("420.50")
    assert [(i["due_date"], i["amount"]) for i in renewal["instalments"]] == [
        (dt.date(2027, 1, 1), Decimal("420.50"))
    ]
    # Not recorded as sent: the avis reads as sent on the render day, 19 days after 1 Nov.
    assert renewal["last_day_to_refuse"] == dt.date(2026, 11, 1)
    assert renewal["avis_sent_on"] == dt.date(2026, 11, 20)
    assert renewal["late"] is True and renewal["chatel_window_end"] == dt.date(2026, 12, 10)
    assert renewal["chatel_applies"] and renewal["annual"] and renewal["hamon"]
    assert renewal["health_ria"] is False


def test_the_recorded_avis_and_the_proposed_premium_drive_the_renewal(
    app, make_organisation, portfolio
) -> None:
    from app.models import PaymentFrequency as Frequency
    from app.services.renewals import cycles

    organisation_id = make_organisation()
    ids = portfolio(organisation_id, suffix="R")
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        policy.payment_frequency = Frequency.monthly
        cycle = cycles.cycle_for(policy)
        cycles.propose(cycle, proposed_premium=Decimal("1000.00"))
        cycles.record_notice(cycle, sent_on=dt.date(2026, 9, 1))
        db.session.commit()
        renewal = policy_context(
            load(app, ids["policy"], organisation_id), today=dt.date(2026, 12, 30)
        )["renewal"]
    assert renewal["avis_sent_on"] == dt.date(2026, 9, 1)
    assert renewal["late"] is False and renewal["chatel_window_end"] is None
    assert renewal["premium"] == Decimal("1000.00")
    amounts = [line["amount"] for line in renewal["instalments"]]
    # 1,000.00 in twelve: 83.33 each, the 0.04 left over on the first.
    assert amounts == [Decimal("83.37")] + [Decimal("83.33")] * 11
    assert sum(amounts) == Decimal("1000.00")


@pytest.mark.parametrize(
    ("changes", "chatel", "hamon", "ria"),
    [
        ({"use": "professional"}, False, False, False),
        ({"line_of_business": "health"}, True, False, True),
        ({"line_of_business": "home"}, True, True, False),
        ({"line_of_business": "life"}, False, False, False),
        ({"group_contract": True}, False, True, False),
        ({"tacit_renewal": False}, False, False, False),
    ],
)
def test_the_rules_module_says_which_rights_the_avis_recalls(
    app, make_organisation, portfolio, changes, chatel, hamon, ria
) -> None:
    from app.models import ContractUse, LineOfBusiness

    organisation_id = make_organisation()
    ids = portfolio(organisation_id, suffix="L")
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        for name, value in changes.items():
            if name == "use":
                value = ContractUse(value)
            elif name == "line_of_business":
                value = LineOfBusiness(value)
            setattr(policy, name, value)
        db.session.commit()
        renewal = policy_context(
            load(app, ids["policy"], organisation_id), today=dt.date(2026, 11, 20)
        )["renewal"]
    assert (renewal["chatel_applies"], renewal["hamon"], renewal["health_ria"]) == (
        chatel,
        hamon,
        ria,
    )
    if not chatel:
        assert renewal["late"] is False and renewal["chatel_window_end"] is None


def test_a_contract_renewed_ahead_bills_and_certifies_the_right_term(
    app, make_organisation, portfolio
) -> None:
    from app.models import OutputFormat
    from app.services.renewals import cycles
    from app.services.templates import BUILTINS
    from app.services.templates.builtin import builtin_body

    organisation_id = make_organisation()
    ids = portfolio(organisation_id, suffix="A")
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        cycle = cycles.cycle_for(policy)
        cycles.propose(cycle, proposed_premium=Decimal("500.00"))
        cycles.renew(cycle)  # renewed on 20 Dec 2026, before the 1 Jan 2027 échéance
        db.session.commit()
        policy = load(app, ids["policy"], organisation_id)
        before = policy_context(policy, today=dt.date(2026, 12, 20))
        after = policy_context(policy, today=dt.date(2027, 1, 5))
    # The row now spans two years; the documents still split one year's premium.
    assert before["policy"]["expiry_date"] == dt.date(2028, 1, 1)
    assert before["term"]["end"] == dt.date(2027, 1, 1)
    assert [i["amount"] for i in before["instalments"]] == [Decimal("420.50")]
    assert [(t["sequence"], t["current"]) for t in before["terms"]] == [(1, True), (2, False)]
    # The avis of 20 Dec announces the term that starts at that échéance, as renewed.
    renewal = before["renewal"]
    assert renewal["renewed"] and renewal["echeance"] == dt.date(2027, 1, 1)
    assert (renewal["start"], renewal["end"]) == (dt.date(2027, 1, 1), dt.date(2028, 1, 1))
    assert renewal["premium"] == Decimal("500.00")
    # Once in the new term, it is the current one, and the next échéance is projected.
    assert after["term"]["sequence"] == 2 and after["term"]["premium"] == Decimal("500.00")
    assert after["renewal"]["echeance"] == dt.date(2028, 1, 1)
    assert after["renewal"]["renewed"] is False

    attestation = next(b for b in BUILTINS if b.key == "attestation_assurance")
    html = render(builtin_body(attestation), OutputFormat.html, after).data.decode()
    assert "1 janvier 2027" in html and "1 janvier 2028" in html
    assert "1 janvier 2026" not in html  # not the contract's first day


def test_the_sample_has_a_term_and_a_renewal() -> None:
    context = sample_context(None, today=dt.date(2026, 5, 20))
    assert_contract_keys(context)
    renewal = context["renewal"]
    assert renewal["echeance"] == context["term"]["end"] == dt.date(2027, 5, 1)
    assert renewal["premium"] == Decimal("712.80") and renewal["hamon"]
    assert sum(line["amount"] for line in renewal["instalments"]) == Decimal("712.80")
