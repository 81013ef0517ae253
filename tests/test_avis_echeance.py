"""The avis d'échéance bills the coming term and states what the law asks, through the doors.

An avis sent on 7 Dec 2026 for a contract renewing on 10 Dec 2026 bills 10/12/2026–10/12/2027
(not the year that ends), at the proposed premium; Chatel, Hamon and santé follow the rules
module. The built-in template changed with a new version: an installation that had the
first one gets it at its next start, and documents already generated keep theirs.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AppUser,
    Client,
    ClientKind,
    Company,
    ContractUse,
    Document,
    LineOfBusiness,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    Template,
    TemplateVersion,
)
from app.services.renewals import cycles, notices
from app.services.templates import BUILTINS, load_builtin_templates
from app.services.templates.builtin import AUTHOR, FIRST_CHANGELOG, builtin_body
from tests.api_documents_support import generated
from tests.conftest import user_organisation

AVIS = next(builtin for builtin in BUILTINS if builtin.key == "avis_echeance")
SENT = dt.date(2026, 12, 7)


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


@pytest.fixture
def headers(manager, auth_headers):
    return auth_headers(manager)


@pytest.fixture
def agency(app, manager):
    with app.app_context():
        return user_organisation(app, manager)


def make_policy(
    app,
    organisation_id: int,
    number: str,
    *,
    line: LineOfBusiness = LineOfBusiness.auto,
    use: ContractUse = ContractUse.consumer,
    kind: ClientKind = ClientKind.person,
    premium: str = "1000.00",
    proposed: str | None = "1100.01",
) -> int:
    """A quarterly contract of 10 Dec 2025 renewing on 10 Dec 2026, its cycle proposed."""
    with app.app_context():
        company = Company(organisation_id=organisation_id, name="Mutuelle Rhône", code="MRA")
        client = Client(
            organisation_id=organisation_id,
            kind=kind,
            first_name="Camille",
            last_name="Dupont",
            company_name="Atelier Dupont" if kind is ClientKind.business else None,
        )
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number=number,
            client_id=client.id,
            company_id=company.id,
            line_of_business=line,
            status=PolicyStatus.active,
            effective_date=dt.date(2025, 12, 10),
            expiry_date=dt.date(2026, 12, 10),
            premium=Decimal(premium),
            payment_frequency=PaymentFrequency.quarterly,
            use=use,
        )
        db.session.add(policy)
        db.session.flush()
        cycle = cycles.cycle_for(policy)
        if proposed is not None:
            cycles.propose(cycle, proposed_premium=Decimal(proposed))
        db.session.commit()
        return policy.id


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def download(http, headers, document_id: int) -> bytes:
    response = http.get(f"/api/v1/document/{document_id}/download", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def send_avis(app, http, headers, manager, policy_id: int, sent_on: dt.date) -> str:
    """The avis of the policy's cycle, sent as the Échéances screen and API send it."""
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
        user = db.session.scalar(select(AppUser).where(AppUser.username == manager))
        cycle = cycles.cycle_for(db.session.get(Policy, policy_id))
        db.session.commit()
        _cycle, document = notices.send_avis(db.session, user, cycle.id, sent_on=sent_on)
        document_id = document.id
    return pdf_text(download(http, headers, document_id))


# --- what the avis says -----------------------------------------------------------------


def test_the_avis_bills_the_coming_term_at_the_proposed_premium(
    app, http, headers, manager, agency
):
    policy_id = make_policy(app, agency, "AUTO-2025-0001")
    text = send_avis(app, http, headers, manager, policy_id, SENT)
    assert "Date d'échéance 10 décembre 2026" in text
    assert "du 10 décembre 2026 au 10 décembre 2027" in text
    assert "10 décembre 2025" not in text  # the year that ends is not billed
    # 1,100.01 in four: the odd cent on the first instalment.
    assert "1 / 4 10 décembre 2026 275,01" in text
    for due in ("10 mars 2027", "10 juin 2027", "10 septembre 2027"):
        assert f"{due} 275,00" in text, due
    assert "1 000,00" in text.replace("\u202f", " ")  # the previous premium, for comparison
    assert "Date limite de dénonciation 10 octobre 2026" in text
    assert "le 7 décembre 2026" in text  # dated the day it is sent


