"""The screens speak French by default and English from FAB's language menu."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.test_screens_support import page_text

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "app" / "translations" / "fr" / "LC_MESSAGES"


def test_login_page_is_french_by_default(http):
    page = page_text(http.get("/login/"))
    # FAB's own French strings come from FAB's catalogue, found beside ours.
    assert "Se connecter" in page
    assert "Nom d'utilisateur" in page or "Nom d’utilisateur" in page


def test_after_login_menus_and_labels_are_french(app, http, make_user, login):
    login(make_user("USER"))
    home = page_text(http.get("/"))
    assert "Portefeuille" in home
    assert "Contrats" in home
    assert "Voir les clients" in home
    listing = page_text(http.get("/policyview/list/"))
    for label in ("Numéro de contrat", "Date d'échéance", "Branche", "Prime", "Statut"):
        assert label in listing, label
    assert "Rechercher" in listing  # FAB's own string, still French
    form = page_text(http.get("/policyview/add"))
    assert "Date d'effet" in form and "Fractionnement" in form
    assert "Habitation" in form and "Automobile" in form  # enum choices, translated
    assert "Brouillon" in form and "En cours" in form


def test_language_menu_switches_to_english_and_back(app, http, make_user, login):
    login(make_user("USER"))
    http.get("/lang/en", follow_redirects=True)
    listing = page_text(http.get("/policyview/list/"))
    assert "Policy number" in listing and "Expiry date" in listing
    assert "Numéro de contrat" not in listing
    form = page_text(http.get("/policyview/add"))
    assert "Motor" in form and "Half-yearly" in form
    http.get("/lang/fr", follow_redirects=True)
    assert "Numéro de contrat" in page_text(http.get("/policyview/list/"))


def test_unknown_language_is_refused(http):
    assert http.get("/lang/xx").status_code == 404


def test_status_and_premium_are_shown_translated_with_currency(
    app, http, make_user, login, portfolio
):
    from tests.conftest import user_organisation

    user = make_user("USER")
    portfolio(user_organisation(app, user), "7")
    login(user)
    french = page_text(http.get("/policyview/list/"))
    assert "En cours" in french and "Automobile" in french
    assert "420,50\xa0€" in french  # Decimal premium with its currency, French style
    http.get("/lang/en", follow_redirects=True)
    english = page_text(http.get("/policyview/list/"))
    assert "Active" in english and "Motor" in english and "€420.50" in english


def test_catalogue_is_complete_and_compiled():
    """Every msgid of ours is translated, and the committed .mo matches the .po."""
    with open(CATALOGUE / "messages.po", "rb") as handle:
        po = read_po(handle)
    untranslated = [
        m.id
        for m in po
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []
    with open(CATALOGUE / "messages.mo", "rb") as handle:
        mo = read_mo(handle)

    def pairs(catalogue):
        # .mo files give plural ids and strings as lists, .po files as tuples.
        return {
            tuple(m.id) if isinstance(m.id, list | tuple) else m.id: tuple(m.string)
            if isinstance(m.string, list | tuple)
            else m.string
            for m in catalogue
            if m.id
        }

    po_pairs, mo_pairs = pairs(po), pairs(mo)
    assert mo_pairs == po_pairs, "run: pybabel compile -d app/translations"


def test_every_message_in_the_code_is_in_the_catalogue(tmp_path):
    """Extract with babel.cfg as a maintainer would: nothing may be missing from the .po."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "-k",
            "_l",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with open(CATALOGUE / "messages.po", "rb") as handle:
        have = {m.id for m in read_po(handle) if m.id}
    assert sorted(map(str, wanted - have)) == []
