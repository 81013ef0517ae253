"""The built-in document templates: loaded once, shared, and each a real document that
prints the policy, the client, the insurer and the agency's ORIAS number."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Client,
    ClientKind,
    Company,
    LineOfBusiness,
    Organisation,
    OutputFormat,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    Template,
    TemplateKind,
    TemplateVersion,
)
from app.services import demo
from app.services.rendering import load_policy_for_render, policy_context, render
from app.services.rendering.arrears import sample_arrears
from app.services.rendering.cancellations import sample_cancellation
from app.services.templates import BUILTINS, load_builtin_templates
from app.services.templates.builtin import builtin_body

HTML_BUILTINS = [
    b
    for b in BUILTINS
    if b.output_format is not OutputFormat.xlsx and b.kind is not TemplateKind.email
]
XLSX_BUILTINS = [b for b in BUILTINS if b.output_format is OutputFormat.xlsx]


def rows() -> list[tuple]:
    templates = db.session.scalars(select(Template).order_by(Template.builtin_key)).all()
    return [
        (t.id, t.builtin_key, t.name, t.published_version_id, [v.number for v in t.versions])
        for t in templates
    ]


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def policy_data(app, ctx):
    """A business client's quarterly policy at an agency with its full letterhead."""
    organisation = Organisation(
        name="Cabinet Durand Courtage", orias_number="07023456", **demo.LETTERHEAD
    )
    db.session.add(organisation)
    db.session.flush()
    insurer = Company(organisation_id=organisation.id, name="Garonne Prévoyance", code="GAR")
    client = Client(
        organisation_id=organisation.id,
        kind=ClientKind.business,
        first_name="Hélène",
        last_name="Lefèvre",
        company_name="Boulangerie Au Bon Pain",
        siren="732829320",
        address="4 place de l'Église",
        postal_code="21000",
        city="Dijon",
    )
    db.session.add_all([insurer, client])
    db.session.flush()
    policy = Policy(
        organisation_id=organisation.id,
        number="CDC-2026-00042",
        client_id=client.id,
        company_id=insurer.id,
        line_of_business=LineOfBusiness.professional,
        status=PolicyStatus.active,
        effective_date=dt.date(2026, 3, 1),
        expiry_date=dt.date(2027, 3, 1),
        premium=Decimal("2480.00"),
        payment_frequency=PaymentFrequency.quarterly,
    )
    db.session.add(policy)
    db.session.commit()
    loaded = load_policy_for_render(db.session, policy.id, organisation.id)
    return policy_context(loaded, today=dt.date(2026, 2, 10))


# --- loading -------------------------------------------------------------------------------


def test_loading_twice_adds_them_once(ctx):
    assert load_builtin_templates(db.session) == len(BUILTINS)
    db.session.commit()
    first = rows()
    assert load_builtin_templates(db.session) == 0
    db.session.commit()
    assert rows() == first
    assert len(first) == len(BUILTINS) == 13


def test_builtins_are_shared_french_and_published_at_version_one(ctx):
    load_builtin_templates(db.session)
    db.session.commit()
    for builtin in BUILTINS:
        template = db.session.scalar(select(Template).where(Template.builtin_key == builtin.key))
        assert template.shared and template.locale == "fr"
        assert (template.kind, template.output_format) == (builtin.kind, builtin.output_format)
        published = template.published_version
        assert published.number == 1 and published.author_name == "MonAssurance"
        assert published.author_id is None
        assert published.body == builtin_body(builtin)
        assert published.sha256 == hashlib.sha256(published.body.encode()).hexdigest()


def test_loading_never_overwrites_what_an_operator_changed(app, ctx, make_user):
    from app.models import AppUser
    from app.services import templates

    load_builtin_templates(db.session)
    db.session.commit()
    operator = db.session.scalar(select(AppUser).where(AppUser.username == make_user("SUPERADMIN")))
    contract = db.session.scalar(
        select(Template).where(Template.builtin_key == "conditions_particulieres")
    )
    changed = contract.published_version.body.replace("Conditions particulières</h1>", "CP</h1>")
    templates.add_version(db.session, operator, contract, body=changed, changelog="Titre court")
    templates.publish(db.session, operator, contract, 2)
    db.session.commit()
    before = rows()
    assert load_builtin_templates(db.session) == 0
    db.session.commit()
    assert rows() == before
    assert contract.published_version.number == 2


