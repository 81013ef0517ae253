"""Configuration from the environment: secret key, password hashing, debug, parsing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.security import check_password_hash

import config as settings
from app.services.passwords import hash_password
from config import Config, normalise_database_url
from tests.conftest import PASSWORD, api_token

ROOT = Path(__file__).resolve().parent.parent
OWASP_SCRYPT = "scrypt:131072:8:1"


@pytest.fixture
def fresh_env(monkeypatch, tmp_path):
    """A data folder of its own and none of the variables that would short-cut the defaults."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    for name in ("SECRET_KEY", "PASSWORD_HASH_METHOD", "FLASK_DEBUG", "DATABASE_URL", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "data"


def test_secret_key_generated_once_and_kept_private(fresh_env):
    first = Config()
    key_file = fresh_env / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.SECRET_KEY) >= 48
    assert key_file.read_text().strip() == first.SECRET_KEY
    # A second read (another process, a restart) agrees: sessions survive restarts.
    assert Config().SECRET_KEY == first.SECRET_KEY


def test_secret_key_differs_between_data_folders(fresh_env, monkeypatch, tmp_path):
    first = Config().SECRET_KEY
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "other"))
    assert first != Config().SECRET_KEY


def test_secret_key_from_environment_wins_and_writes_nothing(fresh_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-" + "x" * 40)
    assert Config().SECRET_KEY == "from-the-environment-" + "x" * 40
    assert not (fresh_env / "secret_key").exists()


def test_processes_starting_together_share_one_secret_key(fresh_env):
    # run.py starts the web server and the worker at once on a fresh data folder.
    env = {**os.environ, "DATA_DIR": str(fresh_env)}
    env.pop("SECRET_KEY", None)
    code = "from config import Config; print(Config().SECRET_KEY)"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert keys == {(fresh_env / "secret_key").read_text().strip()}


def test_production_hashes_passwords_at_owasp_strength(fresh_env):
    config = Config()
    assert config.PASSWORD_HASH_METHOD == OWASP_SCRYPT
    assert config.FAB_PASSWORD_HASH_METHOD == OWASP_SCRYPT
    # Unknown users are checked against a hash of the same cost (no timing oracle).
    assert config.AUTH_DB_FAKE_PASSWORD_HASH_CHECK.startswith(OWASP_SCRYPT + "$")
    # A hash made by the app carries OWASP's minimum cost for scrypt (N=2^17, r=8, p=1),
    # and werkzeug can check it (hashlib needs maxmem for 128 MiB). What the cost takes in
    # seconds is measured by bench/passwords.py, not asserted here.
    site = Flask(__name__)
    site.config.from_object(config)
    with site.app_context():
        hashed = hash_password("s3cret")
    method, salt, _digest = hashed.split("$")
    name, n, r, p = method.split(":")
    assert (name, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    assert len(salt) >= 16
    assert check_password_hash(hashed, "s3cret")
    assert not check_password_hash(hashed, "s3cret!")


def test_the_unknown_user_hash_costs_no_scrypt_run_at_start_up(fresh_env, monkeypatch):
    # Every process builds a Config; an scrypt run in each cost ~0.3 s of CPU per start.
    settings._fake_hash.cache_clear()

    def no_hashing(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("a hash was computed at start-up")

    monkeypatch.setattr(settings, "generate_password_hash", no_hashing)
    fake = Config().AUTH_DB_FAKE_PASSWORD_HASH_CHECK
    method, salt, _digest = fake.split("$")
    assert method == OWASP_SCRYPT and len(salt) >= 16
    # A real hash of the real cost: checking against it takes as long as a wrong password.
    assert check_password_hash(fake, "password") is False


def test_another_hash_method_gets_an_unknown_user_hash_of_its_own(fresh_env, monkeypatch):
    settings._fake_hash.cache_clear()
    monkeypatch.setenv("PASSWORD_HASH_METHOD", "pbkdf2:sha256:600000")
    assert Config().AUTH_DB_FAKE_PASSWORD_HASH_CHECK.startswith("pbkdf2:sha256:600000$")


def test_tests_use_a_cheap_hash(fresh_env):
    assert settings.TestConfig().FAB_PASSWORD_HASH_METHOD.startswith("pbkdf2:")


def test_password_hash_method_can_be_tuned(fresh_env, monkeypatch):
    monkeypatch.setenv("PASSWORD_HASH_METHOD", "scrypt:262144:8:1")
    assert Config().FAB_PASSWORD_HASH_METHOD == "scrypt:262144:8:1"


def test_login_works_with_the_production_hash(app, http, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "FAB_PASSWORD_HASH_METHOD", OWASP_SCRYPT)
    user = make_user("USER")
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        stored = db.session.query(AppUser).filter_by(username=user).one().password
    assert stored.startswith(OWASP_SCRYPT + "$")
    assert api_token(http, user, PASSWORD)
    refused = http.post(
        "/api/v1/security/login",
        json={"username": user, "password": "wrong", "provider": "db", "refresh": False},
    )
    assert refused.status_code == 401


def test_debug_is_off_unless_asked(fresh_env, monkeypatch):
    assert Config().DEBUG is False
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert Config().DEBUG is True
    monkeypatch.setenv("FLASK_DEBUG", "perhaps")
    with pytest.raises(ValueError, match="FLASK_DEBUG must be a boolean"):
        Config()


def test_bad_numbers_are_refused_with_the_variable_name(fresh_env, monkeypatch):
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ValueError, match="PORT must be an integer"):
        Config()


def test_defaults_point_into_the_data_folder(fresh_env, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("STORAGE_URL", raising=False)
    config = Config()
    assert f"sqlite:///{fresh_env.resolve() / 'monassurance.db'}" == config.SQLALCHEMY_DATABASE_URI
    assert config.REDIS_URL is None
    assert f"osfs://{fresh_env.resolve() / 'files'}" == config.STORAGE_URL
    assert config.PORT == 8000
    assert config.METRICS_TOKEN is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////srv/x.db", "sqlite:////srv/x.db"),
    ],
)
def test_database_urls_use_the_shipped_driver(given, expected):
    assert normalise_database_url(given) == expected
