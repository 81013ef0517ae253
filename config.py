"""Configuration read from the environment only.

Every variable is listed with its default in the README's configuration table.
Production refuses to start without a secret: when SECRET_KEY is not set we
generate one once and keep it in the data folder, never a hard-coded default.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
import time
from pathlib import Path

from werkzeug.security import generate_password_hash


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def data_dir() -> Path:
    path = Path(env_str("DATA_DIR", str(Path.cwd() / "data"))).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def mail_settings(url: str | None) -> dict[str, object]:
    """Flask-Mailman's settings from MAIL_URL: smtp://user:password@host:port (add
    ?starttls to upgrade the connection) or smtps://… (TLS from the start).

    No URL: MAIL_BACKEND "outbox", messages stay in the Boîte d'envoi (app/services/mail).
    """
    from urllib.parse import parse_qs, unquote, urlsplit

    if not url:
        return {"MAIL_BACKEND": "outbox", "MAIL_SERVER": None}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("MAIL_URL must look like smtp://user:password@host:587?starttls")
    query = {key.lower(): values[-1] for key, values in parse_qs(parts.query, True).items()}
    starttls = query.get("starttls")
    ssl = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if ssl else 25)
    except ValueError:
        raise ValueError("MAIL_URL has a port that is not a number") from None
    return {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": parts.hostname,
        "MAIL_PORT": port,
        "MAIL_USERNAME": unquote(parts.username) if parts.username else None,
        "MAIL_PASSWORD": unquote(parts.password) if parts.password else None,
        "MAIL_USE_SSL": ssl,
        # "?starttls" alone means yes.
        "MAIL_USE_TLS": not ssl
        and starttls is not None
        and starttls.lower() in ("", "1", "true", "yes", "on"),
        "MAIL_TIMEOUT": int(query.get("timeout", "30")),
    }


def persistent_secret_key(folder: Path) -> str:
    """Return SECRET_KEY from the environment, else one generated once and kept on disk."""
    from_env = env_str("SECRET_KEY")
    if from_env:
        return from_env
    key_file = folder / "secret_key"
    if key_file.exists():
        return _read_secret_key(key_file)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # run.py starts the web server and the worker together: the other one won.
        return _read_secret_key(key_file)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _read_secret_key(key_file: Path, wait_seconds: float = 5.0) -> str:
    """Read a key file, waiting briefly while a concurrent first start is still writing it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        key = key_file.read_text().strip()
        if key:
            return key
        if time.monotonic() > deadline:
            raise RuntimeError(f"{key_file} is empty: delete it (a new key is then generated)")
        time.sleep(0.05)


# The hash an unknown username is checked against, so that it costs as much as a wrong
# password. Its password is random and thrown away, and the answer is never used: a
# fixed hash (as FAB ships for its default) is as good as a fresh one, and spares every
# process an scrypt run (~0.3 s of CPU) at start-up. Other methods get one made once.
_DEFAULT_FAKE_HASH = (
    "scrypt:131072:8:1$QCahrAEvR0CUP6Pa$f835828cc846a934a30f12e98c5f995007c06c4d8ba624711a4a7"
    "33937e5e3724c538b4de9a4f123aef65719d9951fd6fbf0cd963550b8f4a4c8138755df7a74"
)


@functools.lru_cache(maxsize=4)
def _fake_hash(method: str) -> str:
    if _DEFAULT_FAKE_HASH.startswith(method + "$"):
        return _DEFAULT_FAKE_HASH
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