def test_an_operators_shared_template_of_the_same_name_is_left_alone(ctx):
    db.session.add(
        Template(name="Avis d'échéance", kind="notice", output_format="pdf", organisation_id=None)
    )
    db.session.commit()
    assert load_builtin_templates(db.session) == len(BUILTINS) - 1
    db.session.commit()
    named = db.session.scalar(
        select(func.count()).select_from(Template).where(Template.name == "Avis d'échéance")
    )
    assert named == 1


def test_ensure_builtin_templates_commits_and_the_cli_reports(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["monassurance", "load-templates"])
    assert result.exit_code == 0, result.output
    assert f"{len(BUILTINS)} built-in template(s) added" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(TemplateVersion)) == len(BUILTINS)
    again = runner.invoke(args=["monassurance", "load-templates"])
    assert "up to date" in again.output


def test_demo_data_comes_with_its_letterhead_and_the_templates(ctx):
    summary = demo.load_demo_data(db.session, today=dt.date(2026, 2, 10))
    organisation = db.session.get(Organisation, summary.organisation_id)
    assert organisation.city == "Lyon" and "Médiation de l'Assurance" in organisation.mediator
    assert organisation.complaints_contact and organisation.email
    assert db.session.scalar(select(func.count()).select_from(Template)) == len(BUILTINS)


# --- the documents -------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def with_cancellation(data: dict) -> dict:
    """The data with a recorded cancellation, which the cancellation letter acknowledges,
    and unpaid arrears, which the mise en demeure names."""
    return {
        **data,
        "cancellation": sample_cancellation(data["today"], data["locale"]),
        "arrears": sample_arrears(data["today"], Decimal("2480.00")),
    }


@pytest.mark.parametrize("builtin", HTML_BUILTINS, ids=lambda b: b.key)
def test_every_builtin_prints_to_pdf_with_the_essentials(policy_data, builtin):
    data = with_cancellation(policy_data)
    rendered = render(builtin_body(builtin), OutputFormat.pdf, data, engine="weasyprint")
    assert rendered.engine == "weasyprint" and rendered.data.startswith(b"%PDF")
    text = pdf_text(rendered.data)
    for expected in (
        "CDC-2026-00042",
        "Boulangerie Au Bon Pain",
        "Garonne Prévoyance",
        "07023456",
        "Cabinet Durand Courtage",
        "Page 1 /",  # the footer's page numbers
    ):
        assert expected in text, (builtin.key, expected)
    assert "www.orias.fr" in text


def test_contract_shows_the_instalments_and_the_termination_rights(policy_data):
    contract = next(b for b in BUILTINS if b.key == "conditions_particulieres")
    text = pdf_text(render(builtin_body(contract), OutputFormat.pdf, policy_data).data)
    assert "620,00" in text  # 2,480.00 a year, paid quarterly
    assert "loi Chatel" in text and "loi Hamon" in text and "conditions générales" in text
    assert "SIREN 732829320" in text


def test_der_names_complaints_mediation_and_the_supervisor(policy_data):
    der = next(b for b in BUILTINS if b.key == "document_entree_relation")
    text = pdf_text(render(builtin_body(der), OutputFormat.pdf, policy_data).data)
    assert "dix jours ouvrables" in text and "deux mois" in text
    assert "Service réclamations" in text
    assert "La Médiation de l'Assurance" in text and "TSA 50110" in text
    assert "4 place de Budapest, CS 92459, 75436 Paris Cedex 09" in text


def test_contract_prints_with_wkhtmltopdf_too(policy_data):
    contract = next(b for b in BUILTINS if b.key == "conditions_particulieres")
    rendered = render(builtin_body(contract), OutputFormat.pdf, policy_data, engine="pdfkit")
    assert rendered.engine == "pdfkit"
    text = pdf_text(rendered.data)
    assert "CDC-2026-00042" in text and "07023456" in text


