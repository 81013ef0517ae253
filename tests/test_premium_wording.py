"""The premium is the annual premium, taxes included: every door says so, in French and English
(the policy form, its list, the API's _info and spec, the import template)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.conftest import user_organisation
from tests.test_screens_support import page_text


def _premium_schema(spec: dict, name: str) -> dict:
    return spec["components"]["schemas"][name]["properties"]["premium"]


def test_policy_form_asks_for_the_annual_premium_in_both_languages(app, http, make_user, login):
    login(make_user("USER"))
    french = page_text(http.get("/policyview/add"))
    assert "Prime annuelle TTC" in french
    assert "La prime annuelle, toutes taxes comprises" in french
    assert "Montant par échéance" not in french
    assert "Prime annuelle TTC" in page_text(http.get("/policyview/list/"))

    http.get("/lang/en", follow_redirects=True)
    english = page_text(http.get("/policyview/add"))
    assert "Annual premium incl. tax" in english
    assert "The annual premium, taxes included" in english
    assert "per payment period" not in english


def test_api_info_and_spec_describe_the_annual_premium(app, http, make_user, auth_headers):
    headers = auth_headers(make_user("USER"))
    info = http.get("/api/v1/policy/_info?q=(keys:!(add_columns))", headers=headers)
    assert info.status_code == 200
    premium = next(c for c in info.json["add_columns"] if c["name"] == "premium")
    assert premium["label"] == "Prime annuelle TTC"
    assert premium["description"].startswith("La prime annuelle, toutes taxes comprises")

    spec = http.get("/api/v1/_openapi", headers=headers).json
    for schema in ("PolicyApi.post", "PolicyApi.put", "PolicyApi.get", "PolicyApi.get_list"):
        assert (
            "prime annuelle, toutes taxes comprises"
            in _premium_schema(spec, schema)["description"].lower()
        ), schema


def test_api_spec_says_annual_premium_in_english(app, http, make_user, login):
    login(make_user("USER"))  # the browser's session carries the language choice
    http.get("/lang/en", follow_redirects=True)
    spec = http.get("/api/v1/_openapi").json
    description = _premium_schema(spec, "PolicyApi.post")["description"]
    assert description.startswith("The annual premium, taxes included")


def test_import_template_names_the_annual_premium(app, http, make_user, login):
    user = make_user("USER")
    user_organisation(app, user)
    login(user)
    header = http.get("/import/policies/template.csv").get_data().decode("utf-8-sig")
    assert "Prime annuelle TTC" in header.strip().split(";")
    workbook = load_workbook(io.BytesIO(http.get("/import/policies/template.xlsx").get_data()))
    assert "Prime annuelle TTC" in [cell.value for cell in workbook.worksheets[0][1]]
    help_rows = [[cell.value for cell in row] for row in workbook.worksheets[1].iter_rows()]
    premium = next(row for row in help_rows if row[0] == "Prime annuelle TTC")
    assert "Annual premium incl. tax" in premium[1] and "Prime" in premium[1]
    assert "Prime annuelle TTC" in page_text(http.get("/import/policies/"))
