"""What happens to bytes on their way to storage and back: gzip, then encryption.

Encryption uses cryptography's MultiFernet over a key list: the first key
encrypts, every key decrypts, so keys rotate without breaking old files.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CodecError(ValueError):
    """Stored bytes cannot be turned back into the original (wrong key, corruption)."""


class Codec:
    def __init__(self, encryption_keys: Sequence[str] = ()) -> None:
        keys = [key.strip() for key in encryption_keys if key.strip()]
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None
        except ValueError as error:
            raise ValueError(
                "STORAGE_ENCRYPTION_KEYS must hold url-safe base64 Fernet keys"
            ) from error

    @property
    def can_encrypt(self) -> bool:
        return self._fernet is not None

    def encode(self, data: bytes, *, compress: bool, encrypt: bool) -> bytes:
        if compress:
            # mtime=0 keeps the output reproducible for the same input.
            data = gzip.compress(data, compresslevel=6, mtime=0)
        if encrypt:
            if self._fernet is None:
                raise ValueError("encryption asked for but STORAGE_ENCRYPTION_KEYS is not set")
            data = self._fernet.encrypt(data)
        return data

    def decode(self, data: bytes, *, compressed: bool, encrypted: bool) -> bytes:
        if encrypted:
            if self._fernet is None:
                raise CodecError("the file is encrypted and no key is configured")
            try:
                data = self._fernet.decrypt(data)
            except InvalidToken:
                raise CodecError("no configured key decrypts this file") from None
        if compressed:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as error:
                raise CodecError("the compressed file is damaged") from error
        return data

    def rotate(self, data: bytes) -> bytes:
        """Re-encrypt with the first key (for a key-rotation job)."""
        if self._fernet is None:
            raise ValueError("no encryption key configured")
        return self._fernet.rotate(data)
