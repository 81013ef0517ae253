"""Retention by anonymisation through `flask purge`: dry run and apply at the boundaries.

A prospect is due 3 years after its last contact, a former client 5 years after its last
contract's end (the agency's own periods, Organisation.retention_*): due on that day,
kept the day before. The dry run lists and changes nothing; --apply erases exactly the
clients listed, through the same erasure as the API, and records why.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    AuditLog,
    Client,
    Company,
    ComplianceDocument,
    ComplianceKind,
    ComplianceStatus,
    DeliveryMethod,
    LineOfBusiness,
    Organisation,
    Policy,
    PolicyStatus,
    Proposal,
    Quote,
    QuoteStatus,
)
from app.services.privacy.holds import years_after
from app.services.renewals.contracts import agency_today
from app.services.storage import open_store
from tests.purge_factory import using_store


@pytest.fixture
def store(app, tmp_path):
    with using_store(app, open_store(f"osfs://{tmp_path}")) as store:
        yield store


def purge(app, *args: str):
    return app.test_cli_runner().invoke(args=["purge", *args])


def today_of(app, organisation_id: int) -> dt.date:
    with app.app_context():
        return agency_today(db.session, organisation_id)


def prospect(app, organisation_id: int, name: str, last_contact: dt.date) -> int:
    with app.app_context():
        client = Client(organisation_id=organisation_id, last_name=name, email=f"{name}@ex.fr")
        db.session.add(client)
        db.session.commit()
        moment = dt.datetime.combine(last_contact, dt.time(12))
        db.session.execute(
            update(Client)
            .where(Client.id == client.id)
            .values(created_at=moment, updated_at=moment)
        )
        db.session.commit()
        return client.id


def former(app, organisation_id: int, name: str, ended: dt.date) -> int:
    client_id = prospect(app, organisation_id, name, ended - dt.timedelta(days=400))
    with app.app_context():
        company = db.session.scalar(
            select(Company).where(Company.organisation_id == organisation_id)
        ) or Company(organisation_id=organisation_id, name="Assureur", code="AS")
        db.session.add(company)
        db.session.flush()
        db.session.add(
            Policy(
                organisation_id=organisation_id,
                number=f"POL-{name}",
                client_id=client_id,
                company_id=company.id,
                line_of_business=LineOfBusiness.auto,
                status=PolicyStatus.expired,
                effective_date=ended - dt.timedelta(days=365),
                expiry_date=ended,
                premium=Decimal("100.00"),
            )
        )
        db.session.commit()
    return client_id


def erased(app, client_id: int) -> bool:
    with app.app_context():
        return db.session.get(Client, client_id).erased_at is not None


def test_dry_run_then_apply_anonymise_exactly_the_clients_due(app, store, make_organisation):
    org = make_organisation()
    today = today_of(app, org)
    due_prospect = prospect(app, org, "prospectdue", years_after(today, -3))
    kept_prospect = prospect(
        app, org, "prospectkept", years_after(today, -3) + dt.timedelta(days=1)
    )
    due_former = former(app, org, "formerdue", years_after(today, -5))
    kept_former = former(app, org, "formerkept", years_after(today, -5) + dt.timedelta(days=1))

    dry = purge(app, "--organisation-id", str(org))
    assert dry.exit_code == 0, dry.output
    assert f"client {due_prospect}: prospect" in dry.output
    assert f"client {due_former}: former client" in dry.output
    assert f"client {kept_prospect}:" not in dry.output
    assert f"client {kept_former}:" not in dry.output
    assert "2 client(s) anonymised" in dry.output
    assert not any(erased(app, c) for c in (due_prospect, due_former, kept_prospect, kept_former))

    applied = purge(app, "--apply", "--organisation-id", str(org))
    assert applied.exit_code == 0, applied.output
    assert erased(app, due_prospect) and erased(app, due_former)
    assert not erased(app, kept_prospect) and not erased(app, kept_former)
    with app.app_context():
        assert db.session.get(Client, due_prospect).email is None
        reasons = db.session.scalars(
            select(AuditLog.changes).where(AuditLog.action == "client.erased")
        ).all()
    assert len(reasons) == 2 and all(
        r["reason"].startswith("retention (purge run") for r in reasons
    )

    again = purge(app, "--apply", "--organisation-id", str(org))
    assert "0 client(s) anonymised" in again.output


def test_each_agency_uses_its_own_periods(app, store, make_organisation):
    strict, usual = make_organisation(), make_organisation()
    with app.app_context():
        db.session.get(Organisation, strict).retention_prospect_years = 1
        db.session.commit()
    two_years_ago = years_after(today_of(app, strict), -2)
    in_strict = prospect(app, strict, "strictone", two_years_ago)
    in_usual = prospect(app, usual, "usualone", two_years_ago)
    result = purge(app, "--apply")
    assert result.exit_code == 0, result.output
    assert erased(app, in_strict) and not erased(app, in_usual)


def test_a_running_contract_is_never_anonymised(app, store, make_organisation):
    org = make_organisation()
    client_id = former(app, org, "stillcovered", years_after(today_of(app, org), -8))
    with app.app_context():
        db.session.execute(update(Policy).values(status=PolicyStatus.active))
        db.session.commit()
    result = purge(app, "--apply", "--organisation-id", str(org))
    assert result.exit_code == 0 and f"client {client_id}" not in result.output
    assert not erased(app, client_id)


def test_the_operator_sets_an_agencys_periods_through_the_api(
    app, http, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    headers = auth_headers(make_user("SUPERADMIN"))
    path = f"/api/v1/organisation/{org}"
    shown = http.get(path, headers=headers).json["result"]
    assert (shown["retention_prospect_years"], shown["retention_contract_years"]) == (3, 5)
    changed = http.put(path, json={"retention_contract_years": 6}, headers=headers)
    assert changed.status_code == 200, changed.json
    refused = http.put(path, json={"retention_prospect_years": -1}, headers=headers)
    assert refused.status_code == 422
    with app.app_context():
        organisation = db.session.get(Organisation, org)
        assert (organisation.retention_contract_years, organisation.retention_prospect_years) == (
            6,
            3,
        )


def advice(app, organisation_id: int, client_id: int, proposed: dt.date, quoted: dt.date) -> None:
    """A proposal made on ``proposed`` whose quote last changed on ``quoted``."""
    with app.app_context():
        company = Company(
            organisation_id=organisation_id, name=f"Assureur {client_id}", code=f"Q{client_id}"
        )
        proposal = Proposal(
            organisation_id=organisation_id,
            client_id=client_id,
            line_of_business=LineOfBusiness.auto,
            answers=[],
        )
        db.session.add_all([company, proposal])
        db.session.flush()
        quote = Quote(
            organisation_id=organisation_id,
            proposal_id=proposal.id,
            company_id=company.id,
            premium=Decimal("480.00"),
            status=QuoteStatus.sent,
        )
        db.session.add(quote)
        db.session.commit()
        made = dt.datetime.combine(proposed, dt.time(12))
        for model, row_id, day in ((Proposal, proposal.id, proposed), (Quote, quote.id, quoted)):
            db.session.execute(
                update(model)
                .where(model.id == row_id)
                .values(created_at=made, updated_at=dt.datetime.combine(day, dt.time(12)))
            )
        db.session.commit()


def test_a_prospect_quoted_or_handed_a_der_recently_is_in_contact(app, store, make_organisation):
    """Its own row 4 years old, a prospect quoted last month or whose DER was signed last
    month is not due (the purge would anonymise it mid-sale); one whose proposal and quote
    are as old as its row is."""
    org = make_organisation()
    today = today_of(app, org)
    four_years_ago = years_after(today, -4)
    last_month = today - dt.timedelta(days=30)
    quoted = prospect(app, org, "quotedlately", four_years_ago)
    advice(app, org, quoted, proposed=four_years_ago, quoted=last_month)
    signed = prospect(app, org, "signedlately", four_years_ago)
    with app.app_context():
        der = ComplianceDocument(
            organisation_id=org,
            kind=ComplianceKind.der,
            client_id=signed,
            status=ComplianceStatus.signed,
            sent_on=last_month,
            sent_by=DeliveryMethod.by_hand,
            signed_on=last_month,
            signed_by=DeliveryMethod.by_hand,
        )
        db.session.add(der)
        db.session.commit()
        db.session.execute(
            update(ComplianceDocument)
            .where(ComplianceDocument.id == der.id)
            .values(updated_at=dt.datetime.combine(last_month, dt.time(12)))
        )
        db.session.commit()
    stale = prospect(app, org, "stalequote", four_years_ago)
    advice(app, org, stale, proposed=four_years_ago, quoted=four_years_ago)

    dry = purge(app, "--organisation-id", str(org))
    assert dry.exit_code == 0, dry.output
    assert f"client {stale}: prospect: last contact on {four_years_ago.isoformat()}" in dry.output
    assert f"client {quoted}:" not in dry.output
    assert f"client {signed}:" not in dry.output
    applied = purge(app, "--apply", "--organisation-id", str(org))
    assert applied.exit_code == 0, applied.output
    assert erased(app, stale) and not erased(app, quoted) and not erased(app, signed)