def test_a_late_avis_states_the_twenty_day_window(app, http, headers, manager, agency):
    policy_id = make_policy(app, agency, "AUTO-2025-0002")
    text = send_avis(app, http, headers, manager, policy_id, SENT)
    # Sent after the last day to refuse (10 Oct): 20 days from the sending date.
    assert "L113-15-1" in text and "loi Chatel" in text
    assert "après cette date" in text
    assert "vingt jours suivant la date d'envoi de cet avis" in text
    assert "jusqu'au 27 décembre 2026 inclus" in text
    assert "cachet de la poste" in text


def test_an_avis_in_time_has_no_window(app, http, headers, manager, agency):
    policy_id = make_policy(app, agency, "AUTO-2025-0003")
    text = send_avis(app, http, headers, manager, policy_id, dt.date(2026, 9, 1))
    assert "loi Chatel" in text and "10 octobre 2026" in text
    assert "vingt jours" not in text
    assert "le 1 septembre 2026" in text or "le 1er septembre 2026" in text


def test_an_avis_sent_less_than_fifteen_days_before_the_last_day_says_so(
    app, http, headers, manager, agency
):
    policy_id = make_policy(app, agency, "AUTO-2025-0004")
    text = send_avis(app, http, headers, manager, policy_id, dt.date(2026, 10, 1))
    assert "moins de quinze jours avant cette date" in text
    assert "jusqu'au 21 octobre 2026 inclus" in text


@pytest.mark.parametrize(
    "use, kind",
    [(ContractUse.professional, ClientKind.person), (ContractUse.consumer, ClientKind.business)],
    ids=["professional-use", "legal-person"],
)
def test_a_professional_contract_has_no_chatel_mention(
    app, http, headers, manager, agency, use, kind
):
    policy_id = make_policy(
        app, agency, f"PRO-{use.value}-{kind.value}", line=LineOfBusiness.auto, use=use, kind=kind
    )
    text = send_avis(app, http, headers, manager, policy_id, SENT)
    assert "Chatel" not in text and "L113-15-1" not in text and "vingt jours" not in text
    assert "Hamon" not in text  # a consumer's right too
    # The échéance right (L113-12) and its last day stay.
    assert "L113-12" in text and "au plus tard le 10 octobre 2026" in text


@pytest.mark.parametrize("line", [LineOfBusiness.auto, LineOfBusiness.home])
def test_auto_and_home_recall_the_hamon_right(app, http, headers, manager, agency, line):
    policy_id = make_policy(app, agency, f"HAMON-{line.value}", line=line)
    text = send_avis(app, http, headers, manager, policy_id, SENT)
    assert "loi Hamon" in text and "L113-15-2" in text
    assert "un mois après que l'assureur en a reçu notification" in text
    assert "infra-annuelle" not in text


def test_sante_recalls_the_ria_right(app, http, headers, manager, agency):
    policy_id = make_policy(app, agency, "SANTE-2025-0001", line=LineOfBusiness.health)
    text = send_avis(app, http, headers, manager, policy_id, SENT)
    assert "infra-annuelle" in text and "2020-1438" in text and "L113-15-2" in text
    assert "Hamon" not in text
    assert "loi Chatel" in text  # a consumer's santé contract is tacitly renewed


def test_without_a_proposal_the_coming_term_keeps_the_current_premium(
    app, http, headers, manager, agency
):
    policy_id = make_policy(app, agency, "AUTO-2025-0005", premium="1000.02", proposed=None)
    text = send_avis(app, http, headers, manager, policy_id, SENT)
    assert "1 / 4 10 décembre 2026 250,02" in text and "10 mars 2027 250,00" in text
    assert "période précédente" not in text


# --- the new version reaches existing installations, old documents stay ----------------------


