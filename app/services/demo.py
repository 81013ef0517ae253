"""The demo portfolio loaded on first run: one brokerage, its insurers, clients and policies.

The agency gets a full letterhead (address, contacts, complaints service and
mediator), and the shared built-in document templates are loaded with it, so
its policies can be turned into documents at once.

The data is made by a seeded random generator, so two loads on the same day give
the same rows. Dates are relative to `today` so the portfolio always looks
current: expired policies lie in the past, some active ones expire within 30,
60 and 90 days, some contracts are in their second year (renewed at their échéance,
same number, two terms: a year old, Hamon opens for auto and home) and a few expired
ones were replaced by another insurer's contract (a new number). The contracts due within
the agency's lead time have their renewal cycles open, as the daily task leaves them:
among those due within 30 days, a few avis went out in time, one went out late (its
Chatel window open) and the rest await theirs, so the Échéances screen has work to show.
Rows go through the models' validators like any other input.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Client,
    ClientKind,
    Company,
    LineOfBusiness,
    Mandate,
    NoticeChannel,
    Organisation,
    PaymentFrequency,
    PaymentMethod,
    Policy,
    PolicyStatus,
    PremiumNotice,
    RenewalCycle,
)
from app.services.advice.demo import add_demo_advice
from app.services.claims.demo import add_demo_claims
from app.services.commissions.demo import (
    add_demo_collections,
    add_demo_rules,
    add_demo_statement_and_bordereau,
)
from app.services.compliance.demo import add_demo_complaints
from app.services.premiums.issuing import issue_due
from app.services.premiums.payments import record_payment
from app.services.renewals.contracts import facts_for
from app.services.renewals.cycles import open_due_cycles, propose, record_notice
from app.services.renewals.rules import chatel_window
from app.services.renewals.terms import next_term
from app.services.tasks.defaults import install_defaults
from app.services.tasks.engine import apply_rules
from app.services.templates import load_builtin_templates

SEED = 20240601
ORGANISATION_NAME = "Cabinet Durand Courtage"
ORIAS_NUMBER = "07023456"
POLICY_PREFIX = "CDC"
# The letterhead printed on the agency's documents. The mediator is the
# insurance sector's consumer mediation body, whose postal address is public.
LETTERHEAD = {
    "address": "18 rue de la République",
    "postal_code": "69002",
    "city": "Lyon",
    "phone": "04 72 41 08 30",
    "email": "contact@durand-courtage.example.com",
    "complaints_contact": (
        "Cabinet Durand Courtage — Service réclamations\n"
        "18 rue de la République, 69002 Lyon\n"
        "reclamations@durand-courtage.example.com — 04 72 41 08 39"
    ),
    "mediator": "La Médiation de l'Assurance\nTSA 50110\n75441 Paris Cedex 09",
}
PERSON_COUNT = 42
BUSINESS_COUNT = 8
CLIENT_COUNT = PERSON_COUNT + BUSINESS_COUNT

# How the 200 policies are spread over statuses and dates (see _policy_plan).
RENEWED = 12  # in their second term: renewed at their échéance, same number
REPLACED = 4  # expired, each replaced by another insurer's contract (renewal_of)
EXPIRED_NOT_RENEWED = 8
EXPIRING_IN = {30: 10, 60: 10, 90: 10}  # active, expiring within N days (after the previous N)
DRAFT = 10
SUSPENDED = 6
CANCELLED = 10
ACTIVE_LATER = 116
# Renewal cycles due within 30 days: avis sent in time, then one sent late; the rest wait.
AVIS_IN_TIME = 3
AVIS_LATE = 1
PROPOSED_INCREASE = Decimal("1.04")  # the insurers' proposed premiums, for a few cycles
# The agency as SEPA creditor and one client's account (test identifiers, valid checksums).
DEMO_CREDITOR_IDENTIFIER = "FR72ZZZ123456"
DEMO_CREDITOR_IBAN = "FR7630006000011234567890189"
DEMO_CREDITOR_BIC = "AGRIFRPP"
DEMO_DEBTOR_IBAN = (
    "FR7610107001011234567890129"  # the insurers' proposed premiums, for a few cycles
)
POLICY_COUNT = (
    RENEWED
    + 2 * REPLACED
    + EXPIRED_NOT_RENEWED
    + sum(EXPIRING_IN.values())
    + DRAFT
    + SUSPENDED
    + CANCELLED
    + ACTIVE_LATER
)

INSURERS = (
    ("Atlantique Assurances", "ATL", "Sophie Le Gall", "partenaires@atlantique.example.com"),
    ("Mutuelle des Trois Vallées", "MTV", "Marc Perrin", "courtage@mtv.example.org"),
    ("Garonne Prévoyance", "GAR", "Claire Fabre", "apporteurs@garonne.example.net"),
)

FIRST_NAMES = (
    "Jeanne", "Camille", "Louise", "Chloé", "Manon", "Inès", "Léa", "Élise", "Margaux",
    "Nathalie", "Isabelle", "Sylvie", "Catherine", "Hélène", "Agnès", "Brigitte", "Émilie",
    "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Thomas", "Nicolas", "Julien",
    "Philippe", "Pierre", "François", "Michel", "Laurent", "Olivier", "Stéphane", "Benoît",
    "Mathieu", "Antoine", "Étienne", "Yannick", "Rémi", "Bernard",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
    "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
)  # fmt: skip
BUSINESS_NAMES = (
    "Boulangerie Au Bon Pain",
    "Garage des Tilleuls",
    "Menuiserie Lemoine et Fils",
    "Pharmacie du Marché",
    "Transports Rivière",
    "Cabinet d'Architecture Ortega",
    "Restaurant La Table d'Hôte",
    "Plomberie Chauffage Vasseur",
)
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta",
    "rue des Lilas", "place de l'Église", "rue du Moulin", "chemin des Vignes",
    "allée des Tilleuls", "rue Pasteur", "avenue de la Gare", "rue de la Paix",
    "impasse des Acacias", "rue Nationale", "quai des Chartrons", "rue du Général de Gaulle",
)  # fmt: skip
# Real postal codes with their towns.
TOWNS = (
    ("75011", "Paris"), ("75015", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"),
    ("31000", "Toulouse"), ("33000", "Bordeaux"), ("44000", "Nantes"), ("59000", "Lille"),
    ("67000", "Strasbourg"), ("34000", "Montpellier"), ("35000", "Rennes"), ("06000", "Nice"),
    ("21000", "Dijon"), ("37000", "Tours"), ("49000", "Angers"), ("76000", "Rouen"),
    ("87000", "Limoges"), ("63000", "Clermont-Ferrand"), ("38000", "Grenoble"),
    ("29200", "Brest"), ("64000", "Pau"), ("17000", "La Rochelle"), ("80000", "Amiens"),
    ("51100", "Reims"), ("45000", "Orléans"), ("25000", "Besançon"), ("86000", "Poitiers"),
    ("56000", "Vannes"), ("74000", "Annecy"), ("84000", "Avignon"), ("14000", "Caen"),
)  # fmt: skip
MAIL_DOMAINS = ("example.com", "example.org", "example.net")

PERSON_LINES = (
    (LineOfBusiness.auto, 30),
    (LineOfBusiness.home, 28),
    (LineOfBusiness.health, 16),
    (LineOfBusiness.life, 9),
    (LineOfBusiness.liability, 9),
    (LineOfBusiness.travel, 8),
)
BUSINESS_LINES = (
    (LineOfBusiness.professional, 45),
    (LineOfBusiness.liability, 30),
    (LineOfBusiness.auto, 25),
)
# Yearly premium bounds in euros, by line of business.
PREMIUM_RANGE = {
    LineOfBusiness.auto: (320, 1250),
    LineOfBusiness.home: (140, 620),
    LineOfBusiness.health: (580, 2400),
    LineOfBusiness.life: (1200, 6000),
    LineOfBusiness.liability: (80, 450),
    LineOfBusiness.professional: (900, 5200),
    LineOfBusiness.travel: (45, 190),
}
FREQUENCIES = {
    LineOfBusiness.health: PaymentFrequency.monthly,
    LineOfBusiness.life: PaymentFrequency.monthly,
    LineOfBusiness.travel: PaymentFrequency.annual,
}


@dataclass(frozen=True)
class DemoSummary:
    organisation_id: int
    companies: int
    clients: int
    policies: int


def demo_organisation_id(session: Session) -> int | None:
    """The id of the demo organisation, if it was loaded."""
    return session.scalar(select(Organisation.id).where(Organisation.orias_number == ORIAS_NUMBER))


def database_is_empty(session: Session) -> bool:
    """True when no organisation exists yet (a fresh install)."""
    return not session.scalar(select(func.count()).select_from(Organisation))


def ensure_builtin_templates(session: Session) -> int:
    """Add the missing built-in templates, and new versions of changed ones, and commit.

    Every start, demo data or not. Idempotent: a revision already loaded is not added again
    (app/services/templates/builtin.py).
    """
    added = load_builtin_templates(session)
    if added:
        session.commit()
    return added


def load_demo_data(session: Session, today: dt.date | None = None) -> DemoSummary | None:
    """Create the demo organisation and its portfolio; None if it already exists.

    Commits once at the end, so an interrupted load leaves nothing behind.
    """
    if demo_organisation_id(session) is not None:
        return None
    today = today or dt.date.today()
    rng = random.Random(SEED)  # noqa: S311 (reproducible demo data, not a secret)
    organisation = Organisation(name=ORGANISATION_NAME, orias_number=ORIAS_NUMBER, **LETTERHEAD)
    session.add(organisation)
    session.flush()
    companies = [
        Company(
            organisation_id=organisation.id,
            name=name,
            code=code,
            contact_name=contact,
            email=email,
            phone=_phone(rng, landline=True),
        )
        for name, code, contact, email in INSURERS
    ]
    clients = _clients(rng, organisation.id, today)
    session.add_all(companies + clients)
    session.flush()
    policies = _policies(rng, organisation.id, companies, clients, today, session)
    _renewal_cycles(session, organisation.id, today)
    # The complaints register with each of its states (app/services/compliance/demo.py).
    add_demo_complaints(session, organisation.id, today)
    # Commissions negotiated with each insurer, valid for the whole portfolio's history.
    add_demo_rules(session, organisation.id, _years_before(today, 10))
    load_builtin_templates(session)
    install_defaults(session, organisation.id)
    # A prospect's proposal, its quotes, DER and FIC (the advice duty, app/services/advice).
    add_demo_advice(session, organisation.id, companies, today)
    session.commit()
    # The first morning's runs at once: the premium notices falling due are issued, and
    # "Mes tâches" lists the renewals to review.
    issue_due(session, organisation_id=organisation.id, today=today)
    _direct_debit_and_payment(session, organisation, today)
    # Last month's premiums collected for one insurer: a bordereau to remit, commissions due.
    add_demo_collections(session, organisation.id, today)
    add_demo_statement_and_bordereau(session, organisation.id, today)
    add_demo_claims(session, organisation.id, today)
    session.commit()
    apply_rules(session, organisation_id=organisation.id, today=today)
    return DemoSummary(organisation.id, len(companies), len(clients), policies)


def _direct_debit_and_payment(session: Session, organisation: Organisation, today: dt.date) -> None:
    """The agency debits one client's contracts under a SEPA mandate (so a month's debits
    can be tried), and another client has paid one notice by transfer."""
    organisation.sepa_creditor_identifier = DEMO_CREDITOR_IDENTIFIER
    organisation.sepa_creditor_iban = DEMO_CREDITOR_IBAN
    organisation.sepa_creditor_bic = DEMO_CREDITOR_BIC
    notices = session.scalars(
        select(PremiumNotice)
        .where(PremiumNotice.organisation_id == organisation.id)
        .order_by(PremiumNotice.due_on, PremiumNotice.id)
    ).all()
    if len(notices) < 2:
        return
    debited = notices[-1].policy
    mandate = Mandate(
        organisation_id=organisation.id,
        client_id=debited.client_id,
        reference=f"{POLICY_PREFIX}-MANDAT-0001",
        iban=DEMO_DEBTOR_IBAN,
        debtor_name=debited.client.display_name[:70],
        signed_on=debited.effective_date,
    )
    session.add(mandate)
    session.flush()
    for policy in debited.client.policies:
        policy.mandate_id = mandate.id
    paid = notices[0]
    record_payment(
        session,
        organisation.id,
        amount=paid.balance,
        received_on=min(today, paid.due_on),
        method=PaymentMethod.transfer,
        reference="VIR DEMO 0001",
        client_id=paid.policy.client_id,
        today=today,
        allocations=[(paid.id, paid.balance)],
    )


def _clients(rng: random.Random, organisation_id: int, today: dt.date) -> list[Client]:
    clients = []
    used_names: set[tuple[str, str]] = set()
    for _ in range(PERSON_COUNT):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        while (first, last) in used_names:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        used_names.add((first, last))
        postal_code, city = rng.choice(TOWNS)
        clients.append(
            Client(
                organisation_id=organisation_id,
                kind=ClientKind.person,
                first_name=first,
                last_name=last,
                email=f"{_ascii(first)}.{_ascii(last)}@{rng.choice(MAIL_DOMAINS)}",
                phone=_phone(rng, landline=False),
                address=_street(rng),
                postal_code=postal_code,
                city=city,
                birth_date=today - dt.timedelta(days=rng.randint(19 * 365, 82 * 365)),
            )
        )
    for name in BUSINESS_NAMES[:BUSINESS_COUNT]:
        postal_code, city = rng.choice(TOWNS)
        manager = rng.choice(LAST_NAMES)
        clients.append(
            Client(
                organisation_id=organisation_id,
                kind=ClientKind.business,
                first_name=rng.choice(FIRST_NAMES),
                last_name=manager,
                company_name=name,
                siren=_siren(rng),
                email=f"contact@{_ascii(name).replace('.', '')[:30]}.example.com",
                phone=_phone(rng, landline=True),
                address=_street(rng),
                postal_code=postal_code,
                city=city,
            )
        )
    return clients


@dataclass(frozen=True)
class _Slot:
    """One planned policy: its status and dates."""

    status: PolicyStatus
    effective: dt.date
    expiry: dt.date
    renews: int | None = None  # index in the plan of the expired policy it replaces
    renewed: bool = False  # in its second term (the first ended on ``expiry``)


def _policy_plan(rng: random.Random, today: dt.date) -> list[_Slot]:
    def yearly(expiry: dt.date, status: PolicyStatus) -> _Slot:
        return _Slot(status, _years_before(expiry, 1), expiry)

    plan: list[_Slot] = []
    for _ in range(RENEWED):
        first_end = today - dt.timedelta(days=rng.randint(5, 300))
        plan.append(_Slot(PolicyStatus.active, _years_before(first_end, 1), first_end, None, True))
    for _ in range(REPLACED):
        expired = yearly(today - dt.timedelta(days=rng.randint(5, 300)), PolicyStatus.expired)
        plan.append(expired)
        plan.append(
            _Slot(
                PolicyStatus.active, expired.expiry, _years_after(expired.expiry, 1), len(plan) - 1
            )
        )
    for _ in range(EXPIRED_NOT_RENEWED):
        plan.append(yearly(today - dt.timedelta(days=rng.randint(30, 900)), PolicyStatus.expired))
    lower = 1
    for days, count in EXPIRING_IN.items():
        for _ in range(count):
            plan.append(
                yearly(today + dt.timedelta(days=rng.randint(lower, days)), PolicyStatus.active)
            )
        lower = days + 1
    for _ in range(ACTIVE_LATER):
        expiry = today + dt.timedelta(days=rng.randint(lower, 364))
        plan.append(yearly(expiry, PolicyStatus.active))
    for _ in range(DRAFT):
        effective = today + dt.timedelta(days=rng.randint(3, 60))
        plan.append(_Slot(PolicyStatus.draft, effective, _years_after(effective, 1)))
    for status, count in ((PolicyStatus.suspended, SUSPENDED), (PolicyStatus.cancelled, CANCELLED)):
        for _ in range(count):
            plan.append(yearly(today + dt.timedelta(days=rng.randint(-120, 300)), status))
    return plan


def _policies(
    rng: random.Random,
    organisation_id: int,
    companies: list[Company],
    clients: list[Client],
    today: dt.date,
    session: Session,
) -> int:
    plan = _policy_plan(rng, today)
    # Every client holds at least one policy; the rest go to random clients.
    holders = [clients[i % len(clients)] for i in range(len(clients))]
    holders += [rng.choice(clients) for _ in range(len(plan) - len(holders))]
    rng.shuffle(holders)
    made: list[Policy] = []
    for index, slot in enumerate(plan):
        if slot.renews is not None:
            previous = made[slot.renews]
            client, line = previous.client, previous.line_of_business
            # Replaced by another insurer's contract: the reason it has a new number.
            company = rng.choice([c for c in companies if c is not previous.company])
            premium = _renewed_premium(rng, previous.premium)
        else:
            client = holders[index]
            company = rng.choice(companies)
            lines = BUSINESS_LINES if client.kind == ClientKind.business else PERSON_LINES
            line = rng.choices([lob for lob, _ in lines], weights=[w for _, w in lines])[0]
            low, high = PREMIUM_RANGE[line]
            premium = Decimal(rng.randint(low * 100, high * 100)) / 100
        policy = Policy(
            organisation_id=organisation_id,
            number=f"{POLICY_PREFIX}-{slot.effective.year}-{index + 1:05d}",
            client=client,
            company=company,
            line_of_business=line,
            status=slot.status,
            effective_date=slot.effective,
            expiry_date=slot.expiry,
            premium=premium,
            currency="EUR",
            payment_frequency=FREQUENCIES.get(line, _frequency(rng)),
            renewal_of=made[slot.renews] if slot.renews is not None else None,
        )
        policy.check_invariants()
        if slot.renewed:  # its first year is over: the second term, at an indexed premium
            next_term(policy, _renewed_premium(rng, premium))
        session.add(policy)
        made.append(policy)
    session.flush()
    return len(made)


def _renewal_cycles(session: Session, organisation_id: int, today: dt.date) -> None:
    """Open the cycles due on the demo's ``today`` and record the avis history above."""
    # The flush opened those due on the real today; the demo's may be another day (tests).
    open_due_cycles(session, organisation_id=organisation_id, today=today)
    cycles = session.scalars(
        select(RenewalCycle)
        .where(
            RenewalCycle.organisation_id == organisation_id,
            RenewalCycle.echeance.between(today, today + dt.timedelta(days=30)),
        )
        .order_by(RenewalCycle.echeance, RenewalCycle.id)
    ).all()
    sent: list[tuple[RenewalCycle, dt.date]] = [
        # Three weeks before the last day to refuse: Chatel asks for 15 days at least.
        (cycle, cycle.last_day_to_refuse - dt.timedelta(days=21))
        for cycle in cycles[:AVIS_IN_TIME]
    ]
    late = [
        (cycle, min(today, cycle.last_day_to_refuse + dt.timedelta(days=5)))
        for cycle in cycles[AVIS_IN_TIME:]
    ]
    # After the last day: a consumer's contract gives its client 20 days to refuse
    # (L113-15-1); a business's has no such window, so the late one is a consumer's.
    sent += [
        (cycle, day)
        for cycle, day in late
        if chatel_window(facts_for(cycle.policy), day, cycle.echeance).applies
    ][:AVIS_LATE]
    for cycle, day in sent:
        record_notice(cycle, sent_on=day, channel=NoticeChannel.post)
        proposed = (cycle.previous_premium * PROPOSED_INCREASE).quantize(Decimal("0.01"))
        propose(cycle, proposed_premium=proposed)
    session.flush()


