"""The password policy itself (app.services.passwords); the doors are tested in
tests/test_users_api.py and tests/test_users_screens.py."""

from __future__ import annotations

import pytest

from app.services import passwords
from app.services.passwords import PasswordPolicyError, check_password, password_problem
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "Zoé à Noël!?",  # exactly 12 code points
        "mon chat s'appelle Félix",
        "x7Kp9mQ2vL4n",
        "dupont-jean-99",
        "Trois pommes & 2 poires",
        "a" + "bcdefghijklmnopqrstuvwxyz0123456789"[::3] * 3,
        "Le chat de Zoé dort sur 3 coussins bleus; " * 3,  # 129 chars, cut below
    ],
)
def test_reasonable_passwords_are_accepted(password):
    password = password[:128]
    assert password_problem(password) is None
    check_password(password, username="jdupont")  # does not raise


@pytest.mark.parametrize(
    "password",
    [
        "password2024",
        "Password2024!",
        "P@ssw0rd2024!",
        "p4ssw0rd!!!!",
        "ＰＡＳＳＷＯＲＤ２０２４",  # full-width, normalised first
        "passwordpassword",
        "motdepasse123",
        "Azertyuiop123",
        "qwertyuiopas",
        "1q2w3e4r5t6y",
        "123456789012",
        "210987654321",
        "abcdefghijklm",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "121212121212",
        "iloveyoumarie",
        "jetaimenicolas!",
        "Marseille13013",
        "Soleil2024!!",
        "Monassurance2026",
        "Bienvenue2026!",
        "            ",
    ],
)
def test_common_and_guessable_passwords_are_refused(password):
    problem = password_problem(password)
    assert problem is not None and "12" not in problem, problem
    with pytest.raises(PasswordPolicyError) as raised:
        check_password(password)
    assert raised.value.message == problem
    assert isinstance(raised.value, ValueError)  # callers may catch ValueError


@pytest.mark.parametrize(
    ("length", "accepted"),
    [(11, False), (12, True), (64, True), (128, True), (129, False), (10_000, False)],
)
def test_length_bounds(length, accepted):
    password = ("Zoé lit 3 romans, Léo 2 BD; " * 400)[:length]
    assert (password_problem(password) is None) is accepted


def test_length_counts_code_points_not_bytes():
    password = "éàüöçñßøåæœ!"  # 12 code points, 24 bytes in UTF-8
    assert len(password) == 12 and len(password.encode()) > 12
    assert password_problem(password) is None
    assert password_problem(password[:11]) is not None


@pytest.mark.parametrize("value", [None, "", 12345678901234, b"bytes-password-x", ["a" * 12]])
def test_missing_or_non_text_password_is_refused(value):
    assert password_problem(value) is not None


def test_password_may_not_contain_the_user_name():
    assert password_problem("claire.martin is me", username="claire.martin") is not None
    assert password_problem("I am CLAIRE.MARTIN!", username="claire.martin") is not None
    assert password_problem("claire.martin is me", username="paul") is None
    # Very short user names would forbid too much: they are not looked for.
    assert password_problem("le jour se lève à Yz", username="yz") is None


def test_shipped_list_is_the_generators_output():
    """The data file is built by the script: edit the script, then run it."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "build_common_passwords.py"
    spec = importlib.util.spec_from_file_location("build_common_passwords", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = passwords.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    entries = [line for line in lines if line and not line.startswith("#")]
    assert entries == module.build()
    assert 3000 <= len(entries) <= 20_000
    assert all(entry == entry.casefold() and entry.strip() == entry for entry in entries)
    assert PASSWORD not in passwords.common_passwords()