def test_the_xlsx_schedule_reads_back(policy_data):
    from openpyxl import load_workbook

    (schedule,) = XLSX_BUILTINS
    rendered = render(builtin_body(schedule), OutputFormat.xlsx, policy_data)
    assert rendered.extension == "xlsx"
    sheet = load_workbook(io.BytesIO(rendered.data)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "CDC-2026-00042" in values
    assert "07023456" in " ".join(str(v) for v in values if v is not None)
    amounts = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    assert amounts.count(620) == 4
    assert 2480 in amounts  # the total


def test_first_start_without_demo_data_still_offers_the_builtins(monkeypatch, tmp_path):
    from sqlalchemy import create_engine

    import run
    from tests.processes import backing_services
    from tests.test_run import use_environment

    with backing_services(redis=False) as services:
        use_environment(
            monkeypatch, tmp_path, ADMIN_PASSWORD="a long chosen passphrase", DEMO_DATA="false"
        )
        for name, value in services.items():
            monkeypatch.setenv(name, value)
        settings = run.read_settings()
        assert run.bootstrap(settings).demo_policies is None
        run.bootstrap(settings)  # a second start adds nothing
        url = services.get("DATABASE_URL", f"sqlite:///{tmp_path / 'monassurance.db'}")
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                keys = connection.scalars(select(Template.builtin_key)).all()
                published = connection.scalar(
                    select(func.count())
                    .select_from(Template)
                    .where(Template.published_version_id.is_not(None))
                )
                organisations = connection.scalar(select(func.count()).select_from(Organisation))
        finally:
            engine.dispose()
    assert sorted(keys) == sorted(b.key for b in BUILTINS)
    assert published == len(BUILTINS)
    assert organisations == 0  # no demo agency


# --- revisions -------------------------------------------------------------------------------


def test_every_revision_of_every_builtin_has_its_body_and_compiles():
    from app.services.rendering import check_template
    from app.services.templates.builtin import HISTORY_DIR

    kept = set()
    for builtin in BUILTINS:
        bodies = [builtin_body(builtin, n) for n in range(1, builtin.revision + 1)]
        assert len(set(bodies)) == len(bodies), builtin.key  # each revision changed something
        for body in bodies:
            check_template(body, builtin.output_format)
        kept |= {f"{builtin.key}.{n}." for n in range(1, builtin.revision)}
        assert all(len(change) <= 500 for change in builtin.revisions)
        with pytest.raises(ValueError):
            builtin_body(builtin, builtin.revision + 1)
    # No history file is left over from a revision that is not declared.
    stray = [p.name for p in HISTORY_DIR.iterdir() if not any(p.name.startswith(k) for k in kept)]
    assert stray == []


def test_a_body_changed_in_a_release_reaches_an_existing_installation(ctx):
    from app.services.templates.builtin import AUTHOR, UPDATED_CHANGELOG

    contract = next(b for b in BUILTINS if b.key == "conditions_particulieres")
    old = builtin_body(contract).replace("un fractionnement", "une fractionnement")
    template = Template(
        name=contract.name,
        kind=contract.kind,
        output_format=contract.output_format,
        organisation_id=None,
        builtin_key=contract.key,
    )
    db.session.add(template)
    db.session.flush()
    first = TemplateVersion(
        template_id=template.id,
        number=1,
        body=old,
        sha256=hashlib.sha256(old.encode()).hexdigest(),
        author_name=AUTHOR,
    )
    db.session.add(first)
    db.session.flush()
    template.published_version = first
    db.session.commit()
    assert load_builtin_templates(db.session) == len(BUILTINS)  # 5 added, 1 updated
    db.session.commit()
    assert [v.number for v in template.versions] == [1, 2]
    assert template.published_version.body == builtin_body(contract)
    assert template.published_version.changelog == UPDATED_CHANGELOG
    assert load_builtin_templates(db.session) == 0
