"""Our security manager: FAB's, with the organisation-aware user model."""

from __future__ import annotations

from flask import Flask
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_limiter import Limiter
from flask_login import user_logged_out

from app.api.security import MonAssuranceSecurityApi
from app.extensions import limiter
from app.models.user import AppUser
from app.services import audit
from app.views.users import (
    OrganisationUserView,
    PolicyResetMyPasswordView,
    ScopedResetPasswordView,
)


def _audit_logout(app: Flask, user: AppUser, **_extra: object) -> None:
    sm = app.appbuilder.sm
    actor = audit.Actor(user.id, user.username, user.organisation_id)
    audit.record(
        sm.session, "logout", "User", user.id, organisation_id=user.organisation_id, actor=actor
    )
    sm.session.commit()


# Blinker keeps one connection per receiver, so building several apps adds it once.
user_logged_out.connect(_audit_logout)


class MonAssuranceSecurityManager(SecurityManager):
    user_model = AppUser
    security_api = MonAssuranceSecurityApi  # login answers 400, not 500, on bad bodies
    # Users screen and password forms: organisation-scoped, with the password policy.
    userdbmodelview = OrganisationUserView
    resetpasswordview = ScopedResetPasswordView
    resetmypasswordview = PolicyResetMyPasswordView

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

    def create_limiter(self, app: Flask) -> Limiter:
        # One limiter for the whole app, so FAB's login limits and ours share storage.
        limiter.init_app(app)
        return limiter
