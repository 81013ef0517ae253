"""The four roles and what each may do, kept in sync with the registered views.

FAB creates one permission per (action, view); this table grants them by view
so the matrix stays readable. SUPERADMIN is FAB's admin role and receives every
permission when permissions are synced.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder import AppBuilder
from flask_appbuilder.security.manager import BaseSecurityManager
from sqlalchemy.orm import joinedload, selectinload

from app import permissions

USER, MANAGER, ADMIN, SUPERADMIN = "USER", "MANAGER", "ADMIN", "SUPERADMIN"
ROLE_NAMES = (USER, MANAGER, ADMIN, SUPERADMIN)

ALL = "*"
READ = {"can_read"}
SELF_SERVICE = {
    "UserInfoEditView": ALL,
    "ResetMyPasswordView": ALL,
    "UserDBModelView": {"can_userinfo", "resetmypassword", "userinfoedit"},
}
PORTFOLIO_MENUS = {"Portefeuille": ALL, "Clients": ALL, "Policies": ALL, "Insurers": ALL}
# Import screens (app/views/imports.py): the menu entries; the screens need write on Client/Policy.
PORTFOLIO_MENUS.update({"Import clients": ALL, "Import policies": ALL})
PORTFOLIO_MENUS["Renewals"] = ALL  # the Échéances screen (app/views/renewals.py)
PORTFOLIO_MENUS["Claims"] = ALL  # the Sinistres screen (app/views/claims.py)
# The advice duty (app/views/advice.py): proposals and the DER/FIC register.
PORTFOLIO_MENUS.update({"Proposals": ALL, "Compliance documents": ALL})  # the latter: Conformité
DOCUMENT_MENUS = {
    "Documents": ALL,
    "Generated documents": ALL,
    "Jobs": ALL,
    "Templates": ALL,
    "Outbox": ALL,
}
# The Comptabilité menu (app/registry.py): every staff role reads notices and payments.
ACCOUNTING_MENUS = {
    "Comptabilité": ALL,
    "Premium notices": ALL,
    "Unpaid premiums": ALL,
    "Payments": ALL,
    "SEPA mandates": ALL,
}

# Resources carry can_read / can_write (app/permissions.py); menus carry menu_access.
_USER_GRANTS: dict[str, str | set[str]] = {
    **SELF_SERVICE,
    **PORTFOLIO_MENUS,
    **DOCUMENT_MENUS,
    **ACCOUNTING_MENUS,
    permissions.POLICY: ALL,
    # Exporting and erasing a client's data (can_privacy) is a manager's decision.
    permissions.CLIENT: {"can_read", "can_write"},
    # Staff work their renewals one by one, as they edit policies; batches are MANAGER's.
    permissions.RENEWAL: {"can_read", "can_write"},
    permissions.COMPANY: READ,
    permissions.HISTORY: READ,
    permissions.LOOKUP: READ,
    # Staff generate and download documents from the templates they can see.
    permissions.DOCUMENT: ALL,
    permissions.TEMPLATE: READ,
    permissions.JOB: READ,
    # Staff record the clients' SEPA mandates (app/api/mandates.py).
    permissions.MANDATE: ALL,
    # Staff read the notices and accounts and record the money received (app/api/payments.py).
    permissions.PREMIUM_NOTICE: READ,
    permissions.PAYMENT: ALL,
    # Everyone works the tasks given to them or their team (app/api/tasks.py).
    permissions.TASK: {"can_read", "can_write"},
    permissions.TASK_CATEGORY: READ,
    "Task categories": ALL,
    "Tâches": ALL,
    "My tasks": ALL,
    # Staff e-mail their clients; holding and approving bulk sends is a manager's call.
    permissions.MESSAGE: {"can_read", "can_write"},
    # Staff take the client's call and follow the claim to its closing (app/api/claims.py).
    permissions.CLAIM: ALL,
    # Everyone records the complaints they receive and their answers (app/api/complaints.py),
    # on the Conformité > Réclamations screen too (app/views/complaints.py).
    permissions.COMPLAINT: {"can_read", "can_write"},
    "Conformité": ALL,
    "Complaints": ALL,
    # Staff advise before each sale: proposals, quotes, DER/FIC, conversion (app/api/quotes.py).
    permissions.PROPOSAL: {"can_read", "can_write"},
    permissions.QUESTIONNAIRE: READ,
    # They read the questions on screen too (Administration > Questionnaires de besoins).
    "Administration": ALL,
    "Needs questionnaires": ALL,
    # ... and the documents a claim asks for (Administration > Pièces attendues des sinistres).
    permissions.CLAIM_CHECKLIST: READ,
    "Claim checklists": ALL,
    # Staff keep the clients' files: photos, constat, invoices, IDs (app/api/attachments.py).
    permissions.ATTACHMENT: ALL,
    # Scripts act with their user's rights, so every user may read the API's spec.
    "OpenApi": {"can_get"},
    "SwaggerView": {"can_show"},
    # Everyone manages their own API sessions and keys (app/api/auth.py).
    permissions.AUTH: {"can_read", "can_write"},
}
_MANAGER_EXTRA: dict[str, str | set[str]] = {
    # A client's RGPD rights: the data export and the erasure (app/api/privacy.py).
    permissions.CLIENT: ALL,
    "Administration": ALL,
    "Audit log": ALL,
    permissions.AUDIT_LOG: READ,
    # Managers author and publish templates.
    permissions.TEMPLATE: ALL,
    # Renewing and sending the avis of many contracts at once: managers approve bulk sends.
    permissions.RENEWAL: ALL,
    # Reports as jobs (app/api/reports.py, app/views/reports.py).
    permissions.REPORT: ALL,
    # The dashboard (app/views/dashboard.py); its menu entry bears the resource's name.
    permissions.DASHBOARD: ALL,
    # Sending a month's debits to the bank, and its rejections (app/api/direct_debits.py).
    permissions.DIRECT_DEBIT: ALL,
    # What a client owes and the L113-3 procedure are team leads' calls: issuing and
    # cancelling notices, recording the formal notice (app/api/premium_notices.py).
    permissions.PREMIUM_NOTICE: ALL,
    # Handing tasks out in bulk and writing the rules that create them.
    permissions.TASK: ALL,
    permissions.TASK_RULE: ALL,
    permissions.TASK_CATEGORY: ALL,
    "Team tasks": ALL,
    "Task rules": ALL,
    "Task categories": ALL,
    permissions.MESSAGE: ALL,
    # The agency's revenue: commission rules, insurer statements, remittances.
    permissions.COMMISSION: ALL,
    # The agency answers for its people's 15 hours a year (DDA): team leads keep the log.
    permissions.TRAINING: ALL,
    # What an auditor asks first, on one page (app/views/compliance.py).
    permissions.COMPLIANCE: ALL,
    # Team leads adapt the needs questionnaires per line.
    permissions.QUESTIONNAIRE: ALL,
    "Needs questionnaires": ALL,
    # ... and the documents each claim nature asks for.
    permissions.CLAIM_CHECKLIST: ALL,
    "Comptabilité": ALL,
    "Commissions": ALL,
    "Commission rules": ALL,
}
_ADMIN_EXTRA: dict[str, str | set[str]] = {
    permissions.COMPANY: ALL,
    # The organisation's users (scoped by app.services.users): FAB's screen and our API.
    permissions.USER: ALL,
    permissions.AUTH: ALL,  # + can_manage_users: end the sessions of their users
    "UserDBModelView": ALL,
    "List Users": ALL,
    "ResetPasswordView": ALL,
    # File lifecycle: purge runs and signing-key rotation.
    permissions.PURGE: ALL,
    permissions.SIGNING_KEY: ALL,
}

ROLE_GRANTS: dict[str, dict[str, str | set[str]]] = {
    USER: _USER_GRANTS,
    MANAGER: {**_USER_GRANTS, **_MANAGER_EXTRA},
    ADMIN: {**_USER_GRANTS, **_MANAGER_EXTRA, **_ADMIN_EXTRA},
}


def sync_roles(appbuilder: AppBuilder) -> bool:
    """Create every permission of the registered views and menus, drop the others, then
    give each role exactly its grants.

    Returns False when all was already in place and nothing was written. FAB's own pass
    (add_permissions) asked hundreds of queries and committed each change: 0.5 s of CPU
    at every start with nothing to do, 1.7 s on a new database; this one reads three
    queries and writes what differs in one transaction.
    """
    if roles_in_sync(appbuilder):
        return False
    sm = appbuilder.sm
    # FAB's own set-up (admin and public roles) without its create_all: Alembic owns tables.
    BaseSecurityManager.create_db(sm)
    for role_name in ROLE_NAMES:
        sm.add_role(role_name)
    _put_permissions_in_place(sm, *_wanted_permissions(appbuilder))
    everything = sm.session.query(sm.permissionview_model).all()
    sm.find_role(SUPERADMIN).permissions = everything
    for role_name, grants in ROLE_GRANTS.items():
        sm.find_role(role_name).permissions = _granted_permission_views(everything, grants)
    sm.session.commit()
    return True


def roles_in_sync(appbuilder: AppBuilder) -> bool:
    """True when a full sync would change nothing, read in three queries.

    That is: the permissions are exactly those of the registered views and menus
    (none missing, none stale), every role exists, SUPERADMIN holds every
    permission and each other role exactly its grants.
    """
    sm = appbuilder.sm
    wanted, wanted_views = _wanted_permissions(appbuilder)
    view_menus = {name for (name,) in sm.session.query(sm.viewmenu_model.name)}
    if view_menus != wanted_views:
        return False
    roles = {
        role.name: role
        for role in sm.session.query(sm.role_model).options(
            selectinload(sm.role_model.permissions).joinedload(sm.permissionview_model.permission),
            selectinload(sm.role_model.permissions).joinedload(sm.permissionview_model.view_menu),
        )
    }
    if not {*ROLE_NAMES, sm.auth_role_admin, sm.auth_role_public} <= set(roles):
        return False
    everything = _all_permission_views(sm)
    if {_pair(pv) for pv in everything} != wanted:
        return False
    expected = {SUPERADMIN: everything} | {
        name: _granted_permission_views(everything, grants) for name, grants in ROLE_GRANTS.items()
    }
    return all(
        {pv.id for pv in roles[name].permissions} == {pv.id for pv in held}
        for name, held in expected.items()
    )


def _wanted_permissions(appbuilder: AppBuilder) -> tuple[set[tuple[str, str]], set[str]]:
    """The (permission, view or menu) pairs FAB's add_permissions creates, and the names."""
    pairs = {
        (permission, view.class_permission_name)
        for view in appbuilder.baseviews
        for permission in view.base_permissions
    }
    names = {view.class_permission_name for view in appbuilder.baseviews}
    for category in appbuilder.menu.get_list() if appbuilder.menu else ():
        menus = [category.name, *(item.name for item in category.childs if item.name != "-")]
        pairs.update(("menu_access", name) for name in menus)
        names.update(menus)
    return pairs, names


