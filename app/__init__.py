"""MonAssurance: the application factory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


# Flask, SQLAlchemy and FAB are imported by create_app, not by `import app`: run.py
# imports small modules of this package (the start gate, the password policy) and
# should start the web server without paying a second for them first.
def create_app(config: Any | None = None) -> Flask:
    """Build one application; AppBuilder is created here so tests can build several."""
    from flask import Flask

    from app.extensions import csrf, db, mail, migrate
    from app.ops.logs import configure_logging
    from config import Config

    app = Flask(__name__)
    app.config.from_object(config if config is not None else Config())
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_JSON"])

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_folder())
    mail.init_app(app)
    csrf.init_app(app)  # before AppBuilder: FAB does not protect its forms itself

    from app.ops.outages import init_outages
    from app.ops.requests import init_request_hooks

    init_request_hooks(app)
    from app.input_text import init_input_text

    init_input_text(app)  # NUL and lone surrogates refused at every door
    # Before AppBuilder: its after-request hooks (the limiter's Retry-After) then run
    # first, and a 503's Retry-After is ours.
    init_outages(app)
    from app.api.limits import retry_after_only_when_refused

    app.after_request(retry_after_only_when_refused)  # same reason: after the limiter's
    from app.views.dates import init_dates

    init_dates(app)  # {{ value|when }}: one date format per language, local time

    from app.views.site import init_site

    init_site(app)  # before any template is compiled: empty values, favicon

    from app.services import audit

    audit.install()
    from app.services.renewals import terms

    terms.install()  # every door keeps a contract's terms and cycles in step

    with app.app_context():
        _tune_sqlite()
        from app.routes import MonAssuranceAppBuilder

        # Registers only the FAB routes the product uses (app/routes.py).
        appbuilder = MonAssuranceAppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        from app.registry import register_all

        register_all(appbuilder)
        appbuilder.post_init()
        from app.api import init_api

        init_api(app)  # JSON errors, q and CSRF checks on /api/, Swagger UI assets

    from app.cli import register_cli
    from app.ops.health import health
    from app.ops.metrics import init_metrics

    app.register_blueprint(health)
    csrf.exempt(health)
    init_metrics(app)
    register_cli(app)
    return app


def _migrations_folder() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")


_SQLITE_TUNED = False


def _tune_sqlite() -> None:
    """WAL, a busy timeout and foreign keys on every SQLite connection.

    The web server and the Huey consumer are two processes writing one file:
    WAL lets readers go on during a write, the timeout makes writers wait.
    """
    global _SQLITE_TUNED
    if _SQLITE_TUNED:
        return
    _SQLITE_TUNED = True
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
