"""The purge removes attachment files that no row refers to — what an upload leaves when its
process dies between storing the bytes and committing the row — once they are older than
the grace period; younger ones (maybe an upload in flight) and referenced ones stay, with the
store's encryption on or off."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Policy, PurgeRun
from app.services import audit
from app.services.attachments import files
from app.services.purge import PurgeScope, run_purge
from app.services.purge.runs import purger
from app.services.storage import attachment_key, open_store
from tests.purge_factory import using_store
from tests.test_api_attachments import png_bytes

OPERATOR = audit.Actor(None, "test-operator", None)
GRACE_HOURS = 24


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
def store(request, app, tmp_path, monkeypatch):
    keys = [Fernet.generate_key().decode()] if request.param else []
    monkeypatch.setitem(app.config, "STORAGE_ENCRYPTION_KEYS", keys)
    monkeypatch.setitem(app.config, "ATTACHMENT_ORPHAN_GRACE_HOURS", GRACE_HOURS)
    with using_store(app, open_store(f"osfs://{tmp_path}", keys)) as opened:
        opened.root = tmp_path
        yield opened


def _attach(app, store, policy_id: int, *, dies: bool) -> tuple[int, list[str], bytes]:
    """An upload of a PNG (file and thumbnail); ``dies``: the process is killed after the
    files are stored and before the commit (its clean-up never runs, the database drops
    the row)."""
    data = png_bytes()
    with app.app_context():
        session = db.session
        owner = session.get(Policy, policy_id)
        attachment = files.add_attachment(
            session, store, owner, data=data, file_name="constat.png", user_id=None
        )
        org, attachment_id = attachment.organisation_id, attachment.id
        if dies:
            session.info.pop(files.UNCOMMITTED)
            session.rollback()
        else:
            session.commit()
    keys = [attachment_key(org, attachment_id), attachment_key(org, attachment_id, thumbnail=True)]
    assert all(store.exists(key) for key in keys)
    return attachment_id, keys, data


def _age(store, keys: list[str], hours: float) -> None:
    """Make the files look written ``hours`` ago (as a file left since then would be)."""
    moment = time.time() - hours * 3600
    for key in keys:
        os.utime(store.root / key, (moment, moment))


EVERYWHERE = PurgeScope(None)


def _purge(app, scope=EVERYWHERE, *, apply=True) -> PurgeRun:
    with app.app_context():
        run = run_purge(db.session, scope=scope, trigger="cli", apply=apply, actor=OPERATOR)
        db.session.expunge(run)
        return run


def _orphans(run: PurgeRun) -> set[str]:
    return {item["key"] for item in run.report if item["category"] == "orphan_attachment"}


def test_a_dead_upload_s_files_go_after_the_grace_period_and_kept_ones_stay(
    app, store, make_organisation, portfolio
):
    org = make_organisation()
    policy_id = portfolio(org, "PA")["policy"]
    kept_id, kept_keys, kept_bytes = _attach(app, store, policy_id, dies=False)
    _dead_id, dead_keys, _data = _attach(app, store, policy_id, dies=True)

    # Just written: it may be an upload in flight, so the purge leaves it.
    young = _purge(app)
    assert _orphans(young) == set()
    assert all(store.exists(key) for key in dead_keys)

    _age(store, [*dead_keys, *kept_keys], GRACE_HOURS + 1)
    dry = _purge(app, apply=False)
    assert _orphans(dry) == set(dead_keys)
    assert all(store.exists(key) for key in dead_keys)  # a dry run deletes nothing

    applied = _purge(app)
    assert _orphans(applied) == set(dead_keys)
    assert all(item["removed"] for item in applied.report if item["key"] in dead_keys)
    assert not any(store.exists(key) for key in dead_keys)
    assert applied.files_count == 2 and applied.bytes_total > 0
    # The referenced attachment, as old, is untouched and reads back byte for byte.
    assert all(store.exists(key) for key in kept_keys)
    with app.app_context():
        encrypted = bool(app.config["STORAGE_ENCRYPTION_KEYS"])
        assert store.get(kept_keys[0], compressed=False, encrypted=encrypted) == kept_bytes
        summary = db.session.scalar(
            select(AuditLog).where(
                AuditLog.action == "purge.run", AuditLog.object_id == str(applied.id)
            )
        )
        assert summary.changes["attachment_files"] == 2 and summary.changes["files"] == 2
    assert kept_id != _dead_id
    # Nothing left for the next run.
    assert _orphans(_purge(app)) == set()


def test_a_file_just_under_the_grace_period_is_kept(app, store, make_organisation, portfolio):
    policy_id = portfolio(make_organisation(), "PB")["policy"]
    _id, keys, _data = _attach(app, store, policy_id, dies=True)
    _age(store, keys, GRACE_HOURS - 0.5)

    assert _orphans(_purge(app)) == set()
    assert all(store.exists(key) for key in keys)


def test_an_agency_s_purge_leaves_another_agency_s_orphans(
    app, store, make_organisation, portfolio
):
    mine, theirs = make_organisation(), make_organisation()
    _mine_id, my_keys, _ = _attach(app, store, portfolio(mine, "PC")["policy"], dies=True)
    _their_id, their_keys, _ = _attach(app, store, portfolio(theirs, "PD")["policy"], dies=True)
    _age(store, [*my_keys, *their_keys], GRACE_HOURS * 3)

    run = _purge(app, PurgeScope(mine))

    assert _orphans(run) == set(my_keys)
    assert all(store.exists(key) for key in their_keys)


def test_a_file_written_again_between_planning_and_deleting_is_kept(
    app, store, make_organisation, portfolio
):
    """On SQLite a new upload can take the id a dead one never committed: it rewrites the
    file at the same key, young again, and the deletion's second look keeps it."""
    policy_id = portfolio(make_organisation(), "PE")["policy"]
    _id, keys, _data = _attach(app, store, policy_id, dies=True)
    _age(store, keys, GRACE_HOURS * 2)
    with app.app_context():
        work = purger(db.session, PurgeScope(None))
        plan = work.plan()
        assert {item.key for item in plan.of("orphan_attachment")} == set(keys)
        _age(store, keys[:1], 0)  # the file (not its thumbnail) written again now
        done: list = []
        run = PurgeRun(trigger="cli", applied=True, status="running")
        db.session.add(run)
        db.session.commit()
        work.apply(plan, run.id, OPERATOR, done)
    assert [item.key for item, _removed in done] == keys[1:]
    assert store.exists(keys[0]) and not store.exists(keys[1])


def test_a_negative_grace_period_is_refused(app, monkeypatch):
    from app.services.purge import RetentionRules

    monkeypatch.setitem(app.config, "ATTACHMENT_ORPHAN_GRACE_HOURS", -1)
    with pytest.raises(ValueError, match="negative"):
        RetentionRules.from_config(app.config)
    monkeypatch.setitem(app.config, "ATTACHMENT_ORPHAN_GRACE_HOURS", 2)
    rules = RetentionRules.from_config(app.config)
    now = dt.datetime(2026, 12, 7, 12, 0)
    assert rules.attachment_cutoff(now) == dt.datetime(2026, 12, 7, 10, 0)
