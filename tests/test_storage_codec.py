"""The stored form of a file: framed encryption that streams, and files of older sessions."""

from __future__ import annotations

import gzip
import os
import struct

import pytest
from cryptography.fernet import Fernet, MultiFernet

from app.services.storage.codec import FRAME_BYTES, MAGIC, Codec, CodecError

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SIZES = [0, 1, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 1, 2 * FRAME_BYTES + 17]


def _frames(stored: bytes) -> list[bytes]:
    assert stored.startswith(MAGIC)
    body, tokens = stored[len(MAGIC) :], []
    while body:
        (length,) = struct.unpack(">I", body[:4])
        tokens.append(body[4 : 4 + length])
        body = body[4 + length :]
    return tokens


def _framed(tokens: list[bytes]) -> bytes:
    return MAGIC + b"".join(struct.pack(">I", len(token)) + token for token in tokens)


def _blocks(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)] or [b""]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("encrypt", [False, True])
def test_streamed_decoding_gives_the_original_bytes_however_the_blocks_fall(
    size: int, compress: bool, encrypt: bool
) -> None:
    codec = Codec([OLD_KEY])
    original = os.urandom(size)
    stored = codec.encode(original, compress=compress, encrypt=encrypt)
    if encrypt:
        assert stored.startswith(MAGIC)
        assert size < 64 or original[:64] not in stored  # a shorter run may occur by chance
    for block_size in (1, 4093, 1 << 16):
        if block_size == 1 and len(stored) > 100_000:
            continue  # one byte at a time: only for the small files
        streamed = codec.decode_stream(
            _blocks(stored, block_size), compressed=compress, encrypted=encrypt
        )
        assert b"".join(streamed) == original


def test_a_large_file_is_decrypted_frame_by_frame() -> None:
    codec = Codec([OLD_KEY])
    original = os.urandom(3 * FRAME_BYTES)
    stored = codec.encode(original, compress=False, encrypt=True)
    assert len(_frames(stored)) == 3
    pieces = codec.decode_stream(_blocks(stored, 1 << 16), compressed=False, encrypted=True)
    first = next(pieces)
    # The first megabyte comes out before the rest of the file was decrypted.
    assert first == original[:FRAME_BYTES]


def test_files_encrypted_before_frames_still_read() -> None:
    legacy = MultiFernet([Fernet(OLD_KEY)]).encrypt(gzip.compress(b"contrat", mtime=0))
    codec = Codec([NEW_KEY, OLD_KEY])
    assert codec.decode(legacy, compressed=True, encrypted=True) == b"contrat"
    streamed = codec.decode_stream(_blocks(legacy, 5), compressed=True, encrypted=True)
    assert b"".join(streamed) == b"contrat"
    assert Codec([NEW_KEY]).decode(codec.rotate(legacy), compressed=True, encrypted=True) == (
        b"contrat"
    )


def test_rotation_re_encrypts_every_frame_with_the_new_key() -> None:
    original = os.urandom(FRAME_BYTES + 5)
    stored = Codec([OLD_KEY]).encode(original, compress=False, encrypt=True)
    rotated = Codec([NEW_KEY, OLD_KEY]).rotate(stored)
    assert Codec([NEW_KEY]).decode(rotated, compressed=False, encrypted=True) == original
    with pytest.raises(CodecError, match="no configured key"):
        Codec([OLD_KEY]).decode(rotated, compressed=False, encrypted=True)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda tokens: [tokens[1], tokens[0], tokens[2]], "out of order"),
        (lambda tokens: tokens[:2], "cut short"),
        (lambda tokens: tokens[1:], "out of order"),
        (lambda tokens: [*tokens, tokens[2]], "after its last frame"),
    ],
)
def test_reordered_dropped_or_repeated_frames_are_refused(tamper, message: str) -> None:
    codec = Codec([OLD_KEY])
    stored = codec.encode(os.urandom(2 * FRAME_BYTES + 10), compress=False, encrypt=True)
    tampered = _framed(tamper(_frames(stored)))
    with pytest.raises(CodecError, match=message):
        codec.decode(tampered, compressed=False, encrypted=True)


def test_a_file_cut_inside_a_frame_or_with_a_changed_byte_is_refused() -> None:
    codec = Codec([OLD_KEY])
    stored = codec.encode(b"x" * 1000, compress=True, encrypt=True)
    with pytest.raises(CodecError):
        codec.decode(stored[:-10], compressed=True, encrypted=True)
    changed = bytearray(stored)
    changed[len(MAGIC) + 10] ^= 1
    with pytest.raises(CodecError):
        codec.decode(bytes(changed), compressed=True, encrypted=True)


def test_a_damaged_gzip_stream_is_refused() -> None:
    codec = Codec()
    stored = codec.encode(os.urandom(5000), compress=True, encrypt=False)
    with pytest.raises(CodecError, match="compressed file is damaged"):
        codec.decode(stored[:-20], compressed=True, encrypted=False)
    with pytest.raises(CodecError, match="compressed file is damaged"):
        codec.decode(b"not gzip at all", compressed=True, encrypted=False)


def test_encrypting_without_a_key_is_refused_and_reading_without_one_too() -> None:
    with pytest.raises(ValueError, match="STORAGE_ENCRYPTION_KEYS"):
        Codec().encode(b"x", compress=False, encrypt=True)
    stored = Codec([OLD_KEY]).encode(b"x", compress=False, encrypt=True)
    with pytest.raises(CodecError, match="no key is configured"):
        Codec().decode(stored, compressed=False, encrypted=True)
