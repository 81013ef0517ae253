"""Extension singletons, bound to an app by ``create_app``."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from app.ops.outages import FallbackLimiter

# Sharing FAB's metadata lets Alembic autogenerate see our tables and FAB's.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
csrf = CSRFProtect()
# Falls back to in-memory limits while Redis is away (app/ops/outages.py).
limiter = FallbackLimiter(key_func=get_remote_address)
# SMTP settings from MAIL_URL (config.py); only app/services/mail/smtp.py sends.
mail = Mail()
