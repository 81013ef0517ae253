"""Extension singletons, bound to an app by ``create_app``."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# Sharing FAB's metadata lets Alembic autogenerate see our tables and FAB's.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