def install_first_revision(app) -> int:
    """The database as the release before this one left it: the avis at its first body."""
    with app.app_context():
        template = Template(
            organisation_id=None,
            name=AVIS.name,
            kind=AVIS.kind,
            output_format=AVIS.output_format,
            locale="fr",
            description=AVIS.description,
            builtin_key=AVIS.key,
        )
        db.session.add(template)
        db.session.flush()
        body = builtin_body(AVIS, 1)
        import hashlib

        version = TemplateVersion(
            template_id=template.id,
            number=1,
            body=body,
            changelog=FIRST_CHANGELOG,
            sha256=hashlib.sha256(body.encode()).hexdigest(),
            author_name=AUTHOR,
        )
        db.session.add(version)
        db.session.flush()
        template.published_version = version
        db.session.commit()
        return template.id


def versions(app, template_id: int) -> list[tuple[int, str | None, bool]]:
    with app.app_context():
        template = db.session.get(Template, template_id)
        return [
            (v.number, v.author_name, v.id == template.published_version_id)
            for v in template.versions
        ]


def test_an_upgrade_publishes_the_new_avis_and_old_documents_stay(
    app, http, headers, manager, agency
):
    template_id = install_first_revision(app)
    policy_id = make_policy(app, agency, "AUTO-2025-0010")
    old = generated(http, headers, template_id, policy_id)
    old_bytes = download(http, headers, old["id"])
    old_text = pdf_text(old_bytes)
    assert "Pour la période du 10 décembre 2025 au 10 décembre 2026" in old_text  # the bug

    # The upgrade: every start (run.py) and `flask monassurance load-templates` load them.
    result = app.test_cli_runner().invoke(args=["monassurance", "load-templates"])
    assert result.exit_code == 0, result.output
    assert versions(app, template_id) == [(1, AUTHOR, False), (2, AUTHOR, True)]
    with app.app_context():
        newest = db.session.get(Template, template_id).published_version
        assert newest.body == builtin_body(AVIS) and newest.changelog == AVIS.revisions[-1]

    new = generated(http, headers, template_id, policy_id)
    new_text = pdf_text(download(http, headers, new["id"]))
    assert "du 10 décembre 2026 au 10 décembre 2027" in new_text
    assert "10 décembre 2025" not in new_text

    # The first document is untouched, pinned to the version it was made with.
    assert download(http, headers, old["id"]) == old_bytes
    with app.app_context():
        pinned = {
            d.id: d.template_version.number
            for d in db.session.scalars(select(Document).where(Document.template_id == template_id))
        }
    assert pinned == {old["id"]: 1, new["id"]: 2}
    # And rendered again from its pinned version, it reads as it did.
    again = http.post(
        f"/api/v1/template/{template_id}/preview",
        json={"version": 1, "policy_id": policy_id, "output": "pdf"},
        headers=headers,
    )
    assert again.status_code == 200, again.get_data(as_text=True)
    assert "Pour la période du 10 décembre 2025 au 10 décembre 2026" in pdf_text(again.data)

    # A second start adds nothing.
    again = app.test_cli_runner().invoke(args=["monassurance", "load-templates"])
    assert "up to date" in again.output
    assert len(versions(app, template_id)) == 2


def test_an_operators_published_avis_is_kept_and_the_new_one_offered(app, make_user):
    from app.services import templates

    template_id = install_first_revision(app)
    with app.app_context():
        operator = db.session.scalar(
            select(AppUser).where(AppUser.username == make_user("SUPERADMIN"))
        )
        template = db.session.get(Template, template_id)
        own = template.published_version.body.replace("Avis d'échéance</h1>", "Échéance</h1>")
        templates.add_version(db.session, operator, template, body=own, changelog="Titre")
        templates.publish(db.session, operator, template, 2)
        db.session.commit()
        assert load_builtin_templates(db.session) >= 1
        db.session.commit()
        template = db.session.get(Template, template_id)
        offered = template.versions[-1]
        assert template.published_version.number == 2  # the operator's, still
        assert offered.number == 3 and offered.body == builtin_body(AVIS)
        assert offered.changelog.startswith(AVIS.revisions[-1])
        assert "Non publiée" in offered.changelog
        assert load_builtin_templates(db.session) == 0  # offered once
