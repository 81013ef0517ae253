"""The password policy: one function every door calls (API, screens, CLI, FAB's forms).

Follows NIST SP 800-63B §3.1.1.2 and OWASP ASVS 2.1: a minimum length, a generous
maximum, a check against passwords attackers try first, and no composition rules
(no "one digit, one symbol": they make passwords harder to remember, not to guess).
The list of common passwords ships with the code (app/data/common-passwords.txt,
built by scripts/build_common_passwords.py): nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"

# Characters people put around a weak word ("Password2024!") and the digits and
# symbols they put in it ("P@ssw0rd"): both are undone before the list is asked.
_AROUND = string.digits + string.punctuation + string.whitespace
_LEET_COMMON = {"@": "a", "4": "a", "3": "e", "€": "e", "0": "o", "$": "s", "5": "s", "!": "i"}
_LEET_COMMON |= {"7": "t", "+": "t", "8": "b", "9": "g"}
# "1" stands for "i" as often as for "l": try both readings.
_LEET = (str.maketrans(_LEET_COMMON | {"1": "i"}), str.maketrans(_LEET_COMMON | {"1": "l"}))
# Runs a keyboard or the alphabet gives for free ("qwertyuiopas", "123456789012").
_SEQUENCES = (
    string.ascii_lowercase * 2,
    string.digits * 4,
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1azerty2qsdfg3wxcvb",
    "qazwsxedcrfvtgbyhnujmikolp",
)
_LONGEST_REPEATED_UNIT = 8


class PasswordPolicyError(ValueError):
    """The password may not be used; ``message`` says why, in the user's language."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def check_password(password: object, username: str | None = None) -> None:
    """Accept the password or raise PasswordPolicyError with a translated message.

    ``username`` (when known) may not appear in the password.
    """
    problem = password_problem(password, username)
    if problem is not None:
        raise PasswordPolicyError(problem)


def password_problem(password: object, username: str | None = None) -> str | None:
    """The reason this password is refused, or None when it is acceptable."""
    if not isinstance(password, str) or not password:
        return _("A password is required.")
    # NIST counts each Unicode code point as one character; NFKC first so that
    # full-width or composed forms are compared like what the user meant.
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < MIN_LENGTH:
        return _("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    if len(normalised) > MAX_LENGTH:
        return _("The password must have at most %(n)d characters.", n=MAX_LENGTH)
    lowered = normalised.casefold()
    if username and len(username.strip()) >= 3 and username.strip().casefold() in lowered:
        return _("The password must not contain the user name.")
    if is_guessable(lowered):
        return _("This password is too common or too easy to guess: please choose another one.")
    return None


def is_guessable(lowered: str) -> bool:
    """True for a listed password, a listed word dressed up, a repetition or a keyboard run."""
    common = common_passwords()
    if lowered in common or _is_run(lowered) or _repeated_unit(lowered) is not None:
        return True
    core = lowered.strip(_AROUND)
    if not core:
        return False  # only digits and symbols, neither a run nor a repetition
    for table in _LEET:
        word = core.translate(table)
        unit = _repeated_unit(word) or word
        if word in common or unit in common:
            return True
    return False


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (read once per process)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def _is_run(text: str) -> bool:
    compact = "".join(text.split())
    return any(compact in run or compact in run[::-1] for run in _SEQUENCES)


def _repeated_unit(text: str) -> str | None:
    """The short unit the text repeats ("abcabcabcabc" -> "abc"), if any."""
    for size in range(1, min(_LONGEST_REPEATED_UNIT, len(text) // 2) + 1):
        unit = text[:size]
        if (unit * (len(text) // size + 1))[: len(text)] == text:
            return unit
    return None


def hash_password(password: str) -> str:
    """The stored form of an accepted password, with the configured method (FAB's settings)."""
    config = current_app.config
    return generate_password_hash(
        password,
        method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )
