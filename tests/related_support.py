"""Two agencies owning a row of every model, for the related-values scope tests.

No tests here: tests/test_related_scope.py walks the doors over this world.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Allocation,
    AppUser,
    AuditLog,
    Claim,
    ClaimNature,
    Client,
    Company,
    Complaint,
    ComplaintChannel,
    Document,
    DocumentStatus,
    Job,
    JobKind,
    JobStatus,
    Organisation,
    OutputFormat,
    Payment,
    Policy,
    PremiumNotice,
    PurgeRun,
    Template,
    TemplateKind,
    TemplateVersion,
)

# In every name agency B owns: no page or answer seen by agency A may contain it.
MARK = "Zorglub"
STAFF = ("USER", "MANAGER", "ADMIN")


@dataclass
class Agency:
    organisation_id: int
    users: dict[str, str] = field(default_factory=dict)  # role -> username
    rows: dict[type, set[int]] = field(default_factory=dict)  # model -> ids

    def first(self, model: type) -> int:
        return min(self.rows[model])


def build_agency(
    app: Flask, make_user: Any, portfolio: Any, organisation_id: int, suffix: str
) -> Agency:
    """An agency with a user per staff role and one row of every organisation-owned model."""
    agency = Agency(organisation_id)
    for role in STAFF:
        agency.users[role] = make_user(
            role, organisation_id=organisation_id, username=f"{suffix.lower()}_{role.lower()}"
        )
    ids = portfolio(organisation_id, suffix)
    with app.app_context():
        users = db.session.query(AppUser).filter(AppUser.organisation_id == organisation_id).all()
        for user in users:  # the names FAB shows in a user select
            user.first_name, user.last_name = suffix, f"{user.last_name} {suffix}"
        owner = users[0]
        template = Template(
            organisation_id=organisation_id,
            name=f"Modèle {suffix}",
            kind=TemplateKind.contract,
            output_format=OutputFormat.html,
        )
        db.session.add(template)
        db.session.flush()
        version = _version(template.id, f"<p>{suffix}</p>")
        job = Job(
            organisation_id=organisation_id,
            owner_id=owner.id,
            kind=JobKind.batch_render,
            status=JobStatus.succeeded,
        )
        db.session.add_all([version, job])
        db.session.flush()
        template.published_version_id = version.id
        document = Document(
            organisation_id=organisation_id,
            template_id=template.id,
            template_version_id=version.id,
            policy_id=ids["policy"],
            job_id=job.id,
            created_by_id=owner.id,
            format=OutputFormat.html,
            status=DocumentStatus.ready,
            file_name=f"contrat-{suffix}.html",
            media_type="text/html",
        )
        audit = AuditLog(
            organisation_id=organisation_id,
            user_id=owner.id,
            username=owner.username,
            action="update",
            object_type="Client",
            object_id=str(ids["client"]),
        )
        run = PurgeRun(
            trigger="screen", organisation_id=organisation_id, actor_name=f"Purge {suffix}"
        )
        db.session.add_all([document, audit, run])
        db.session.commit()
        notice, payment = premium_rows(organisation_id, ids["policy"], suffix)
        claim, complaint = compliance_rows(organisation_id, ids, suffix)
        agency.rows = {
            Organisation: {organisation_id},
            AppUser: {user.id for user in users},
            Company: {ids["company"]},
            Client: {ids["client"]},
            Policy: {ids["policy"]},
            Template: {template.id},
            TemplateVersion: {version.id},
            Job: {job.id},
            Document: {document.id},
            AuditLog: {audit.id},
            PurgeRun: {run.id},
            PremiumNotice: {notice.id},
            Payment: {payment.id},
            Allocation: {allocation.id for allocation in payment.allocations},
            Claim: {claim.id},
            Complaint: {complaint.id},
        }
    return agency


def compliance_rows(organisation_id: int, ids: dict[str, int], suffix: str) -> tuple[Any, Any]:
    """A claim on the contract, and the client's complaint about it (the Réclamations screen)."""
    import datetime as dt

    from app.services.compliance.complaints import prepare

    claim = Claim(
        organisation_id=organisation_id,
        number=f"SIN-{suffix}",
        policy_id=ids["policy"],
        client_id=ids["client"],
        nature=ClaimNature.water_damage,
        occurred_on=dt.date(2026, 3, 1),
        known_on=dt.date(2026, 3, 1),
        declaration_deadline=dt.date(2026, 3, 6),
        prescription_on=dt.date(2028, 3, 1),
    )
    db.session.add(claim)
    db.session.flush()
    complaint = Complaint(
        organisation_id=organisation_id,
        received_on=dt.date(2026, 3, 2),
        channel=ComplaintChannel.letter,
        client_id=ids["client"],
        claim_id=claim.id,
        subject=f"Indemnité tardive {suffix}",
    )
    prepare(db.session, complaint, None, dt.date(2026, 3, 2))
    db.session.commit()
    return claim, complaint


def premium_rows(organisation_id: int, policy_id: int, suffix: str) -> tuple[Any, Any]:
    """The contract's first notice, and a cheque paying part of it (its allocation)."""
    import datetime as dt

    from app.services.premiums import issuing, payments

    day = dt.date(2026, 1, 5)
    issuing.issue_due(db.session, policy_id=policy_id, until=day, today=day)
    notice = db.session.scalars(
        select(PremiumNotice).where(PremiumNotice.policy_id == policy_id)
    ).one()
    payment = payments.record_payment(
        db.session,
        organisation_id,
        amount="10.00",
        received_on=day,
        method="cheque",
        today=day,
        allocations=[(notice.id, "10.00")],
        payer=f"Payeur {suffix}",
        reference=f"CHQ {suffix}",
    )
    db.session.commit()
    return notice, payment


def shared_template(app: Flask) -> int:
    """A template shared with every agency (organisation NULL): everyone may pick it."""
    with app.app_context():
        template = Template(
            organisation_id=None,
            name="Modèle partagé",
            kind=TemplateKind.attestation,
            output_format=OutputFormat.html,
        )
        db.session.add(template)
        db.session.flush()
        db.session.add(_version(template.id, "<p>partagé</p>"))
        db.session.commit()
        return template.id


def _version(template_id: int, body: str) -> TemplateVersion:
    return TemplateVersion(
        template_id=template_id,
        number=1,
        body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        author_name="tests",
    )


SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
NAME = re.compile(r'\bname="([^"]*)"')
OPTION = re.compile(r'<option\b[^>]*\bvalue="([^"]*)"', re.S)


def select_options(page: str) -> dict[str, list[str]]:
    """Each <select>'s name -> the values of its options (FAB's filters prefix _flt_<n>_)."""
    selects: dict[str, list[str]] = {}
    for attributes, body in SELECT.findall(page):
        name = NAME.search(attributes)
        key = re.sub(r"^_flt_\d+_", "", html.unescape(name.group(1))) if name else ""
        selects.setdefault(key, []).extend(OPTION.findall(body))
    return selects
