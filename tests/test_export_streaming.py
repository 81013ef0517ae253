"""A streamed export gives its database connection back when the answer is done."""

from __future__ import annotations

from app.extensions import db
from tests.conftest import user_organisation
from tests.export_support import add_policies, csv_rows


def _checked_out(app) -> int:
    with app.app_context():
        return db.engine.pool.checkedout()


def test_a_streamed_csv_export_returns_its_connection_to_the_pool(app, http, login, make_user):
    user = make_user("USER")
    add_policies(app, user_organisation(app, user), 30)
    login(user)
    before = _checked_out(app)
    response = http.get("/policyview/export/csv")
    assert response.is_streamed
    assert len(csv_rows(response)) == 31
    # The rows are read after the request's teardown: a connection left checked out
    # would sit "idle in transaction" (holding its locks) until garbage collection.
    assert _checked_out(app) == before
