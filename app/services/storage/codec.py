"""What happens to bytes on their way to storage and back: gzip, then encryption.

Encryption uses cryptography's MultiFernet over a key list: the first key
encrypts, every key decrypts, so keys rotate without breaking old files.

A Fernet token is authenticated as a whole, so one token per file would have to
be read entirely before its first byte could be trusted. Files are therefore
encrypted in frames: ``MAGIC`` then, for each slice of up to ``FRAME_BYTES``,
its token's length (4 bytes, big-endian) and the token. Each frame is checked
on its own, so a download decrypts and decompresses as it streams. The frame
number is bound into each slice (its first 4 bytes) and the last frame says it is
the last, so frames cannot be reordered, dropped or cut off unnoticed. Files
written before frames (one bare token, which never starts with ``MAGIC``) still
read.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MAGIC = b"MAF\x01"  # MonAssurance frames, version 1
FRAME_BYTES = 256 * 1024
_LENGTH = struct.Struct(">I")
_HEADER = struct.Struct(">IB")  # frame number, last-frame flag
_GZIP_WBITS = 16 + zlib.MAX_WBITS
MAX_TOKEN_BYTES = 2 * FRAME_BYTES  # a token of one frame is ~4/3 of it, base64


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
            data = b"".join(self._encrypt_frames(data))
        return data

    def decode(self, data: bytes, *, compressed: bool, encrypted: bool) -> bytes:
        return b"".join(self.decode_stream([data], compressed=compressed, encrypted=encrypted))

    def decode_stream(
        self, blocks: Iterable[bytes], *, compressed: bool, encrypted: bool
    ) -> Iterator[bytes]:
        """The original bytes of a stored file read in ``blocks``, as they come."""
        if encrypted:
            blocks = self._decrypt_blocks(blocks)
        if compressed:
            blocks = _gunzip(blocks)
        for block in blocks:
            if block:
                yield block

    def rotate(self, data: bytes) -> bytes:
        """Re-encrypt with the first key (for a key-rotation job)."""
        fernet = self._require_key()
        if not data.startswith(MAGIC):
            return fernet.rotate(data)
        parts = [MAGIC]
        for token in _tokens([data]):
            fresh = fernet.rotate(token)
            parts += [_LENGTH.pack(len(fresh)), fresh]
        return b"".join(parts)

    def _require_key(self) -> MultiFernet:
        if self._fernet is None:
            raise ValueError("encryption asked for but STORAGE_ENCRYPTION_KEYS is not set")
        return self._fernet

    def _encrypt_frames(self, data: bytes) -> Iterator[bytes]:
        fernet = self._require_key()
        yield MAGIC
        view = memoryview(data)
        starts = range(0, max(len(view), 1), FRAME_BYTES)
        for number, start in enumerate(starts):
            last = start + FRAME_BYTES >= len(view)
            token = fernet.encrypt(
                _HEADER.pack(number, last) + bytes(view[start : start + FRAME_BYTES])
            )
            yield _LENGTH.pack(len(token))
            yield token

    def _decrypt_blocks(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        if self._fernet is None:
            raise CodecError("the file is encrypted and no key is configured")
        blocks = iter(blocks)
        head = b""
        for block in blocks:
            head += block
            if len(head) >= len(MAGIC):
                break
        if not head.startswith(MAGIC):
            # Written before frames: one token for the whole file.
            yield self._decrypt(head + b"".join(blocks))
            return
        expected, finished = 0, False
        for token in _tokens(_prepend(head, blocks)):
            if finished:
                raise CodecError("the encrypted file has data after its last frame")
            plain = self._decrypt(token)
            if len(plain) < _HEADER.size:
                raise CodecError("the encrypted file is damaged")
            number, last = _HEADER.unpack_from(plain)
            if number != expected:
                raise CodecError("the encrypted file's frames are out of order")
            expected, finished = expected + 1, bool(last)
            yield plain[_HEADER.size :]
        if not finished:
            raise CodecError("the encrypted file is cut short")

    def _decrypt(self, token: bytes) -> bytes:
        assert self._fernet is not None
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise CodecError("no configured key decrypts this file") from None


def _prepend(head: bytes, blocks: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from blocks


def _tokens(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The tokens of a framed file (``MAGIC`` included), however the blocks cut it."""
    buffer = bytearray()
    seen_magic = False
    for block in blocks:
        buffer += block
        if not seen_magic:
            if len(buffer) < len(MAGIC):
                continue
            buffer = bytearray(buffer[len(MAGIC) :])
            seen_magic = True
        while len(buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer)
            if length > MAX_TOKEN_BYTES:
                raise CodecError("the encrypted file is damaged")
            if len(buffer) < _LENGTH.size + length:
                break
            yield bytes(buffer[_LENGTH.size : _LENGTH.size + length])
            # A new buffer, not ``del buffer[:n]``: a bytearray trimmed at the front
            # keeps its whole allocation, which would grow to the size of the file.
            buffer = bytearray(buffer[_LENGTH.size + length :])
    if buffer:
        raise CodecError("the encrypted file is cut short")


def _gunzip(blocks: Iterable[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj(_GZIP_WBITS)
    try:
        for block in blocks:
            # Bounded output per step: a small block of a "zip bomb" cannot fill memory.
            data = block
            while data:
                yield inflater.decompress(data, FRAME_BYTES)
                data = inflater.unconsumed_tail
        yield inflater.flush()
    except zlib.error as error:
        raise CodecError("the compressed file is damaged") from error
    if not inflater.eof:
        raise CodecError("the compressed file is damaged")
