"""An upload whose transaction does not commit leaves no file behind (nor its thumbnail)."""

from __future__ import annotations

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import scoped_session

from app.extensions import db
from app.models import Attachment, Claim
from app.services.attachments import files
from app.services.storage import attachment_key, file_store
from tests.test_api_attachments import (  # noqa: F401 (the claim fixture)
    claim,
    png_bytes,
    upload,
)


def _keys(org: int, attachment_id: int) -> list[str]:
    return [attachment_key(org, attachment_id), attachment_key(org, attachment_id, thumbnail=True)]


def test_a_commit_that_fails_after_the_upload_deletes_the_stored_files(
    app,
    http,
    claim,  # noqa: F811
    monkeypatch,
):
    def refuse_commit(session):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    seen: list[int] = []
    original = files.add_attachment

    def stored_then_commit_fails(session, store, *args, **kwargs):
        attachment = original(session, store, *args, **kwargs)
        seen.append(attachment.id)
        # Both files are stored before the commit is tried...
        assert all(store.exists(key) for key in _keys(claim["org"], attachment.id))
        real = session() if isinstance(session, scoped_session) else session
        event.listen(real, "before_commit", refuse_commit, once=True)
        return attachment

    monkeypatch.setattr(files, "add_attachment", stored_then_commit_fails)
    response = upload(http, claim, png_bytes(), "photo.png")
    assert response.status_code == 503
    assert len(seen) == 1
    # ... and gone once it failed, with no row.
    with app.app_context():
        store = file_store(app)
        assert not any(store.exists(key) for key in _keys(claim["org"], seen[0]))
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_a_committed_upload_keeps_its_files_and_a_rollback_drops_them(app, claim):  # noqa: F811
    store = file_store(app)
    with app.app_context():
        owner = db.session.get(Claim, claim["id"])
        kept = files.add_attachment(
            db.session, store, owner, data=png_bytes(), file_name="a.png", user_id=None
        )
        db.session.commit()
        dropped = files.add_attachment(
            db.session, store, owner, data=png_bytes(), file_name="b.png", user_id=None
        )
        dropped_id = dropped.id
        assert store.exists(attachment_key(claim["org"], dropped_id))
        db.session.rollback()
        assert all(store.exists(key) for key in _keys(claim["org"], kept.id))
        assert not any(store.exists(key) for key in _keys(claim["org"], dropped_id))
        # The committed file is not touched by a later transaction's rollback.
        db.session.rollback()
        assert store.exists(attachment_key(claim["org"], kept.id))
