"""FAB's security screens live under Administration, in French, for SUPERADMIN only;
FAB's own "Sécurité" menu is gone and the role sync still grants by FAB's names."""

from __future__ import annotations

import html
import re

import pytest

from app.extensions import db

DROPDOWN = re.compile(
    r'<li class="dropdown">\s*<a class="dropdown-toggle"[^>]*>(.*?)<b class="caret">'
    r'</b></a>\s*<ul class="dropdown-menu">(.*?)</ul></li>',
    re.S,
)
ENTRY = re.compile(r'<a tabindex="-1" href="([^"]+)">(.*?)</a>', re.S)
TECHNICAL = {
    "Rôles": "/roles/list/",
    "Groupes": "/groups/list/",
    "Permissions": "/permissions/list/",
    "Vues et menus": "/viewmenus/list/",
    "Permissions par vue": "/permissionviews/list/",
}


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def menus(http) -> dict[str, list[tuple[str, str]]]:
    """Each dropdown of the navbar: its label -> [(entry label, link)]."""
    page = http.get("/").get_data(as_text=True)
    return {
        _text(label): [(_text(text), href) for href, text in ENTRY.findall(entries)]
        for label, entries in DROPDOWN.findall(page)
    }


def test_superadmin_finds_the_security_screens_under_administration(app, http, make_user, login):
    login(make_user("SUPERADMIN"))
    navbar = menus(http)
    assert "Sécurité" not in navbar and "Security" not in navbar
    administration = navbar["Administration"]
    assert administration[0] == ("Utilisateurs", "/users/list/")
    assert administration[-len(TECHNICAL) :] == list(TECHNICAL.items())
    for label, path in TECHNICAL.items():
        page = http.get(path)
        assert page.status_code == 200, path
        title = re.search(r'<h4 class="panel-title">(.*?)</h4>', page.get_data(as_text=True))
        assert title and _text(title.group(1)) == label, (path, title)


@pytest.mark.parametrize("role", ["USER", "MANAGER", "ADMIN"])
def test_other_roles_neither_see_nor_open_them(app, http, make_user, login, role):
    login(make_user(role))
    entries = [label for items in menus(http).values() for label, _href in items]
    assert not set(TECHNICAL) & set(entries)
    for path in TECHNICAL.values():
        assert http.get(path).status_code != 200, path


def test_user_statistics_are_not_served(app, http, make_user, login):
    """FAB draws them with Google Charts from its CDN, which our CSP blocks: a blank page."""
    login(make_user("SUPERADMIN"))
    assert http.get("/userstatschartview/chart/").status_code == 404


def test_role_sync_keeps_fab_names_and_drops_the_security_menu(app):
    with app.app_context():
        sm = app.appbuilder.sm
        view_menus = {view_menu.name for view_menu in sm.get_all_view_menu()}
        assert {"List Roles", "List Groups", "Views/Menus", "List Users"} <= view_menus
        assert not {"Security", "User's Statistics", "UserStatsChartView"} & view_menus
        superadmin = {
            (pv.permission.name, pv.view_menu.name) for pv in sm.find_role("SUPERADMIN").permissions
        }
        assert ("menu_access", "List Roles") in superadmin
        assert ("can_list", "RoleModelView") in superadmin
        admin = {
            (pv.permission.name, pv.view_menu.name) for pv in sm.find_role("ADMIN").permissions
        }
        assert ("menu_access", "List Users") in admin
        assert not any(name == "RoleModelView" for _permission, name in admin)
        db.session.rollback()
