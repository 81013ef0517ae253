"""Stored files, behind one module: every storage call in the product goes through here."""

from app.services.storage.store import FileStore, StorageError, StoredFile, document_key, open_store

__all__ = ["FileStore", "StorageError", "StoredFile", "document_key", "open_store"]
