"""Our security manager: FAB's, with the organisation-aware user model."""

from __future__ import annotations

from flask import Flask
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_limiter import Limiter

from app.api.security import MonAssuranceSecurityApi
from app.extensions import limiter
from app.models.user import AppUser
from app.views.users import (
    OrganisationUserView,
    PolicyResetMyPasswordView,
    ScopedResetPasswordView,
)


class MonAssuranceSecurityManager(SecurityManager):
    user_model = AppUser
    security_api = MonAssuranceSecurityApi  # login answers 400, not 500, on bad bodies
    # Users screen and password forms: organisation-scoped, with the password policy.
    userdbmodelview = OrganisationUserView
    resetpasswordview = ScopedResetPasswordView
    resetmypasswordview = PolicyResetMyPasswordView

    def create_limiter(self, app: Flask) -> Limiter:
        # One limiter for the whole app, so FAB's login limits and ours share storage.
        limiter.init_app(app)
        return limiter
