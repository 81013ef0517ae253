"""The same purge tests, with the file store on S3 (a local moto server the tests start).

The test functions are imported from the local-folder modules and run here with this
module's ``store`` fixture: same scenario, same assertions, other backend.
"""

from __future__ import annotations

import secrets

import pytest

from app.services.storage import open_store
from tests import s3_server
from tests.purge_factory import using_store
from tests.s3_server import s3_url
from tests.test_purge_concurrency import (  # noqa: F401 (collected here, on S3)
    test_generation_during_purge_loses_nothing,
)
from tests.test_purge_service import (  # noqa: F401 (the scenario fixture and its tests)
    scenario,
    test_apply_removes_exactly_those_files_and_rows,
    test_dry_run_lists_exactly_the_orphans_and_the_expired_documents,
)

s3_endpoint = s3_server.s3_endpoint


@pytest.fixture
def store(app, s3_endpoint):
    # A prefix of its own per test: the bucket outlives each test.
    url = s3_url(s3_endpoint, f"purge-{secrets.token_hex(4)}")
    with using_store(app, open_store(url)) as store:
        yield store


def test_the_store_under_test_is_s3(store):
    assert type(store._fs).__name__ == "S3FS"
