"""Template authoring service (app/services/templates): scope, versions, publishing,
preview and diff, on real models (SQLite, and PostgreSQL in the second leg)."""

from __future__ import annotations

import io
import re
import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    AppUser,
    AuditLog,
    Document,
    OutputFormat,
    Template,
    TemplateKind,
    TemplateVersion,
)
from app.models.base import ModelValidationError
from app.models.template import TemplateVersionImmutableError
from app.services import templates
from app.services.errors import ConflictError, ForbiddenError, NotFoundError
from app.services.templates import authoring
from tests.conftest import TEST_DATABASE_URL

BODY = (
    "<h1>{{ policy.number }}</h1>\n<p>{{ client.display_name }}</p>\n<p>{{ organisation.name }}</p>"
)


@pytest.fixture
def people(app, make_organisation, make_user):
    """Two agencies A and B, their managers, a plain user of A and the platform operator."""
    a, b = make_organisation("Cabinet A"), make_organisation("Cabinet B")
    return {
        "a": a,
        "b": b,
        "manager_a": make_user("MANAGER", a),
        "manager_b": make_user("MANAGER", b),
        "user_a": make_user("USER", a),
        "operator": make_user("SUPERADMIN", a),
    }


@pytest.fixture
def ctx(app):
    with app.app_context(), force_locale("en"):
        yield
        db.session.rollback()


def user(username: str) -> AppUser:
    return db.session.scalar(select(AppUser).where(AppUser.username == username))


def new_template(username: str, name: str = "Contrat", **fields) -> Template:
    fields = {"kind": "contract", "output_format": "html", **fields}
    template = templates.create_template(db.session, user(username), name=name, **fields)
    db.session.commit()
    return template


def version(username: str, template: Template, body: str = BODY, changelog: str | None = None):
    made = templates.add_version(
        db.session, user(username), template, body=body, changelog=changelog
    )
    db.session.commit()
    return made


def visible_names(username: str) -> set[str]:
    return {t.name for t in templates.templates_query(db.session, user(username))}


# --- scope -------------------------------------------------------------------------------


def test_agency_sees_its_templates_and_shared_ones_never_another_agencys(people, ctx):
    new_template(people["manager_a"], "Contrat A")
    other = new_template(people["manager_b"], "Contrat B")
    new_template(people["operator"], "Commun", shared=True)
    assert visible_names(people["manager_a"]) == {"Contrat A", "Commun"}
    assert visible_names(people["user_a"]) == {"Contrat A", "Commun"}
    assert visible_names(people["manager_b"]) == {"Contrat B", "Commun"}
    assert visible_names(people["operator"]) == {"Contrat A", "Contrat B", "Commun"}
    assert templates.visible_template(db.session, user(people["manager_a"]), other.id) is None
    assert templates.visible_template(db.session, user(people["manager_b"]), other.id) is other
    for unknown in (2**40, 0, "1", True):
        assert templates.visible_template(db.session, user(people["operator"]), unknown) is None


def test_manager_cannot_create_or_write_a_shared_template_but_superadmin_can(people, ctx):
    with pytest.raises(ForbiddenError):
        templates.create_template(
            db.session,
            user(people["manager_a"]),
            name="Commun",
            kind="notice",
            output_format="pdf",
            shared=True,
        )
    shared = new_template(people["operator"], "Commun", shared=True)
    assert shared.organisation_id is None
    assert not templates.may_write(user(people["manager_a"]), shared)
    assert templates.may_write(user(people["operator"]), shared)
    with pytest.raises(ForbiddenError):
        templates.add_version(
            db.session, user(people["manager_a"]), shared, body=BODY, changelog=None
        )
    assert version(people["operator"], shared).number == 1
    with pytest.raises(ForbiddenError):
        templates.publish(db.session, user(people["manager_a"]), shared, 1)


def test_manager_cannot_touch_another_agencys_template(people, ctx):
    other = new_template(people["manager_b"], "Contrat B")
    version(people["manager_b"], other)
    manager_a = user(people["manager_a"])
    assert not templates.may_write(manager_a, other)
    with pytest.raises(NotFoundError):
        templates.add_version(db.session, manager_a, other, body=BODY, changelog=None)
    with pytest.raises(NotFoundError):
        templates.publish(db.session, manager_a, other, 1)
    with pytest.raises(NotFoundError):
        templates.preview(db.session, manager_a, other)


def test_create_template_reports_every_field_error_at_once(people, ctx):
    with pytest.raises(ModelValidationError) as refused:
        templates.create_template(
            db.session,
            user(people["manager_a"]),
            name="  ",
            kind="poem",
            output_format="docx",
            locale="de",
            description="x" * 2001,
        )
    assert set(refused.value.errors) == {"name", "kind", "output_format", "locale", "description"}


