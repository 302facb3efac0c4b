"""The Tink streaming AEAD format, checked against its spec with the primitives themselves."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pystorage.crypto.streaming import (
    HEADER_SIZE,
    SEGMENT_SIZE_1MB,
    SEGMENT_SIZE_4KB,
    TAG_SIZE,
    Encrypter,
    Layout,
    decrypt,
    encrypt,
)
from pystorage.errors import DecryptionFailed

KEY = bytes(range(32))
SMALL = Layout(SEGMENT_SIZE_4KB)


def test_layout_constants() -> None:
    assert HEADER_SIZE == 40 and TAG_SIZE == 16
    assert SMALL.plain_first == 4096 - 40 - 16
    assert SMALL.plain_segment == 4096 - 16
    big = Layout(SEGMENT_SIZE_1MB)
    assert big.plain_first == SEGMENT_SIZE_1MB - 56
    assert Layout().segment_size == SEGMENT_SIZE_1MB


@pytest.mark.parametrize("segment_size", [1024, SEGMENT_SIZE_4KB])
def test_sizes_map_both_ways(segment_size: int) -> None:
    lay = Layout(segment_size)
    for size in range(0, 6 * segment_size, 7):
        ct = lay.ciphertext_size(size)
        assert lay.plaintext_size(ct) == size, size
    for size in (0, 1, lay.plain_first, lay.plain_first + 1, lay.plain_first + lay.plain_segment):
        assert len(encrypt(KEY, os.urandom(size), layout=lay)) == lay.ciphertext_size(size)


def test_invalid_ciphertext_sizes() -> None:
    assert SMALL.plaintext_size(0) is None
    assert SMALL.plaintext_size(HEADER_SIZE + TAG_SIZE - 1) is None
    assert SMALL.plaintext_size(HEADER_SIZE + TAG_SIZE) == 0
    # a final segment shorter than its tag
    assert SMALL.plaintext_size(4096 + 15) is None
    assert SMALL.plaintext_size(4096 + 16) == 4096 + 16 - 40 - 2 * 16  # an empty final segment


def test_segment_arithmetic() -> None:
    lay = SMALL
    assert lay.segment_of(0) == 0
    assert lay.segment_of(lay.plain_first - 1) == 0
    assert lay.segment_of(lay.plain_first) == 1
    assert lay.segment_of(lay.plain_first + lay.plain_segment) == 2
    for index in range(5):
        assert lay.segment_of(lay.plain_start(index)) == index
        assert lay.cipher_start(index) + lay.cipher_full(index) == (index + 1) * lay.segment_size


def test_ciphertext_follows_the_spec() -> None:
    """Decrypt our output by hand: header, HKDF-SHA256(info=AD), nonce = prefix ‖ i ‖ last."""
    plaintext = os.urandom(SMALL.plain_first + 100)
    ad = b"associated"
    ct = encrypt(KEY, plaintext, associated_data=ad, layout=SMALL)
    assert ct[0] == HEADER_SIZE
    salt, prefix = ct[1:33], ct[33:40]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=ad).derive(KEY)
    aead = AESGCM(derived)
    seg0 = ct[40:4096]
    seg1 = ct[4096:]
    first = SMALL.plain_first
    assert aead.decrypt(prefix + (0).to_bytes(4, "big") + b"\x00", seg0, None) == plaintext[:first]
    assert aead.decrypt(prefix + (1).to_bytes(4, "big") + b"\x01", seg1, None) == plaintext[first:]


def test_every_object_has_its_own_salt_and_prefix() -> None:
    a, b = encrypt(KEY, b"same"), encrypt(KEY, b"same")
    assert a[:40] != b[:40] and a[40:] != b[40:]


@pytest.mark.parametrize("size", [0, 1, 4039, 4040, 4041, 8120, 8121, 20_000])
@pytest.mark.parametrize("piece", [1, 1000, 4096, 50_000])
def test_encrypter_is_independent_of_write_sizes(size: int, piece: int) -> None:
    data = os.urandom(size)
    enc = Encrypter(KEY, b"", SMALL)
    out = []
    for start in range(0, size, piece):
        out.extend(enc.push(data[start : start + piece]))
    out.extend(enc.finish())
    ct = b"".join(out)
    assert len(ct) == SMALL.ciphertext_size(size)
    assert enc.plaintext_size == size
    assert decrypt([KEY], ct, layout=SMALL) == data


def test_decrypt_tries_each_key() -> None:
    other = os.urandom(32)
    ct = encrypt(KEY, b"hello", layout=SMALL)
    assert decrypt([other, KEY], ct, layout=SMALL) == b"hello"
    with pytest.raises(DecryptionFailed):
        decrypt([other], ct, layout=SMALL)


def test_associated_data_is_bound() -> None:
    ct = encrypt(KEY, b"hello", associated_data=b"a/b", layout=SMALL)
    assert decrypt([KEY], ct, associated_data=b"a/b", layout=SMALL) == b"hello"
    with pytest.raises(DecryptionFailed):
        decrypt([KEY], ct, associated_data=b"a/c", layout=SMALL)


def test_segment_size_mismatch_fails() -> None:
    ct = encrypt(KEY, os.urandom(10_000), layout=Layout(SEGMENT_SIZE_4KB))
    with pytest.raises(DecryptionFailed):
        decrypt([KEY], ct, layout=Layout(8192))


@pytest.mark.parametrize("where", [0, 1, 39, 40, 2000, 4095, 4096, -17, -1])
def test_any_flipped_byte_fails(where: int) -> None:
    ct = bytearray(encrypt(KEY, os.urandom(9000), layout=SMALL))
    ct[where] ^= 0x80
    with pytest.raises(DecryptionFailed):
        decrypt([KEY], bytes(ct), layout=SMALL)


def test_layout_rejects_tiny_segments() -> None:
    with pytest.raises(ValueError):
        Layout(HEADER_SIZE + TAG_SIZE)


def test_truncation_at_a_segment_boundary_fails() -> None:
    """The segment that becomes the last was sealed as not final."""
    ct = encrypt(KEY, os.urandom(3 * SEGMENT_SIZE_4KB), layout=SMALL)
    for blocks in (1, 2, 3):
        with pytest.raises(DecryptionFailed):
            decrypt([KEY], ct[: blocks * SEGMENT_SIZE_4KB], layout=SMALL)


def test_reordered_segments_fail() -> None:
    ct = encrypt(KEY, os.urandom(4 * SEGMENT_SIZE_4KB), layout=SMALL)
    s = SEGMENT_SIZE_4KB
    swapped = ct[:s] + ct[2 * s : 3 * s] + ct[s : 2 * s] + ct[3 * s :]
    with pytest.raises(DecryptionFailed):
        decrypt([KEY], swapped, layout=SMALL)


def test_segments_of_another_object_fail() -> None:
    a = encrypt(KEY, os.urandom(3 * SEGMENT_SIZE_4KB), layout=SMALL)
    b = encrypt(KEY, os.urandom(3 * SEGMENT_SIZE_4KB), layout=SMALL)
    s = SEGMENT_SIZE_4KB
    with pytest.raises(DecryptionFailed):
        decrypt([KEY], a[: 2 * s] + b[2 * s :], layout=SMALL)


def test_encrypter_refuses_data_after_finish() -> None:
    enc = Encrypter(KEY, b"", SMALL)
    enc.push(b"abc")
    enc.finish()
    with pytest.raises(ValueError):
        enc.push(b"more")
    with pytest.raises(ValueError):
        enc.finish()
