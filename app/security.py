"""Our security manager: FAB's, with the organisation-aware user model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, g, has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import PermissionModelView, ViewMenuModelView
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_login import user_logged_out
from sqlalchemy.orm import joinedload

from app.api.access import Pairs, role_permissions, user_permissions
from app.api.security import MonAssuranceSecurityApi
from app.extensions import limiter
from app.models.user import AppUser
from app.services import api_keys, audit, tokens
from app.views.login import AuthDBView
from app.views.related import scoped_screen
from app.views.security_screens import (
    PermissionViewModelView,
    RoleModelView,
    UserGroupModelView,
)
from app.views.users import (
    OrganisationUserView,
    PolicyResetMyPasswordView,
    ScopedResetPasswordView,
)


def _audit_logout(app: Flask, user: AppUser, **_extra: object) -> None:
    if not getattr(user, "is_authenticated", False):
        return  # /logout/ without a session: nobody logged out, nothing to record
    sm = app.appbuilder.sm
    actor = audit.Actor(user.id, user.username, user.organisation_id)
    audit.record(
        sm.session, "logout", "User", user.id, organisation_id=user.organisation_id, actor=actor
    )
    sm.session.commit()


_JWT_USER = "monassurance.jwt_user"  # the token's user, loaded with its session check


# Blinker keeps one connection per receiver, so building several apps adds it once.
user_logged_out.connect(_audit_logout)


class MonAssuranceSecurityManager(SecurityManager):
    user_model = AppUser
    security_api = MonAssuranceSecurityApi  # login answers 400, not 500, on bad bodies
    authdbview = AuthDBView  # no "Invalid redirect" warning when the login has no ?next=
    # Users screen and password forms: organisation-scoped, with the password policy.
    userdbmodelview = OrganisationUserView
    resetpasswordview = ScopedResetPasswordView
    resetmypasswordview = PolicyResetMyPasswordView
    # FAB's user statistics chart loads Google Charts from a CDN, which our
    # Content-Security-Policy blocks (a blank page), and 500s on a bad group_by.
    userstatschartview = None
    # FAB's security screens (SUPERADMIN's): their relation selects go through the scope
    # too, and the role, group and permission screens label their columns
    # (app/views/security_screens.py).
    rolemodelview = scoped_screen(RoleModelView)
    groupmodelview = scoped_screen(UserGroupModelView)
    permissionmodelview = scoped_screen(PermissionModelView)
    viewmenumodelview = scoped_screen(ViewMenuModelView)
    permissionviewmodelview = scoped_screen(PermissionViewModelView)

    # --- audit of authentication events (same function as every other audit entry) ---
    def on_user_login(self, user: AppUser) -> None:
        self._audit_auth("login", user.id, user.username, user.organisation_id)

    def on_user_login_failed(self, user: AppUser) -> None:
        self._audit_auth("login_failed", user.id, user.username, user.organisation_id)

    def auth_user_db(self, username: str, password: str) -> AppUser | None:
        user = super().auth_user_db(username, password)
        if user is None and self.find_user(username=username) is None:
            # Unknown account: FAB calls no hook; record the attempt under the name tried.
            self._audit_auth("login_failed", None, (username or "")[:128], None)
        return user

    def _audit_auth(
        self, action: str, user_id: int | None, username: str | None, organisation_id: int | None
    ) -> None:
        actor = audit.Actor(user_id, username, organisation_id)
        audit.record(
            self.session, action, "User", user_id, organisation_id=organisation_id, actor=actor
        )
        self.session.commit()

    # --- permission checks: one query per request for the user's set, never cached beyond it ---
    # A permission taken from a role, a role taken from a user and a deactivated
    # account must count from the next request on, in every process: nothing here
    # outlives the request. See app/api/access.py and docs/benchmarks.md.
    def get_user_by_id(self, pk: Any) -> AppUser | None:
        # The roles and the organisation come with the user (one statement): the scope
        # reads the roles, every date on a screen the organisation's time zone.
        return self.session.get(
            self.user_model,
            pk,
            options=[
                joinedload(self.user_model.roles),
                joinedload(self.user_model.organisation),
            ],
        )

    def is_item_public(self, permission_name: str, view_name: str) -> bool:
        """FAB's answer (does the Public role hold it?), from the Public role's set."""
        public = self._per_request(
            ("public",), lambda: role_permissions(self.session, self.auth_role_public)
        )
        return (permission_name, view_name) in public

    def _has_view_access(self, user: Any, permission_name: str, view_name: str) -> bool:
        """FAB's answer (do the user's roles, direct or through groups, hold it?), from the
        user's whole set of pairs: a page asks one question per menu entry and button."""
        if self.builtin_roles or not user.is_authenticated:
            # Roles declared in the configuration (FAB_ROLES) or the Public role: FAB's way.
            return super()._has_view_access(user, permission_name, view_name)
        held = self._per_request(("user", user.id), lambda: user_permissions(self.session, user.id))
        return (permission_name, view_name) in held

    @staticmethod
    def _per_request(key: tuple[Any, ...], read: Callable[[], Pairs]) -> Pairs:
        """``read()``, remembered until the end of the request (never across requests)."""
        if not has_request_context():
            return read()
        # In the request's own environ: flask.g belongs to the app context, which
        # several requests share when a caller (a test, a script) holds one open.
        sets = request.environ.setdefault("monassurance.permission_sets", {})
        if key not in sets:
            sets[key] = read()
        return sets[key]

    # --- API tokens and keys (app/services/tokens.py, app/services/api_keys.py) ---
    def create_jwt_manager(self, app: Flask) -> JWTManager:
        jwt_manager = super().create_jwt_manager(app)
        # Every access token's session is checked against the database on each request.
        jwt_manager.token_in_blocklist_loader(self._jwt_revoked)
        return jwt_manager

    def _jwt_revoked(self, _header: dict[str, Any], payload: dict[str, Any]) -> bool:
        if payload.get("type") == "refresh":
            return False  # the refresh endpoint decides, and detects reuse
        user = tokens.live_session_user(self.session, payload)
        if user is None:
            return True
        request.environ[_JWT_USER] = user  # load_user_jwt takes it: no second query
        return False

    def load_user_jwt(self, _jwt_header: dict[str, Any], jwt_data: dict[str, Any]) -> Any:
        user = request.environ.pop(_JWT_USER, None) if has_request_context() else None
        if user is None or str(user.id) != str(jwt_data.get("sub")):
            return super().load_user_jwt(_jwt_header, jwt_data)
        if user.is_active:
            g.user = user
            return user
        return None

    @staticmethod
    def extract_api_key_from_request() -> str | None:
        return api_keys.extract_from_request()

    def validate_api_key(self, api_key_string: str) -> AppUser | None:
        return api_keys.validate(self.session, api_key_string)

    def has_access(self, permission_name: str, view_name: str) -> bool:
        if has_request_context() and api_keys.write_refused():
            return False  # a read-only API key: FAB's protect answers 403
        return super().has_access(permission_name, view_name)

    def create_limiter(self, app: Flask) -> Limiter:
        # One limiter for the whole app, so FAB's login limits and ours share storage.
        limiter.init_app(app)
        return limiter
