"""The compliance page's advice sections: clients in a sale without a signed DER, and
contracts of the last twelve months that no signed FIC covers (L521-2, L521-4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.extensions import db
from app.models import (
    ComplianceDocument,
    ComplianceKind,
    ComplianceStatus,
    DeliveryMethod,
    LineOfBusiness,
    Proposal,
    Quote,
    QuoteStatus,
    SaleChannel,
)
from app.services.compliance import page
from tests.conftest import user_organisation
from tests.test_screens_support import page_text

MID_YEAR = dt.date(2026, 6, 1)  # the portfolio's contract starts on 2026-01-01


def _sections(organisation_id: int, today: dt.date) -> dict[str, page.Section]:
    return {s.key: s for s in page.compliance_page(db.session, organisation_id, today)}


def _signed(kind: ComplianceKind, client_id: int, organisation_id: int, proposal_id=None):
    return ComplianceDocument(
        organisation_id=organisation_id,
        kind=kind,
        client_id=client_id,
        proposal_id=proposal_id,
        status=ComplianceStatus.signed,
        sent_on=MID_YEAR,
        sent_by=DeliveryMethod.email,
        signed_on=MID_YEAR,
        signed_by=DeliveryMethod.email,
    )


def test_a_client_in_a_sale_is_listed_until_the_der_is_signed(app, make_user, portfolio):
    org = user_organisation(app, make_user("MANAGER"))
    ids = portfolio(org)
    with app.app_context():
        # Without a proposal the client is in no sale: not listed.
        assert _sections(org, MID_YEAR)["der"].rows == []
        proposal = Proposal(
            organisation_id=org,
            client_id=ids["client"],
            line_of_business=LineOfBusiness.auto,
            sale_channel=SaleChannel.distance,
            answers=[],
        )
        db.session.add(proposal)
        db.session.commit()
        der = _sections(org, MID_YEAR)["der"]
        assert [row.link for row in der.rows] == [("client", ids["client"])]
        # A DER generated but not signed does not count.
        db.session.add(
            ComplianceDocument(
                organisation_id=org, kind=ComplianceKind.der, client_id=ids["client"]
            )
        )
        db.session.commit()
        assert len(_sections(org, MID_YEAR)["der"].rows) == 1
        db.session.add(_signed(ComplianceKind.der, ids["client"], org))
        db.session.commit()
        assert _sections(org, MID_YEAR)["der"].rows == []


def test_a_recent_contract_is_listed_until_a_signed_fic_covers_it(app, make_user, portfolio):
    org = user_organisation(app, make_user("MANAGER"))
    ids = portfolio(org)
    other = user_organisation(app, make_user("MANAGER"))
    portfolio(other, suffix="2")  # another agency's contract is never listed here
    with app.app_context():
        # (today, listed): twelve months from 2026-01-01, the start day excluded after a year.
        for today, listed in (
            (MID_YEAR, True),
            (dt.date(2026, 12, 31), True),
            (dt.date(2027, 1, 1), False),
        ):
            fic = _sections(org, today)["fic"]
            links = [row.link for row in fic.rows]
            assert links == ([("policy", ids["policy"])] if listed else []), today
        proposal = Proposal(
            organisation_id=org,
            client_id=ids["client"],
            line_of_business=LineOfBusiness.auto,
            sale_channel=SaleChannel.in_person,
            answers=[],
        )
        db.session.add(proposal)
        db.session.flush()
        db.session.add(
            Quote(
                organisation_id=org,
                proposal_id=proposal.id,
                company_id=ids["company"],
                premium=Decimal("420.50"),
                status=QuoteStatus.accepted,
                policy_id=ids["policy"],
            )
        )
        db.session.commit()
        assert len(_sections(org, MID_YEAR)["fic"].rows) == 1  # the FIC is not signed yet
        db.session.add(_signed(ComplianceKind.fic, ids["client"], org, proposal.id))
        db.session.commit()
        assert _sections(org, MID_YEAR)["fic"].rows == []


def test_the_page_shows_the_advice_sections_in_french(app, http, make_user, login, portfolio):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    portfolio(org)
    login(manager)
    text = page_text(http.get("/compliance/"))
    assert "Clients sans DER signé" in text
    assert "Chaque client en cours de vente a signé le DER." in text
    assert "Contrats des douze derniers mois sans FIC signée" in text
