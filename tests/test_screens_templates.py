"""Template screens as a browser uses them: create, write versions, publish, preview, diff."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import AppUser, Template, TemplateVersion
from app.services import templates as template_service
from tests.conftest import user_organisation
from tests.test_screens_support import (
    count_rows,
    csrf_token,
    flashes,
    french,
    load,
    page_text,
    post_form,
)

GOOD_BODY = (
    "<html><body>\n"
    "<h1>Conditions particulières</h1>\n"
    "<p>Contrat {{ policy.number }} — {{ client.display_name }}</p>\n"
    "</body></html>\n"
)
# Line 3 closes a block that was never opened.
BAD_BODY = "<html><body>\n<h1>Avis</h1>\n{% endif %}\n<p>{{ policy.number }}</p>\n"
# Any form of the site carries the session's CSRF token; every role may open this one.
TOKEN_PAGE = "/resetmypassword/form"


def _template_form(**overrides):
    data = {
        "name": "Contrat auto",
        "kind": "contract",
        "output_format": "pdf",
        "locale": "fr",
        "description": "Conditions particulières",
    }
    data.update(overrides)
    return data


def _template_id(app, name):
    with app.app_context():
        return db.session.query(Template.id).filter_by(name=name).scalar()


def make_template(
    app, username, *, name="Modèle", body=GOOD_BODY, shared=False, publish=True, output="pdf"
):
    """A template with version 1 (published unless told), written through the service."""
    with app.test_request_context():
        user = db.session.query(AppUser).filter_by(username=username).one()
        template = template_service.create_template(
            db.session,
            user,
            name=name,
            kind="contract",
            output_format=output,
            shared=shared,
        )
        template_service.add_version(db.session, user, template, body=body, changelog="v1")
        if publish:
            template_service.publish(db.session, user, template, 1)
        db.session.commit()
        return template.id


def _add_version(http, template_id, body, changelog="change"):
    return post_form(
        http,
        f"/templateview/new_version/{template_id}",
        {"body": body, "changelog": changelog},
    )


@pytest.fixture
def manager(app, make_user, login):
    username = make_user("MANAGER")
    login(username)
    return username


def test_manager_creates_a_template_then_lands_in_its_editor(app, http, manager):
    form_page = page_text(http.get("/templateview/add"))
    assert (
        html.escape(french("Shared with every agency")) not in form_page
    )  # the box is the operator's
    response = post_form(http, "/templateview/add", _template_form())
    assert response.status_code == 200
    assert ("success", "Ligne ajoutée") in flashes(response)
    template_id = _template_id(app, "Contrat auto")
    row = load(app, Template, template_id)
    assert row.organisation_id == user_organisation(app, manager)
    assert row.output_format.value == "pdf"
    assert 'class="template-editor-text"' in page_text(response)
    assert "js/template-editor.js" in page_text(response)


def test_a_duplicate_name_is_refused_beside_the_field(app, http, manager):
    post_form(http, "/templateview/add", _template_form())
    response = post_form(http, "/templateview/add", _template_form(name="contrat AUTO"))
    assert count_rows(app, Template) == 1
    assert html.escape(french("A template with this name already exists.")) in page_text(response)


def test_a_syntax_error_is_flashed_with_its_line_and_the_body_is_kept(app, http, manager):
    template_id = make_template(app, manager, publish=False)
    response = _add_version(http, template_id, BAD_BODY)
    assert response.status_code == 200
    messages = [text for category, text in flashes(response) if category == "danger"]
    assert any(re.search(r"\b(Line|Ligne) 3\b", text) for text in messages), messages
    page = page_text(response)
    textarea = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', page, re.S)
    assert textarea and "{% endif %}" in textarea.group(1)
    assert '<span class="error-line">3</span>' in page  # the gutter marks the line
    assert count_rows(app, TemplateVersion, template_id=template_id) == 1


def test_versions_publish_preview_and_diff(app, http, manager, portfolio):
    ids = portfolio(user_organisation(app, manager), "7")
    template_id = make_template(app, manager, publish=False)

    # The editor starts from the latest body.
    editor = page_text(http.get(f"/templateview/new_version/{template_id}"))
    assert "Contrat {{ policy.number }}" in editor
    saved = _add_version(http, template_id, GOOD_BODY.replace("Contrat", "Police"), "Wording")
    assert any("2" in text for category, text in flashes(saved) if category == "success")
    versions = page_text(http.get(f"/templateview/versions/{template_id}"))
    assert 'id="version-2"' in versions and "Wording" in versions
    sha = load_version(app, template_id, 2).sha256
    assert sha[:12] in versions

    # Publish v2 (POST with the page's CSRF token).
    token = csrf_token(http, f"/templateview/versions/{template_id}")
    published = http.post(
        f"/templateview/publish/{template_id}",
        data={"version": "2", "csrf_token": token},
        follow_redirects=True,
    )
    assert any(category == "success" for category, _text in flashes(published))
    assert (
        load(app, Template, template_id).published_version_id
        == load_version(app, template_id, 2).id
    )

    # HTML preview with sample data, inside a sandboxed iframe.
    preview = http.get(f"/templateview/preview/{template_id}")
    assert preview.status_code == 200
    raw = preview.get_data(as_text=True)
    frame = re.search(r"<iframe[^>]*>", raw)
    assert frame and 'sandbox=""' in frame.group(0)
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frame.group(0)).group(1))
    assert "<h1>Conditions particulières</h1>" in srcdoc
    assert "Police" in srcdoc  # the published version by default

    # With a chosen policy and version 1.
    chosen = page_text(
        http.get(f"/templateview/preview/{template_id}?version=1&policy_id={ids['policy']}")
    )
    assert "Contrat POL-7" in chosen

    # As PDF: the text of the document names the policy.
    pdf = http.get(
        f"/templateview/preview/{template_id}?version=1&policy_id={ids['policy']}&output=pdf"
    )
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "POL-7" in text

    # Side by side: line 3 changed (its changed word marked), the rest equal.
    diff = page_text(http.get(f"/templateview/diff/{template_id}?a=1&b=2"))
    assert 'class="diff-replace"' in diff
    assert '<mark class="diff-word">Contrat</mark> {{ policy.number }}' in diff
    assert '<mark class="diff-word">Police</mark> {{ policy.number }}' in diff
    assert 'class="diff-equal"' in diff


def test_diff_of_a_one_line_change_shows_that_hunk_its_words_and_a_jump_to_it(app, http, manager):
    body = [f"<p>Ligne {n} du contrat {{{{ policy.number }}}}</p>" for n in range(1, 301)]
    template_id = make_template(app, manager, body="\n".join(body), publish=False)
    changed = list(body)
    # The changed line carries markup that must stay text on the page.
    changed[149] = '<p>Ligne 150 du avenant {{ policy.number }}<script>alert("x")</script></p>'
    _add_version(http, template_id, "\n".join(changed))

    response = http.get(f"/templateview/diff/{template_id}?a=1&b=2")
    assert response.status_code == 200
    page = page_text(response)
    rows = re.findall(r'<tr class="diff-(equal|replace|insert|delete)"', page)
    assert rows == ["equal"] * 3 + ["replace"] + ["equal"] * 3  # the hunk, 3 lines each side
    assert "Ligne 1 du" not in page and "Ligne 300 du" not in page
    # The whole file was about 300 rows, well over 100 kB; the page's menus alone are ~15 kB.
    assert len(page) < 40_000
    skipped = re.findall(r'<tr class="diff-skip"><td colspan="4">… ([^<]*)</td>', page)
    assert skipped == ["146 lignes identiques", "147 lignes identiques"]

    # The changed words are marked on each side, and only they; the template's markup
    # reaches the page as text (escaped), never as markup.
    raw = response.get_data(as_text=True)
    marks = re.findall(r'<mark class="diff-word">(.*?)</mark>', raw, re.S)
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    assert marks == ["mots modifiés", "contrat", "avenant", escaped]  # the legend, then the line
    assert "<script>alert" not in raw

    # A jump to the change, and the change carries the anchor.
    assert re.search(r'<a href="#change-1">ligne 150</a>', page)
    assert 'id="change-1"' in page
    assert "1 modification :" in page


def load_version(app, template_id, number):
    with app.app_context():
        version = (
            db.session.query(TemplateVersion)
            .filter_by(template_id=template_id, number=number)
            .one()
        )
        db.session.expunge(version)
        return version


def test_preview_of_a_policy_of_another_agency_shows_nothing_of_it(
    app, http, manager, make_organisation, portfolio
):
    other = portfolio(make_organisation(), "B")
    template_id = make_template(app, manager)
    response = http.get(f"/templateview/preview/{template_id}?policy_id={other['policy']}")
    assert response.status_code == 200
    page = page_text(response)
    assert "POL-B" not in page and "<iframe" not in page
    pdf = http.get(f"/templateview/preview/{template_id}?policy_id={other['policy']}&output=pdf")
    assert pdf.mimetype != "application/pdf"


@pytest.mark.parametrize(
    "query",
    ["version=abc", "version=99", "a=1&b=99", "policy_id=abc", "policy_id=99999999999999999999"],
)
def test_bad_preview_and_diff_arguments_never_fail(app, http, manager, query):
    template_id = make_template(app, manager)
    assert http.get(f"/templateview/preview/{template_id}?{query}").status_code == 200
    assert http.get(f"/templateview/diff/{template_id}?{query}").status_code in (200, 302)


def test_bad_ids_and_outputs_are_refused(app, http, manager):
    template_id = make_template(app, manager)
    assert http.get("/templateview/versions/abc").status_code == 404
    assert http.get("/templateview/versions/99999999999999999999").status_code == 404
    assert http.get(f"/templateview/preview/{template_id}?output=exe").status_code == 400


def test_user_reads_templates_but_cannot_reach_the_write_pages(app, http, make_user, login):
    manager_name = make_user("MANAGER")
    template_id = make_template(app, manager_name)
    user = make_user("USER", organisation_id=user_organisation(app, manager_name))
    login(user)
    assert "Modèle" in page_text(http.get("/templateview/list/"))
    versions = http.get(f"/templateview/versions/{template_id}")
    assert versions.status_code == 200
    assert "/templateview/new_version/" not in page_text(versions)
    assert http.get(f"/templateview/preview/{template_id}").status_code == 200
    for path in (
        "/templateview/add",
        f"/templateview/edit/{template_id}",
        f"/templateview/new_version/{template_id}",
    ):
        assert http.get(path).status_code == 403, path
    # A forged publish: refused before the service is reached.
    list_token = csrf_token(http, TOKEN_PAGE)
    response = http.post(
        f"/templateview/publish/{template_id}", data={"version": "1", "csrf_token": list_token}
    )
    assert response.status_code == 403
    response = http.post(
        f"/templateview/new_version/{template_id}",
        data={"body": GOOD_BODY, "csrf_token": list_token},
    )
    assert response.status_code == 403
    assert count_rows(app, TemplateVersion, template_id=template_id) == 1


def test_shared_templates_are_read_only_for_an_agency_manager(app, http, make_user, login):
    operator = make_user("SUPERADMIN")
    template_id = make_template(app, operator, name="Attestation commune", shared=True)
    manager_name = make_user("MANAGER")
    login(manager_name)
    assert "Attestation commune" in page_text(http.get("/templateview/list/"))
    versions = page_text(http.get(f"/templateview/versions/{template_id}"))
    assert "/templateview/new_version/" not in versions
    assert "/templateview/publish/" not in versions
    edit = http.get(f"/templateview/edit/{template_id}", follow_redirects=True)
    assert any(category == "danger" for category, _text in flashes(edit))
    editor = http.get(f"/templateview/new_version/{template_id}", follow_redirects=True)
    assert any(category == "danger" for category, _text in flashes(editor))
    token = csrf_token(http, TOKEN_PAGE)
    http.post(
        f"/templateview/new_version/{template_id}",
        data={"body": GOOD_BODY, "csrf_token": token},
    )
    published = http.post(
        f"/templateview/publish/{template_id}",
        data={"version": "1", "csrf_token": token},
        follow_redirects=True,
    )
    assert any(category == "danger" for category, _text in flashes(published))
    assert count_rows(app, TemplateVersion, template_id=template_id) == 1
    assert http.get(f"/templateview/preview/{template_id}").status_code == 200


def test_the_operator_may_share_a_template(app, http, make_user, login):
    login(make_user("SUPERADMIN"))
    assert html.escape(french("Shared with every agency")) in page_text(
        http.get("/templateview/add")
    )
    post_form(http, "/templateview/add", _template_form(name="Commun", shared="y"))
    assert load(app, Template, _template_id(app, "Commun")).organisation_id is None


def test_another_agencys_templates_are_invisible(app, http, make_user, login, make_organisation):
    other_manager = make_user("MANAGER", organisation_id=make_organisation())
    template_id = make_template(app, other_manager, name="Secret B")
    login(make_user("MANAGER"))
    assert "Secret B" not in page_text(http.get("/templateview/list/"))
    assert "Secret B" not in page_text(http.get("/templateview/list/?_flt_0_name=Secret"))
    for path in (
        f"/templateview/show/{template_id}",
        f"/templateview/edit/{template_id}",
        f"/templateview/versions/{template_id}",
        f"/templateview/new_version/{template_id}",
        f"/templateview/preview/{template_id}",
        f"/templateview/preview/{template_id}?output=pdf",
        f"/templateview/diff/{template_id}",
    ):
        assert http.get(path).status_code == 404, path
    token = csrf_token(http, "/templateview/add")
    response = http.post(
        f"/templateview/publish/{template_id}", data={"version": "1", "csrf_token": token}
    )
    assert response.status_code == 404


def test_template_pages_speak_french(app, http, manager):
    page = page_text(http.get("/templateview/add"))
    assert "Nom" in page  # FAB and our shared labels already translated


def test_manager_renames_a_template_and_publishing_an_unknown_version_is_refused(
    app, http, manager
):
    template_id = make_template(app, manager)
    edit_path = f"/templateview/edit/{template_id}"
    assert 'value="Modèle"' in page_text(http.get(edit_path))
    edited = post_form(
        http, edit_path, {"name": "Modèle renommé", "kind": "contract", "locale": "en"}
    )
    assert ("success", "Ligne modifiée") in flashes(edited)
    row = load(app, Template, template_id)
    assert (row.name, row.kind.value, row.locale) == ("Modèle renommé", "contract", "en")
    assert row.output_format.value == "pdf"  # not on the edit form
    token = csrf_token(http, TOKEN_PAGE)
    for version in ("99", "abc", ""):
        response = http.post(
            f"/templateview/publish/{template_id}",
            data={"version": version, "csrf_token": token},
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert any(category == "danger" for category, _text in flashes(response)), version
    assert load(app, Template, template_id).published_version_id is not None


SHEET = {
    "sheets": [
        {
            "title": "Échéancier",
            "header": [["Contrat", "policy.number"]],
            "rows": "instalments",
            "columns": [
                {"title": "Échéance", "value": "row.due_date", "format": "date"},
                {"title": "Montant", "value": "row.amount", "format": "money", "total": "sum"},
            ],
        }
    ]
}


def test_an_xlsx_template_previews_as_tables_and_as_its_workbook(app, http, manager, portfolio):
    import json

    from openpyxl import load_workbook

    ids = portfolio(user_organisation(app, manager), "8")
    template_id = make_template(app, manager, body=json.dumps(SHEET), output="xlsx")
    editor = page_text(http.get(f"/templateview/new_version/{template_id}"))
    description = "A sheet description in JSON: columns bound to fields, rows from a loop, totals."
    assert french(description) in html.unescape(editor)
    page = http.get(f"/templateview/preview/{template_id}?policy_id={ids['policy']}")
    frame = re.search(r"<iframe[^>]*>", page.get_data(as_text=True)).group(0)
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "Échéancier" in srcdoc and "POL-8" in srcdoc
    assert "output=xlsx" in page_text(page) and "output=pdf" not in page_text(page)
    workbook = http.get(
        f"/templateview/preview/{template_id}?version=1&policy_id={ids['policy']}&output=xlsx"
    )
    assert workbook.status_code == 200
    assert workbook.headers["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert any("POL-8" in str(cell.value) for row in sheet.iter_rows() for cell in row)
    refused = http.get(f"/templateview/preview/{template_id}?output=pdf")
    assert refused.status_code == 200 and refused.mimetype == "text/html"
    assert any(category == "danger" for category, _text in flashes(refused))


def _edit_form(**overrides):
    data = {"name": "Modèle", "kind": "contract", "locale": "fr", "description": ""}
    data.update(overrides)
    return data


def test_editing_a_template_saves_through_the_service_and_is_audited(app, http, manager):
    from sqlalchemy import select

    from app.models import AuditLog

    template_id = make_template(app, manager, publish=False)
    response = post_form(
        http,
        f"/templateview/edit/{template_id}",
        _edit_form(name="Contrat habitation", description="Nouvelle description"),
    )
    assert response.status_code == 200
    assert any(category == "success" for category, _ in flashes(response))
    row = load(app, Template, template_id)
    assert (row.name, row.description) == ("Contrat habitation", "Nouvelle description")
    with app.app_context():
        updates = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "update", AuditLog.object_type == "Template")
        ).all()
    assert [entry.changes["name"] for entry in updates] == [["Modèle", "Contrat habitation"]]


def test_the_kind_of_a_template_with_versions_cannot_change_on_screen(app, http, manager):
    template_id = make_template(app, manager, publish=False)
    response = post_form(http, f"/templateview/edit/{template_id}", _edit_form(kind="notice"))
    assert response.status_code == 200
    assert any(category == "danger" for category, _ in flashes(response))
    assert load(app, Template, template_id).kind.value == "contract"


def test_the_kind_of_a_template_without_versions_may_change_on_screen(app, http, manager):
    post_form(http, "/templateview/add", _template_form())
    template_id = _template_id(app, "Contrat auto")
    post_form(
        http, f"/templateview/edit/{template_id}", _edit_form(name="Contrat auto", kind="notice")
    )
    assert load(app, Template, template_id).kind.value == "notice"


def test_an_edit_that_takes_another_templates_name_is_refused(app, http, manager):
    make_template(app, manager, name="Premier", publish=False)
    second = make_template(app, manager, name="Second", publish=False)
    response = post_form(http, f"/templateview/edit/{second}", _edit_form(name="premier"))
    assert html.escape(french("A template with this name already exists.")) in page_text(response)
    assert load(app, Template, second).name == "Second"