def _all_permission_views(sm: Any) -> list[Any]:
    return (
        sm.session.query(sm.permissionview_model)
        .options(
            joinedload(sm.permissionview_model.permission),
            joinedload(sm.permissionview_model.view_menu),
        )
        .all()
    )


def _pair(pv: Any) -> tuple[str | None, str | None]:
    return (
        pv.permission.name if pv.permission else None,
        pv.view_menu.name if pv.view_menu else None,
    )


def _put_permissions_in_place(sm: Any, wanted: set[tuple[str, str]], names: set[str]) -> None:
    """Create the missing (permission, view) pairs and delete those no view or menu has.

    FAB's add_permissions did the first one row at a time; of the second it only tried
    a view's dropped permissions, and refused once a role held them (SUPERADMIN holds
    all), so they stayed. A view or menu that no longer exists loses its permissions too.
    """
    session = sm.session
    permissions = {row.name: row for row in session.query(sm.permission_model)}
    view_menus = {row.name: row for row in session.query(sm.viewmenu_model)}
    for name in {permission for permission, _ in wanted} - permissions.keys():
        permissions[name] = sm.permission_model(name=name)
        session.add(permissions[name])
    for name in names - view_menus.keys():
        view_menus[name] = sm.viewmenu_model(name=name)
        session.add(view_menus[name])
    existing = {_pair(pv): pv for pv in _all_permission_views(sm)}
    for permission, view in wanted - existing.keys():
        session.add(
            sm.permissionview_model(permission=permissions[permission], view_menu=view_menus[view])
        )
    stale = {pv.id for pair, pv in existing.items() if pair not in wanted}
    if stale:
        for role in session.query(sm.role_model).options(selectinload(sm.role_model.permissions)):
            role.permissions = [pv for pv in role.permissions if pv.id not in stale]
        for pv in existing.values():
            if pv.id in stale:
                session.delete(pv)
    for name, view_menu in view_menus.items():
        if name not in names:
            session.delete(view_menu)
    session.flush()


def _granted_permission_views(
    permission_views: list[Any], grants: dict[str, str | set[str]]
) -> list[Any]:
    result = []
    for pv in permission_views:
        if pv.view_menu is None or pv.permission is None:
            continue
        allowed = grants.get(pv.view_menu.name)
        if allowed == ALL or (isinstance(allowed, set) and pv.permission.name in allowed):
            result.append(pv)
    return result
