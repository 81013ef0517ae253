"""Schemathesis' conformance checks over every operation of /api/v1/_openapi, writes included.

The spec is loaded from the app itself, and each operation gets a few generated requests,
valid ones and invalid ones, from an ADMIN whose agency holds a portfolio. Every answer must
have a documented status, a documented content type and a body that matches its documented
schema, and none may be a 5xx.

(Schemathesis' pytest plugin does not run under pytest 9.2, so the operations are driven
through its documented strategies, one Hypothesis run per operation and mode.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db, limiter
from app.models import AppUser
from app.services import tokens
from tests.conftest import user_organisation
from tests.fuzz_support import fuzz_settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 4  # requests per operation and mode: the sweep stays around a minute
# Doors that end sessions (logout, an ADMIN ending a user's sessions): each of their
# requests gets a token of its own, so one request does not turn the next into a 401.
SESSION_DOORS = "/api/v1/auth/"
# Doors no ADMIN may use (403): their other answers are checked as SUPERADMIN.
SUPERADMIN_DOORS = ("/api/v1/organisation/",)


def fresh_token(app: Flask, username: str) -> str:
    """The access token of a new session of ``username``."""
    with app.test_request_context():
        user = db.session.query(AppUser).filter_by(username=username).one()
        pair = tokens.start_session(db.session, user)
        db.session.commit()
        return pair.access_token


@pytest.fixture
def admin(app, make_user, portfolio) -> str:
    username = make_user("ADMIN")
    portfolio(user_organisation(app, username))
    return username


@pytest.fixture
def superadmin(app, make_user, portfolio) -> str:
    username = make_user("SUPERADMIN")
    portfolio(user_organisation(app, username), suffix="S")
    return username


@pytest.fixture
def api_schema(app, admin) -> Any:
    headers = {"Authorization": f"Bearer {fresh_token(app, admin)}"}
    return schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers=headers)


def check_operation(app: Flask, user: str, operation: Any, mode: GenerationMode) -> str | None:
    """Send ``operation`` generated requests as ``user``; the report of what failed, or None."""
    shared = fresh_token(app, user)
    own_token = operation.path.startswith(SESSION_DOORS)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(fuzz_settings(EXAMPLES), derandomize=True, phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        token = fresh_token(app, user) if own_token else shared
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    limiter.reset()  # the sweep's hundreds of requests must not meet the API's rate limit
    try:
        run()
    except FailureGroup as group:  # each operation's report is kept, then all are shown
        return f"{operation.label} ({mode.value}, as {user}): {group.message}"
    return None


# The sweep is cut in shards, each a test of its own, so that each stays well inside the
# per-test timeout as the API grows (over 200 operations) on a busy two-core machine.
SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_operation_answers_as_documented(app, api_schema, admin, superadmin, shard):
    every = sorted(
        (result.ok() for result in api_schema.get_all_operations()), key=lambda op: op.label
    )
    methods = {operation.method.upper() for operation in every}
    assert {"GET", "POST", "PUT", "DELETE"} <= methods
    assert len(every) > 60
    operations = every[shard::SHARDS]
    runs = [(operation, admin) for operation in operations]
    runs += [(op, superadmin) for op in operations if op.path.startswith(SUPERADMIN_DOORS)]
    assert any(op.path.startswith(SUPERADMIN_DOORS) for op in every)
    failures = [
        report
        for operation, user in runs
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if (report := check_operation(app, user, operation, mode)) is not None
    ]
    assert not failures, "\n\n".join(failures)