def test_template_names_are_unique_per_organisation_whatever_the_case(people, ctx):
    new_template(people["manager_a"], "Avis d'échéance")
    with pytest.raises(ModelValidationError) as refused:
        templates.create_template(
            db.session,
            user(people["manager_a"]),
            name=" AVIS D'ÉCHÉANCE ",
            kind="notice",
            output_format="pdf",
        )
    assert set(refused.value.errors) == {"name"}
    db.session.rollback()
    # Another agency, or the shared shelf, may use the same name.
    assert new_template(people["manager_b"], "Avis d'échéance").organisation_id == people["b"]
    assert new_template(people["operator"], "Avis d'échéance", shared=True).shared


def test_create_template_keeps_the_users_organisation_and_author(people, ctx):
    template = new_template(
        people["manager_a"], "Attestation", kind=TemplateKind.attestation, output_format="pdf"
    )
    assert template.organisation_id == people["a"]
    assert template.kind is TemplateKind.attestation
    assert template.output_format is OutputFormat.pdf
    assert template.created_by_id == user(people["manager_a"]).id
    assert template.published_version_id is None


# --- versions ------------------------------------------------------------------------------


def test_versions_are_numbered_hashed_and_signed_by_their_author(people, ctx):
    template = new_template(people["manager_a"])
    first = version(people["manager_a"], template, changelog="  Première version ")
    second = version(people["manager_a"], template, BODY + "\n<p>Merci</p>")
    assert (first.number, second.number) == (1, 2)
    assert first.changelog == "Première version"
    assert second.changelog is None
    assert re.fullmatch(r"[0-9a-f]{64}", first.sha256) and first.sha256 != second.sha256
    import hashlib

    assert first.sha256 == hashlib.sha256(BODY.encode()).hexdigest()
    author = user(people["manager_a"])
    assert first.author_id == author.id
    assert first.author_name == "Test Manager"
    # Each agency's templates count from 1.
    other = new_template(people["manager_b"], "Contrat B")
    assert version(people["manager_b"], other).number == 1


def test_a_saved_version_cannot_be_changed_through_the_orm(people, ctx):
    template = new_template(people["manager_a"])
    saved = version(people["manager_a"], template)
    saved.body = "<p>changed behind the author's back</p>"
    with pytest.raises(TemplateVersionImmutableError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(TemplateVersion, saved.id).body == BODY


def test_syntax_error_is_refused_with_its_line(people, ctx):
    template = new_template(people["manager_a"])
    body = "<h1>{{ policy.number }}</h1>\n<p>ok</p>\n<p>{{ client.display_name }</p>\n"
    with pytest.raises(ModelValidationError) as refused:
        templates.add_version(
            db.session, user(people["manager_a"]), template, body=body, changelog=None
        )
    message = refused.value.errors["body"]
    assert message.startswith("Line 3: "), message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(TemplateVersion)) == 0


def test_unclosed_block_names_a_line_too(people, ctx):
    template = new_template(people["manager_a"])
    body = "<ul>\n{% for i in instalments %}\n<li>{{ i.amount }}</li>\n</ul>\n"
    with pytest.raises(ModelValidationError) as refused:
        templates.add_version(
            db.session, user(people["manager_a"]), template, body=body, changelog=None
        )
    assert re.match(r"^Line \d+: ", refused.value.errors["body"]), refused.value.errors


@pytest.mark.parametrize(
    ("body", "changelog", "fields"),
    [
        ("   \n ", None, {"body"}),
        (BODY, "x" * 501, {"changelog"}),
        ("{{ oops", "y" * 501, {"body", "changelog"}),
    ],
)
def test_invalid_version_input_is_refused_field_by_field(people, ctx, body, changelog, fields):
    template = new_template(people["manager_a"])
    with pytest.raises(ModelValidationError) as refused:
        templates.add_version(
            db.session, user(people["manager_a"]), template, body=body, changelog=changelog
        )
    assert set(refused.value.errors) == fields


def test_a_duplicate_number_from_a_concurrent_save_answers_conflict(people, ctx, monkeypatch):
    template = new_template(people["manager_a"])
    version(people["manager_a"], template)
    # As if another save had taken number 1 between our read and our write.
    monkeypatch.setattr(authoring, "next_number", lambda session, template: 1)
    with pytest.raises(ConflictError) as refused:
        templates.add_version(
            db.session, user(people["manager_a"]), template, body=BODY, changelog=None
        )
    assert refused.value.status == 409
    db.session.rollback()
    assert [v.number for v in db.session.get(Template, template.id).versions] == [1]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks: PostgreSQL only")