def _renewed_premium(rng: random.Random, previous: Decimal) -> Decimal:
    """Renewals usually cost a little more (indexation), sometimes a little less."""
    factor = Decimal(rng.randint(970, 1060)) / 1000
    return (previous * factor).quantize(Decimal("0.01"))


def _frequency(rng: random.Random) -> PaymentFrequency:
    return rng.choices(
        [PaymentFrequency.annual, PaymentFrequency.monthly, PaymentFrequency.quarterly],
        weights=[60, 30, 10],
    )[0]


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _years_before(day: dt.date, years: int) -> dt.date:
    return _years_after(day, -years)


def _street(rng: random.Random) -> str:
    return f"{rng.randint(1, 120)} {rng.choice(STREETS)}"


def _phone(rng: random.Random, *, landline: bool) -> str:
    prefix = rng.choice(("01", "02", "03", "04", "05")) if landline else rng.choice(("06", "07"))
    pairs = " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
    return f"{prefix} {pairs}"


def _siren(rng: random.Random) -> str:
    """A 9-digit SIREN whose Luhn checksum is valid, like real ones."""
    body = [rng.randint(0, 9) for _ in range(8)]
    for check in range(10):
        digits = [*body, check]
        total = 0
        for position, digit in enumerate(reversed(digits)):
            doubled = digit * 2 if position % 2 else digit
            total += doubled - 9 if doubled > 9 else doubled
        if total % 10 == 0:
            return "".join(map(str, digits))
    raise AssertionError("unreachable: one check digit always satisfies Luhn")


def _ascii(text: str) -> str:
    """'Lefèvre' -> 'lefevre', 'd'Hôte' -> 'dhote', for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch in "-.")
