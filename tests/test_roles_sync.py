"""Roles at start-up: a restart finds them in place and writes nothing; damage is repaired.

run.py and `flask monassurance sync-roles` call sync_roles at every start or deploy;
FAB's own pass asks hundreds of queries and commits each change, so sync_roles first
checks, in three queries, whether anything would change.
"""

from __future__ import annotations

from sqlalchemy import event

from app.extensions import db
from app.services.roles import roles_in_sync, sync_roles


def test_sync_roles_in_place_writes_nothing(app):
    with app.app_context():
        sync_roles(app.appbuilder)  # whatever an earlier test left
        writes: list[str] = []

        def record(_conn, _cursor, statement, *_args) -> None:
            if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
                writes.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert sync_roles(app.appbuilder) is False
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert writes == []


def test_sync_roles_puts_back_a_grant_taken_away(app):
    with app.app_context():
        sm = app.appbuilder.sm
        sync_roles(app.appbuilder)
        user_role = sm.find_role("USER")
        taken = next(pv for pv in user_role.permissions if pv.view_menu.name == "Client")
        user_role.permissions.remove(taken)
        sm.session.commit()
        assert roles_in_sync(app.appbuilder) is False

        assert sync_roles(app.appbuilder) is True
        assert taken in sm.find_role("USER").permissions
        assert roles_in_sync(app.appbuilder) is True


def test_sync_roles_puts_back_a_permission_deleted_by_hand(app):
    with app.app_context():
        sm = app.appbuilder.sm
        sync_roles(app.appbuilder)
        pv = sm.find_permission_view_menu("can_read", "Company")
        for role in sm.get_all_roles():
            if pv in role.permissions:
                role.permissions.remove(pv)
        sm.session.delete(pv)
        sm.session.commit()
        assert roles_in_sync(app.appbuilder) is False

        assert sync_roles(app.appbuilder) is True
        restored = sm.find_permission_view_menu("can_read", "Company")
        assert restored in sm.find_role("USER").permissions
        assert roles_in_sync(app.appbuilder) is True


def test_sync_roles_drops_a_permission_no_view_has_any_more(app):
    # A view that loses an action in a code change: FAB tried to drop its permission but
    # refused once a role held it (SUPERADMIN holds all), so it stayed for ever.
    with app.app_context():
        sm = app.appbuilder.sm
        sync_roles(app.appbuilder)
        gone = sm.add_permission_view_menu("can_fly", "Client")
        sm.add_permission_role(sm.find_role("USER"), gone)
        sm.add_permission_role(sm.find_role("SUPERADMIN"), gone)
        assert roles_in_sync(app.appbuilder) is False

        assert sync_roles(app.appbuilder) is True
        assert sm.find_permission_view_menu("can_fly", "Client") is None
        assert ("can_fly", "Client") not in {
            (pv.permission.name, pv.view_menu.name) for pv in sm.find_role("USER").permissions
        }
        assert roles_in_sync(app.appbuilder) is True


def test_sync_roles_drops_the_permissions_of_a_view_that_is_gone(app):
    with app.app_context():
        sm = app.appbuilder.sm
        sync_roles(app.appbuilder)
        sm.add_permission_role(
            sm.find_role("MANAGER"), sm.add_permission_view_menu("can_read", "RemovedView")
        )
        assert sync_roles(app.appbuilder) is True
        assert sm.find_view_menu("RemovedView") is None
        assert roles_in_sync(app.appbuilder) is True
