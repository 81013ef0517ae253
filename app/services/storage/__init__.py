"""Stored files, behind one module: every storage call in the product goes through here."""

from __future__ import annotations

from flask import Flask, current_app

from app.services.storage.store import (
    FileStore,
    StorageError,
    StoredFile,
    attachment_key,
    document_key,
    open_store,
)

__all__ = [
    "FileStore",
    "StorageError",
    "StoredFile",
    "attachment_key",
    "document_key",
    "file_store",
    "open_store",
]


def file_store(app: Flask | None = None) -> FileStore:
    """The store of this app (STORAGE_URL, STORAGE_ENCRYPTION_KEYS, GOOGLE_DRIVE_CREDENTIALS_FILE),
    opened once and kept."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    store = app.extensions.get("monassurance_file_store")
    if store is None:
        store = open_store(
            app.config["STORAGE_URL"],
            app.config["STORAGE_ENCRYPTION_KEYS"],
            google_credentials_file=app.config.get("GOOGLE_DRIVE_CREDENTIALS_FILE"),
        )
        app.extensions["monassurance_file_store"] = store
    return store