class Config:
    """Settings for a real deployment (and the embedded default)."""

    TESTING = False

    def __init__(self) -> None:
        folder = data_dir()
        self.DATA_DIR = str(folder)
        self.SECRET_KEY = persistent_secret_key(folder)
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            env_str("DATABASE_URL", f"sqlite:///{folder / 'monassurance.db'}")
        )
        # Seconds to wait for a PostgreSQL connection before the door answers 503.
        self.DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
        self.REDIS_URL = env_str("REDIS_URL")
        self.STORAGE_URL = env_str("STORAGE_URL", f"osfs://{folder / 'files'}")
        # Fernet keys, newest first: the first encrypts, all decrypt (rotation).
        self.STORAGE_ENCRYPTION_KEYS = [
            key.strip()
            for key in (env_str("STORAGE_ENCRYPTION_KEYS", "") or "").split(",")
            if key.strip()
        ]
        # Service-account key or authorised-user token, for STORAGE_URL=googledrive://...
        self.GOOGLE_DRIVE_CREDENTIALS_FILE = env_str("GOOGLE_DRIVE_CREDENTIALS_FILE")
        self.HUEY_SQLITE_PATH = str(folder / "huey.db")
        # Documents (app/services/rendering, app/services/documents).
        self.PDF_ENGINE = env_str("PDF_ENGINE", "weasyprint")
        self.WKHTMLTOPDF_PATH = env_str("WKHTMLTOPDF_PATH")
        # WeasyPrint shares parsed <style> sheets between renders, keyed by their text
        # (app/services/rendering/stylesheets.py); 0 parses each document's afresh.
        self.PDF_STYLESHEET_CACHE = env_bool("PDF_STYLESHEET_CACHE", True)
        self.RENDER_TIMEOUT_SECONDS = env_int("RENDER_TIMEOUT_SECONDS", 30)
        self.DOCUMENT_LEASE_SECONDS = env_int("DOCUMENT_LEASE_SECONDS", 300)
        self.DOCUMENT_MAX_ATTEMPTS = env_int("DOCUMENT_MAX_ATTEMPTS", 3)
        self.DOCUMENT_BATCH_MAX = env_int("DOCUMENT_BATCH_MAX", 1000)
        # List exports (app/views/exports.py): beyond this many rows, a job makes the file.
        self.EXPORT_SYNC_MAX_ROWS = env_int("EXPORT_SYNC_MAX_ROWS", 10_000)
        # A queued row older than this with no worker on it is enqueued again by the sweeper.
        self.DOCUMENT_REQUEUE_SECONDS = env_int("DOCUMENT_REQUEUE_SECONDS", 60)
        # Signed download links (app/services/links): default and longest lifetime.
        self.LINK_TTL_SECONDS = env_int("LINK_TTL_SECONDS", 300)
        self.LINK_TTL_MAX_SECONDS = env_int("LINK_TTL_MAX_SECONDS", 3600)
        # "kid:secret,kid:secret", signing key first; when set, database keys are ignored.
        self.LINK_SIGNING_KEYS = env_str("LINK_SIGNING_KEYS")
        self.RATELIMIT_LINK_DOWNLOAD = env_str("RATELIMIT_LINK_DOWNLOAD", "3/minute")
        # Retention in days per template kind (docs/operations.md gives the reasons).
        self.RETENTION_CONTRACT_YEARS_AFTER_EXPIRY = env_int(
            "RETENTION_CONTRACT_YEARS_AFTER_EXPIRY", 10
        )
        self.RETENTION_ATTESTATION_DAYS = env_int("RETENTION_ATTESTATION_DAYS", 5 * 365)
        self.RETENTION_NOTICE_DAYS = env_int("RETENTION_NOTICE_DAYS", 3 * 365)
        self.RETENTION_REPORT_DAYS = env_int("RETENTION_REPORT_DAYS", 365)
        self.RETENTION_OTHER_DAYS = env_int("RETENTION_OTHER_DAYS", 5 * 365)
        self.FAILED_JOB_RETENTION_DAYS = env_int("FAILED_JOB_RETENTION_DAYS", 30)
        # An attachment file with no row is removed by the purge once this old: an upload
        # in flight has written its file and not yet committed its row.
        self.ATTACHMENT_ORPHAN_GRACE_HOURS = env_int("ATTACHMENT_ORPHAN_GRACE_HOURS", 24)
        # The worker applies the purge daily (app/tasks/purge.py); false: only `flask purge`.
        self.PURGE_PERIODIC = env_bool("PURGE_PERIODIC", True)
        # Imports of clients and policies (app/services/imports); docs/import.md.
        self.IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
        self.IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 10_000)
        self.IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 1_000)
        self.IMPORT_MAX_UNCOMPRESSED_BYTES = env_int(
            "IMPORT_MAX_UNCOMPRESSED_BYTES", 64 * 1024 * 1024
        )
        self.IMPORT_STAGING_SECONDS = env_int("IMPORT_STAGING_SECONDS", 3600)
        # E-mail (app/services/mail, docs/mail.md): MAIL_URL names the SMTP server; without
        # it messages stay in the local outbox. The sender when an agency has none of its own.
        self.MAIL_URL = env_str("MAIL_URL")
        for key, value in mail_settings(self.MAIL_URL).items():
            setattr(self, key, value)
        self.MAIL_DEFAULT_SENDER = env_str("MAIL_DEFAULT_SENDER", "noreply@localhost")
        # Messages an agency sends per minute; beyond, they wait for the next minute.
        self.MAIL_RATE_PER_MINUTE = env_int("MAIL_RATE_PER_MINUTE", 60)
        # The most messages one bulk send may ask for.
        self.MAIL_BULK_MAX = env_int("MAIL_BULK_MAX", 1000)
        self.PORT = env_int("PORT", 8000)
        self.HOST = env_str("HOST", "127.0.0.1")
        self.LOG_LEVEL = (env_str("LOG_LEVEL", "INFO") or "INFO").upper()
        self.LOG_JSON = env_bool("LOG_JSON", False)
        self.DEBUG = env_bool("FLASK_DEBUG", False)
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
        self.API_PAGE_SIZE_MAX = env_int("API_PAGE_SIZE_MAX", 100)
        self.FAB_API_MAX_PAGE_SIZE = self.API_PAGE_SIZE_MAX
        self.PASSWORD_HASH_METHOD = env_str("PASSWORD_HASH_METHOD", "scrypt:131072:8:1")
        self.FAB_PASSWORD_HASH_METHOD = self.PASSWORD_HASH_METHOD
        # When set, /metrics answers only to "Authorization: Bearer <METRICS_TOKEN>".
        self.METRICS_TOKEN = env_str("METRICS_TOKEN")
        # API tokens (app/services/tokens.py): short access tokens, rotating refresh tokens.
        self.JWT_ACCESS_TOKEN_EXPIRES = dt.timedelta(
            minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 15)
        )
        self.JWT_REFRESH_TOKEN_EXPIRES = dt.timedelta(days=env_int("JWT_REFRESH_TOKEN_DAYS", 30))
        # Rate limits (app/api/limits.py), in flask-limiter's notation ("10/minute").
        self._ratelimit_storage_uri = env_str("RATELIMIT_STORAGE_URI")
        self.RATELIMIT_LOGIN_IP = env_str("RATELIMIT_LOGIN_IP", "20/minute")
        self.RATELIMIT_LOGIN_ACCOUNT = env_str("RATELIMIT_LOGIN_ACCOUNT", "10/minute")
        self.RATELIMIT_REFRESH = env_str("RATELIMIT_REFRESH", "30/minute")
        self.RATELIMIT_API = env_str("RATELIMIT_API", "600/minute")
        self.AUTH_RATE_LIMIT = env_str("RATELIMIT_LOGIN_FORM", "10/minute")

    @property
    def RATELIMIT_STORAGE_URI(self) -> str:  # noqa: N802 (Flask config key)
        """Shared counters in Redis when there is one (several workers), else in memory."""
        return self._ratelimit_storage_uri or self.REDIS_URL or "memory://"

    @RATELIMIT_STORAGE_URI.setter
    def RATELIMIT_STORAGE_URI(self, value: str | None) -> None:  # noqa: N802
        self._ratelimit_storage_uri = value

    @property
    def RATELIMIT_STORAGE_OPTIONS(self) -> dict[str, object]:  # noqa: N802 (Flask config key)
        """Short Redis timeouts: a hung Redis costs a second, then limits fall back to memory."""
        from app.ops.outages import rate_limit_storage_options

        return rate_limit_storage_options(self.RATELIMIT_STORAGE_URI)

    @property
    def SQLALCHEMY_ENGINE_OPTIONS(self) -> dict[str, object]:  # noqa: N802 (Flask config key)
        """Test each pooled connection before use: after a database restart or a cut
        connection the pool hands out a live one instead of failing the first use."""
        override = getattr(self, "_engine_options", None)
        if override is not None:
            return override
        options: dict[str, object] = {"pool_pre_ping": True}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql") and (
            "connect_timeout=" not in self.SQLALCHEMY_DATABASE_URI
        ):
            # An unreachable host answers 503 in seconds rather than after TCP's minutes.
            options["connect_args"] = {"connect_timeout": self.DATABASE_CONNECT_TIMEOUT}
        return options

    @SQLALCHEMY_ENGINE_OPTIONS.setter
    def SQLALCHEMY_ENGINE_OPTIONS(self, value: dict[str, object] | None) -> None:  # noqa: N802
        self._engine_options = value

    @property
    def AUTH_DB_FAKE_PASSWORD_HASH_CHECK(self) -> str:  # noqa: N802 (Flask config key)
        """A hash of the real method, so unknown users cost as much as wrong passwords."""
        return _fake_hash(self.PASSWORD_HASH_METHOD)

    # --- Flask-AppBuilder -------------------------------------------------
    APP_NAME = "MonAssurance"
    FAB_BASE_TEMPLATE = "layout.html"  # FAB's layout with our favicon (app/templates)
    APP_THEME = ""

    @property
    def AUTH_TYPE(self) -> int:  # noqa: N802 (Flask config key)
        """FAB's database login. Read here, not at import: flask_appbuilder's package
        import costs most of a second, which run.py should not pay before it starts
        the web server."""
        from flask_appbuilder.const import AUTH_DB

        return AUTH_DB

    AUTH_USER_REGISTRATION = False
    AUTH_ROLE_ADMIN = "SUPERADMIN"
    AUTH_ROLE_PUBLIC = "Public"
    FAB_CREATE_DB = False  # Alembic owns the schema
    FAB_UPDATE_PERMS = False  # synced once by `flask monassurance sync-roles`
    FAB_ADD_SECURITY_API = False  # users and roles get organisation-aware APIs of our own
    FAB_ADD_MENU_API = False  # for single-page front ends: our screens render their menu
    FAB_API_SWAGGER_UI = True
    # app/registry.py registers the spec view itself (app/api/openapi.py) and Swagger UI.
    FAB_ADD_OPENAPI_VIEWS = False
    FAB_SECURITY_MANAGER_CLASS = "app.security.MonAssuranceSecurityManager"
    FAB_INDEX_VIEW = "app.views.home.HomeView"

    # --- Flask / extensions -------------------------------------------------
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Redis away: judge limits in each process's memory, never fail the request
    # (app/ops/outages.py, docs/operations.md "When a service is down").
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    AUTH_RATE_LIMITED = True  # FAB's HTML login form, limited to AUTH_RATE_LIMIT per IP
    # API keys: FAB's table and checks (app/services/api_keys.py). A key carries
    # 256 random bits, so its stored hash needs no stretching: a light one keeps
    # each request fast; the lookup is a keyed hash (FAB's).
    FAB_API_KEY_ENABLED = True
    FAB_API_KEY_PREFIXES = ["ma_"]
    FAB_API_KEY_HASH_METHOD = "pbkdf2:sha256:1000"

    # --- Babel: French first -------------------------------------------------
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_FOLDER = "app/translations"
    LANGUAGES = {
        "fr": {"flag": "fr", "name": "Français"},
        "en": {"flag": "gb", "name": "English"},
    }


class TestConfig(Config):
    """Fast, isolated settings for the test suite."""

    TESTING = True
    WTF_CSRF_ENABLED = True

    def __init__(self, **overrides: object) -> None:
        super().__init__()
        # A cheap hash keeps the suite fast; production uses scrypt N=2^17.
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 (a method, not a secret)
        self.FAB_PASSWORD_HASH_METHOD = self.PASSWORD_HASH_METHOD
        for key, value in overrides.items():
            setattr(self, key, value)