def test_concurrent_saves_wait_for_each_other_and_take_consecutive_numbers(app, people, ctx):
    template_id = new_template(people["manager_a"]).id
    username = people["manager_a"]
    numbers: list[int] = []

    def save(session: Session) -> int:
        author = session.scalar(select(AppUser).where(AppUser.username == username))
        template = session.get(Template, template_id)
        return templates.add_version(session, author, template, body=BODY, changelog=None).number

    def second_save() -> None:
        with app.app_context(), Session(db.engine) as session:
            numbers.append(save(session))
            session.commit()

    with Session(db.engine) as first:
        numbers.append(save(first))  # holds the template's row lock until it commits
        other = threading.Thread(target=second_save)
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive(), "the second save should wait for the first one's lock"
        first.commit()
    other.join(timeout=10)
    assert numbers == [1, 2]


def test_an_xlsx_template_accepts_a_sheet_description_and_refuses_bad_json(people, ctx):
    template = new_template(people["manager_a"], "Échéancier", output_format="xlsx")
    with pytest.raises(ModelValidationError) as refused:
        templates.add_version(
            db.session, user(people["manager_a"]), template, body='{"sheets": [', changelog=None
        )
    assert "body" in refused.value.errors
    db.session.rollback()
    assert version(people["manager_a"], template, sheet_body()).number == 1


# --- publishing ----------------------------------------------------------------------------


def test_publish_switches_the_published_version_and_keeps_the_older_ones(people, ctx):
    template = new_template(people["manager_a"])
    first = version(people["manager_a"], template)
    second = version(people["manager_a"], template, BODY + "\n<p>v2</p>")
    assert templates.publish(db.session, user(people["manager_a"]), template, 1) is first
    db.session.commit()
    assert template.published_version_id == first.id
    # A document made from version 1 keeps it when version 2 is published.
    document = Document(
        organisation_id=people["a"],
        template_id=template.id,
        template_version_id=first.id,
        format=OutputFormat.html,
    )
    db.session.add(document)
    db.session.commit()
    templates.publish(db.session, user(people["manager_a"]), template, 2)
    db.session.commit()
    db.session.expire_all()
    template = db.session.get(Template, template.id)
    assert template.published_version_id == second.id
    assert [v.number for v in template.versions] == [1, 2]
    assert db.session.get(TemplateVersion, first.id).body == BODY
    assert db.session.get(Document, document.id).template_version_id == first.id
    publications = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "publish", AuditLog.object_type == "Template")
        .order_by(AuditLog.id)
    ).all()
    assert [row.changes["version"] for row in publications] == [[None, 1], [1, 2]]
    assert {row.organisation_id for row in publications} == {people["a"]}


@pytest.mark.parametrize("number", [3, 0, -1, "1", None, True])
def test_publishing_an_unknown_version_is_a_field_error(people, ctx, number):
    template = new_template(people["manager_a"])
    version(people["manager_a"], template)
    with pytest.raises(ModelValidationError) as refused:
        templates.publish(db.session, user(people["manager_a"]), template, number)
    assert set(refused.value.errors) == {"version"}


# --- preview -------------------------------------------------------------------------------


