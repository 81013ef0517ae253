"""The link token (app/services/links/tokens.py): signed fields, strict shape, tamper-evident."""

from __future__ import annotations

import pytest

from app.services.links.tokens import (
    MAX_TOKEN_LENGTH,
    LinkClaims,
    MalformedTokenError,
    fingerprint,
    read,
    sign,
)

SECRET = b"s" * 32
OTHER_SECRET = b"o" * 32
CLAIMS = LinkClaims(
    kid="k1",
    document_id=42,
    expires=1_900_000_000,
    issued_ms=1_899_999_700_123,
    nonce="0123456789abcdef0123456789abcdef",
    single_use=True,
)


def test_a_signed_token_reads_back_its_claims_and_verifies():
    token = sign(CLAIMS, SECRET)
    signed = read(token)
    assert signed.claims == CLAIMS
    assert signed.signature_matches(SECRET)
    assert not signed.signature_matches(OTHER_SECRET)


def test_the_token_is_url_safe_and_short():
    token = sign(CLAIMS, SECRET)
    assert len(token) < MAX_TOKEN_LENGTH
    assert set(token) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _flip(text: str, index: int) -> str:
    char = text[index]
    replacement = {"0": "1", "1": "0", "a": "b", "k": "j"}.get(char, "0" if char != "0" else "1")
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("part", range(7))
def test_flipping_a_character_in_any_part_breaks_the_link(part):
    token = sign(CLAIMS, SECRET)
    fields = token.split(".")
    for index in (0, len(fields[part]) - 1):
        changed = list(fields)
        changed[part] = _flip(fields[part], index)
        tampered = ".".join(changed)
        assert tampered != token
        try:
            signed = read(tampered)
        except MalformedTokenError:
            continue  # refused by its shape: just as good
        assert not signed.signature_matches(SECRET), (part, index)


def test_a_link_that_is_not_single_use_may_have_no_nonce():
    claims = LinkClaims("k1", 7, 1_900_000_000, 1_899_999_000_000, "", False)
    assert read(sign(claims, SECRET)).signature_matches(SECRET)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x" * (MAX_TOKEN_LENGTH + 1),
        "k1.42.1900000000.1899999700123.0123456789abcdef0123456789abcdef.1",  # no signature
        "k1.042.1900000000.1899999700123..0." + "A" * 43,  # leading zero
        "k1.42.1900000000.1899999700123..1." + "A" * 43,  # single use without nonce
        "k1.42.1900000000.1899999700123..2." + "A" * 43,
        "k1.-1.1900000000.1899999700123..0." + "A" * 43,
        "k1.42.1900000000.1899999700123..0." + "A" * 42,
        "k 1.42.1900000000.1899999700123..0." + "A" * 43,
        "k1.4².1900000000.1899999700123..0." + "A" * 43,
        "k1.42.1900000000.1899999700123.XYZ.0." + "A" * 43,
        "toolongkidnamehere.42.1900000000.1899999700123..0." + "A" * 43,
    ],
)
def test_malformed_tokens_are_refused_before_any_key(token):
    with pytest.raises(MalformedTokenError):
        read(token)


def test_signing_refuses_claims_it_could_not_read_back():
    with pytest.raises(ValueError):
        sign(LinkClaims("bad kid", 1, 1_900_000_000, 1, "", False), SECRET)
    with pytest.raises(ValueError):
        sign(LinkClaims("k1", 1, 1_900_000_000, 1, "", True), SECRET)


def test_the_fingerprint_names_a_link_without_holding_it():
    token = sign(CLAIMS, SECRET)
    assert fingerprint(token) == fingerprint(token)
    assert fingerprint(token) != fingerprint(_flip(token, 0))
    assert token.split(".")[-1] not in fingerprint(token)
