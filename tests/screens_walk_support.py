"""Helpers of the screen-wording tests: walk every screen a user reaches, read what it shows.

No tests here; tests/test_screens_words.py and tests/test_screens_empty_values.py use them.

``walk`` starts from the home page and follows the links of each page (menus, list
buttons, row links), one page per URL shape (/clientview/show/<n>), so a role visits
each list, show, add and edit screen it may reach once. ``visible_strings`` is what a
reader meets on a page: text outside scripts, styles and elements that declare their
own language, the labels screen readers
and tooltips give (aria-label, title, alt, placeholder, data-placeholder), and the
text of buttons written as inputs.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db

LABEL_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "data-placeholder")
# Not screens of ours to read: leaving, switching language, files, FAB's Swagger UI
# (Swagger's own English interface), the API.
SKIPPED = re.compile(
    r"^/(logout|lang/|static/|appbuilder/|api/|swagger/|d/|favicon)"
    r"|/(download|export|import_template)(/|$)"
)
MAX_PAGES = 200


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0  # inside <script>, <style> or <template>
        # Inside elements that declare their own language (the language menu's "English").
        self.foreign: list[str] = []
        self.strings: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style", "template"):
            self.hidden += 1
        if values.get("lang") and tag != "html":
            self.foreign.append(tag)
        if self.foreign:
            return
        for name in LABEL_ATTRIBUTES:
            if values.get(name):
                self.strings.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.strings.append(str(values["value"]))
        if tag == "a" and values.get("href"):
            self.links.append(html.unescape(str(values["href"])))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self.hidden:
            self.hidden -= 1
        if self.foreign and self.foreign[-1] == tag:
            self.foreign.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self.hidden and not self.foreign:
            self.strings.append(text)


def read_page(body: str) -> tuple[list[str], list[str]]:
    """(visible strings, link targets) of an HTML page."""
    reader = _Reader()
    reader.feed(body)
    reader.close()
    return reader.strings, reader.links


def visible_strings(response: Any) -> list[str]:
    return read_page(response.get_data(as_text=True))[0]


def shape(path: str) -> str:
    """/clientview/show/12 and /clientview/show/13 are one screen."""
    return re.sub(r"/\d+(?=/|$)", "/<n>", path.rstrip("/") or "/")


@dataclass
class Page:
    path: str
    strings: list[str]


def walk(http: FlaskClient, start: str = "/") -> dict[str, Page]:
    """Every screen reachable by links from ``start``: one page per URL shape, by shape."""
    pages: dict[str, Page] = {}
    queue = [start]
    seen: set[str] = set()
    while queue and len(pages) < MAX_PAGES:
        target = queue.pop(0)
        parts = urlsplit(target)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            continue
        path = parts.path
        if SKIPPED.search(path) or shape(path) in seen:
            continue
        seen.add(shape(path))
        response = http.get(target)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        strings, links = read_page(response.get_data(as_text=True))
        pages[shape(path)] = Page(target, strings)
        queue.extend(links)
    return pages


def reachable_screens(app: Flask, role: str) -> set[str]:
    """The list, show, add and edit screens a role holds, as URL shapes (/clientview/list)."""
    wanted = {"list": "list", "show": "show/<n>", "add": "add", "edit": "edit/<n>"}
    with app.app_context():
        sm = app.appbuilder.sm
        granted = {(pv.permission.name, pv.view_menu.name) for pv in sm.find_role(role).permissions}
        screens = set()
        for view in app.appbuilder.baseviews:
            if not hasattr(view, "datamodel"):
                continue  # not a model view
            for method, suffix in wanted.items():
                if f"{view.endpoint}.{method}" not in app.view_functions:
                    continue
                permission = (view.method_permission_name or {}).get(method, method)
                if (f"can_{permission}", view.class_permission_name) in granted:
                    screens.add(f"{view.route_base}/{suffix}")
        return screens


# --- the data every walk meets: rows with their optional fields left empty ----------


@dataclass(frozen=True)
class Sparse:
    organisation_id: int
    person_id: int  # an individual: no company name, SIREN, phone, address, birth date
    insurer_id: int  # no contact, e-mail or phone
    policy_id: int
    queued_document_id: int  # not rendered yet: no file name, size or engine
    job_id: int


def sparse_rows(app: Flask, organisation_id: int) -> Sparse:
    """Rows of ``organisation_id`` whose optional fields are empty (None in the database).

    Written outside a request, as a task or a seed script writes: their audit entries
    have no user and no IP address.
    """
    from app.models import (
        Client,
        Company,
        Complaint,
        ComplaintChannel,
        Document,
        DocumentStatus,
        Job,
        JobKind,
        JobStatus,
        LineOfBusiness,
        Mandate,
        Message,
        MessageStatus,
        NoticeKind,
        OutputFormat,
        Payment,
        PaymentMethod,
        Policy,
        PolicyStatus,
        PremiumNotice,
        Template,
    )
    from app.services.compliance.complaints import prepare
    from tests.dates_support import training_row
    from tests.documents_support import create_template

    template_id = create_template(app, organisation_id)
    with app.app_context():
        insurer = Company(organisation_id=organisation_id, name="Assureur Sobre", code="SOB")
        person = Client(organisation_id=organisation_id, first_name="Léa", last_name="Sansdétail")
        db.session.add_all([insurer, person])
        db.session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number="SOB-2026-001",
            client_id=person.id,
            company_id=insurer.id,
            line_of_business=LineOfBusiness.home,
            status=PolicyStatus.active,
            effective_date=dt.date(2026, 1, 1),
            expiry_date=dt.date(2027, 1, 1),
            premium=Decimal("300.00"),
        )
        db.session.add(policy)
        db.session.flush()
        job = Job(
            organisation_id=organisation_id,
            kind=JobKind.render,
            status=JobStatus.queued,
        )
        db.session.add(job)
        db.session.flush()
        document = Document(
            organisation_id=organisation_id,
            template_id=template_id,
            template_version_id=db.session.get(Template, template_id).published_version_id,
            policy_id=policy.id,
            job_id=job.id,
            format=OutputFormat.pdf,
            status=DocumentStatus.queued,
        )
        db.session.add(document)
        # A message held for approval: no reply-to, copy, HTML body nor server answer.
        db.session.add(
            Message(
                organisation_id=organisation_id,
                status=MessageStatus.awaiting_approval,
                message_id=f"<sparse.{organisation_id}@example.com>",
                from_address="Cabinet <cabinet@example.com>",
                to_addresses="lea@example.com",
                subject="Message sobre",
                body_text="Bonjour",
                policy_id=policy.id,
                attempts=0,
            )
        )
        # A one-off premium notice and a payment with nothing optional filled in.
        notice = PremiumNotice(
            organisation_id=organisation_id,
            policy_id=policy.id,
            number="SOB-2026-001/C-01",
            kind=NoticeKind.one_off,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2027, 1, 1),
            due_on=dt.date(2026, 1, 1),
            pay_by=dt.date(2026, 1, 11),
            amount_before_tax=Decimal("250.00"),
            taxes=Decimal("50.00"),
            fees=Decimal("0.00"),
            total=Decimal("300.00"),
        )
        payment = Payment(
            organisation_id=organisation_id,
            amount=Decimal("10.00"),
            received_on=dt.date(2026, 1, 5),
            method=PaymentMethod.cash,
        )
        mandate = Mandate(
            organisation_id=organisation_id,
            client_id=person.id,
            reference="SOB-MANDAT-1",
            iban="FR7630006000011234567890189",
            debtor_name="Léa Sansdétail",
            signed_on=dt.date(2026, 1, 2),
        )
        # A complaint just received: no contract, claim, acknowledgement, answer nor outcome.
        complaint = Complaint(
            organisation_id=organisation_id,
            received_on=dt.date(2026, 3, 2),
            channel=ComplaintChannel.phone,
            client_id=person.id,
            subject="Réclamation sobre",
        )
        db.session.add_all([notice, payment, mandate])
        prepare(db.session, complaint, None, dt.date(2026, 3, 2))
        # A training with no certificate reference nor certificate (of the agency's first
        # person: an agency made for a document test has nobody, hence no training).
        training = training_row(db.session, organisation_id, reference=None)
        if training.user_id is not None:
            db.session.add(training)
        # A claim with nothing optional: no declaration dates, no estimate, no expert.
        from app.services.claims.lifecycle import record_claim

        record_claim(
            db.session,
            policy,
            today=dt.date(2026, 2, 1),
            nature="other",
            occurred_on=dt.date(2026, 1, 20),
        )
        # The advice screens: a proposal with no recommendation nor reasons, its client's
        # DER only generated, a questionnaire of one line; a task category; a claim
        # checklist item for every line (no line of business) and no position given.
        from app.models import (
            ClaimChecklistItem,
            ClaimNature,
            CommissionRule,
            ComplianceDocument,
            ComplianceKind,
            NeedsQuestionnaire,
            Proposal,
            SaleChannel,
            TaskCategory,
        )

        db.session.add_all(
            [
                Proposal(
                    organisation_id=organisation_id,
                    client_id=person.id,
                    line_of_business=LineOfBusiness.home,
                    sale_channel=SaleChannel.in_person,
                    answers=[],
                ),
                ComplianceDocument(
                    organisation_id=organisation_id,
                    kind=ComplianceKind.der,
                    client_id=person.id,
                ),
                NeedsQuestionnaire(
                    organisation_id=organisation_id,
                    line_of_business=LineOfBusiness.home,
                    questions="Surface du logement ?",
                ),
                TaskCategory(organisation_id=organisation_id, name="Sobre"),
                # A commission rule on the insurer alone: no line, product, contract,
                # later years' rate, end, claw-back nor note.
                CommissionRule(
                    organisation_id=organisation_id,
                    company_id=insurer.id,
                    first_year_rate=Decimal("10.00"),
                    valid_from=dt.date(2026, 1, 1),
                ),
                ClaimChecklistItem(
                    organisation_id=organisation_id,
                    nature=ClaimNature.water_damage,
                    label="Pièce sobre",
                ),
            ]
        )
        db.session.commit()
        return Sparse(organisation_id, person.id, insurer.id, policy.id, document.id, job.id)


def all_strings(pages: dict[str, Page]) -> Iterator[tuple[str, str]]:
    """(page path, string) of every string of every page walked."""
    for page in pages.values():
        for string in page.strings:
            yield page.path, string