def test_preview_with_sample_data_uses_the_users_agency(people, ctx):
    template = new_template(people["manager_a"])
    version(people["manager_a"], template)
    shown = templates.preview(db.session, user(people["user_a"]), template)
    assert shown.media_type.startswith("text/html")
    assert "Cabinet A" in shown.data.decode()
    pdf = templates.preview(db.session, user(people["user_a"]), template, output="pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.extension == "pdf"


def test_preview_with_a_policy_of_the_agency_and_never_another(people, ctx, portfolio):
    mine = portfolio(people["a"], "A")
    theirs = portfolio(people["b"], "B")
    template = new_template(people["manager_a"])
    version(people["manager_a"], template)
    shown = templates.preview(
        db.session, user(people["user_a"]), template, policy_id=mine["policy"]
    ).data.decode()
    assert "POL-A" in shown and "Jeanne MartinA" in shown
    with pytest.raises(NotFoundError) as refused:
        templates.preview(db.session, user(people["user_a"]), template, policy_id=theirs["policy"])
    assert refused.value.status == 404
    for unknown in (2**40, 0, -1, "1", True):
        with pytest.raises(NotFoundError):
            templates.preview(db.session, user(people["user_a"]), template, policy_id=unknown)


def test_preview_picks_the_published_version_else_the_latest(people, ctx):
    template = new_template(people["manager_a"])
    with pytest.raises(ModelValidationError) as refused:
        templates.preview(db.session, user(people["manager_a"]), template)
    assert set(refused.value.errors) == {"version"}
    version(people["manager_a"], template, "<p>one</p>")
    version(people["manager_a"], template, "<p>two</p>")
    assert b"two" in templates.preview(db.session, user(people["manager_a"]), template).data
    templates.publish(db.session, user(people["manager_a"]), template, 1)
    db.session.commit()
    assert b"one" in templates.preview(db.session, user(people["manager_a"]), template).data
    chosen = templates.preview(db.session, user(people["manager_a"]), template, version=2)
    assert b"two" in chosen.data


def test_preview_turns_a_render_error_into_a_field_error(people, ctx):
    template = new_template(people["manager_a"])
    version(people["manager_a"], template, "<p>{{ policy.number|money('EURO') }}</p>")
    with pytest.raises(ModelValidationError) as refused:
        templates.preview(db.session, user(people["manager_a"]), template)
    assert set(refused.value.errors) == {"body"}


def test_preview_refuses_an_output_the_template_cannot_give(people, ctx):
    template = new_template(people["manager_a"])
    version(people["manager_a"], template)
    with pytest.raises(ModelValidationError) as refused:
        templates.preview(db.session, user(people["manager_a"]), template, output="xlsx")
    assert set(refused.value.errors) == {"output"}


def test_xlsx_template_previews_as_a_workbook_or_as_html_tables(people, ctx, portfolio):
    from openpyxl import load_workbook

    ids = portfolio(people["a"], "X")
    template = new_template(people["manager_a"], "Échéancier", output_format="xlsx")
    version(people["manager_a"], template, sheet_body())
    manager = user(people["manager_a"])
    workbook = templates.preview(
        db.session, manager, template, policy_id=ids["policy"], output="xlsx"
    )
    assert workbook.extension == "xlsx"
    values = [
        cell
        for row in load_workbook(io.BytesIO(workbook.data)).active.iter_rows(values_only=True)
        for cell in row
    ]
    assert "POL-X" in values
    page = templates.preview(db.session, manager, template, policy_id=ids["policy"])
    assert page.media_type.startswith("text/html")
    assert "<table>" in page.data.decode() and "POL-X" in page.data.decode()
    with pytest.raises(ModelValidationError):
        templates.preview(db.session, manager, template, output="pdf")


def test_a_workbook_shown_as_html_reads_every_row_whatever_its_dimension_says(ctx):
    """The HTML preview reads the workbook back: its declared range must not cut rows or columns."""
    from openpyxl import Workbook

    from app.services.templates.preview import workbook_as_html
    from tests.import_support import with_dimension

    workbook = Workbook()
    for number in range(1, 6):
        workbook.active.append([f"A{number}", f"B{number}", f"C{number}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = workbook_as_html(with_dimension(buffer.getvalue(), "B2:B3"), title="t").data.decode()
    assert all(f"<td>{col}{row}</td>" in page for col in "ABC" for row in range(1, 6)), page


# --- diff ----------------------------------------------------------------------------------


def test_diff_rows_show_two_versions_side_by_side(people, ctx):
    template = new_template(people["manager_a"])
    version(people["manager_a"], template, "a\nb\nc\nd")
    version(people["manager_a"], template, "a\nB\nc\ne\nf")
    rows = [
        (r.tag, r.left_number, r.left_text, r.right_number, r.right_text)
        for r in templates.diff_rows(template, 1, 2)
    ]
    assert rows == [
        ("equal", 1, "a", 1, "a"),
        ("replace", 2, "b", 2, "B"),
        ("equal", 3, "c", 3, "c"),
        ("replace", 4, "d", 4, "e"),
        ("insert", None, None, 5, "f"),
    ]
    backwards = templates.diff_rows(template, 2, 1)
    assert backwards[-1].tag == "delete" and backwards[-1].left_text == "f"
    assert backwards[-1].as_dict()["right_number"] is None
    assert all(r.tag == "equal" for r in templates.diff_rows(template, 1, 1))


def test_diff_of_unknown_versions_is_a_field_error(people, ctx):
    template = new_template(people["manager_a"])
    version(people["manager_a"], template)
    with pytest.raises(ModelValidationError) as refused:
        templates.diff_rows(template, 1, 7)
    assert set(refused.value.errors) == {"b"}


def sheet_body() -> str:
    """A small sheet in the renderer's JSON description (docs/templates.md)."""
    from app.services.templates.builtin import BUILTINS, builtin_body

    return builtin_body(next(b for b in BUILTINS if b.output_format is OutputFormat.xlsx))
