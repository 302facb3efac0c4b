"""Tink's streaming AEAD format ``AES-GCM-HKDF``, as used by ``AES256_GCM_HKDF_1MB``
and ``AES256_GCM_HKDF_4KB``.

Spec: https://developers.google.com/tink/streaming-aead/aes_gcm_hkdf_streaming

A ciphertext is a header followed by segments::

    header   = header_length (1 byte, = 40) ‖ salt (32 bytes) ‖ nonce_prefix (7 bytes)
    segments = segment_0 ‖ segment_1 ‖ … ‖ segment_last

* The per-object key is ``HKDF-SHA256(ikm=key, salt=salt, info=associated_data)``,
  32 bytes. The associated data authenticates nothing else: each segment is
  AES-256-GCM with *empty* GCM associated data.
* Segment ``i`` is ``AES-GCM(derived_key, nonce_i, plaintext_i)`` = ciphertext ‖
  16-byte tag, with ``nonce_i = nonce_prefix ‖ i (4 bytes, big-endian) ‖
  last (1 byte: 1 for the final segment, else 0)``.
* Every segment holds ``segment_size`` bytes of ciphertext (tag included)
  except the last one, and the first segment is shorter by the header, so the
  stream is cut into whole ``segment_size`` blocks: block 0 = header ‖
  segment 0. The final segment is never empty unless the whole plaintext is.

Because the segment number and the final flag are in the nonce, reordering,
truncating, extending or splicing segments (from this object or another one
with the same key) makes decryption fail. Streaming AEAD ciphertexts carry no
Tink output prefix (key id), so a reader tries each key of the keyset.

This module is pure and synchronous: the layer in
:mod:`pystorage.layers.encryption` does the I/O. AES-GCM and HKDF come from
the ``cryptography`` package.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import DecryptionFailed

__all__ = [
    "HEADER_SIZE",
    "SEGMENT_SIZE_1MB",
    "SEGMENT_SIZE_4KB",
    "TAG_SIZE",
    "Encrypter",
    "Layout",
    "SegmentCipher",
    "decrypt",
    "encrypt",
    "new_header",
    "open_header",
]

#: AES-256: the derived key, and the salt, are 32 bytes
KEY_SIZE = 32
NONCE_PREFIX_SIZE = 7
TAG_SIZE = 16
#: 1 length byte + salt + nonce prefix
HEADER_SIZE = 1 + KEY_SIZE + NONCE_PREFIX_SIZE
#: ``AES256_GCM_HKDF_1MB`` (the default)
SEGMENT_SIZE_1MB = 1024 * 1024
#: ``AES256_GCM_HKDF_4KB``
SEGMENT_SIZE_4KB = 4 * 1024
#: segment numbers are 4 bytes in the nonce
MAX_SEGMENTS = 2**32

_LAST = b"\x01"
_NOT_LAST = b"\x00"


@dataclasses.dataclass(frozen=True, slots=True)
class Layout:
    """Where plaintext bytes sit in the ciphertext, for one ``segment_size``.

    Attributes:
        segment_size: ciphertext bytes per segment, tag included (the Tink
            key's ``ciphertext_segment_size``).
    """

    segment_size: int = SEGMENT_SIZE_1MB

    def __post_init__(self) -> None:
        if self.segment_size < HEADER_SIZE + TAG_SIZE + 1:
            raise ValueError(f"segment_size must be at least {HEADER_SIZE + TAG_SIZE + 1}")

    @property
    def plain_segment(self) -> int:
        """Plaintext bytes of every full segment but the first."""
        return self.segment_size - TAG_SIZE

    @property
    def plain_first(self) -> int:
        """Plaintext bytes of a full first segment (shorter by the header)."""
        return self.segment_size - HEADER_SIZE - TAG_SIZE

    def segment_of(self, offset: int) -> int:
        """The segment holding plaintext byte ``offset``."""
        if offset < self.plain_first:
            return 0
        return 1 + (offset - self.plain_first) // self.plain_segment

    def plain_start(self, index: int) -> int:
        """Plaintext offset of segment ``index``'s first byte."""
        return 0 if index == 0 else self.plain_first + (index - 1) * self.plain_segment

    def cipher_start(self, index: int) -> int:
        """Ciphertext offset of segment ``index`` (after the header for segment 0)."""
        return HEADER_SIZE if index == 0 else index * self.segment_size

    def cipher_full(self, index: int) -> int:
        """Ciphertext bytes of segment ``index`` when it is full."""
        return self.segment_size - HEADER_SIZE if index == 0 else self.segment_size

    def ciphertext_size(self, plaintext_size: int) -> int:
        """Size of the ciphertext of ``plaintext_size`` bytes."""
        segments = 1
        if plaintext_size > self.plain_first:
            segments += -(-(plaintext_size - self.plain_first) // self.plain_segment)
        return HEADER_SIZE + plaintext_size + TAG_SIZE * segments

    def plaintext_size(self, ciphertext_size: int) -> int | None:
        """Size of the plaintext of a ``ciphertext_size``-byte ciphertext, or
        ``None`` when no ciphertext has that size (then it is not one)."""
        if ciphertext_size < HEADER_SIZE + TAG_SIZE:
            return None
        segments = -(-ciphertext_size // self.segment_size)
        last = ciphertext_size - (segments - 1) * self.segment_size
        if (segments > 1 and last < TAG_SIZE) or segments > MAX_SEGMENTS:
            return None
        return ciphertext_size - HEADER_SIZE - TAG_SIZE * segments


def derive_key(key: bytes, salt: bytes, associated_data: bytes) -> bytes:
    """The per-object AES key: HKDF-SHA256 of ``key`` with ``salt``, info = associated data."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=associated_data).derive(key)


class SegmentCipher:
    """AES-GCM of the segments of one object (its derived key and nonce prefix)."""

    __slots__ = ("_aead", "_prefix")

    def __init__(self, derived_key: bytes, nonce_prefix: bytes) -> None:
        self._aead = AESGCM(derived_key)
        self._prefix = nonce_prefix

    def __repr__(self) -> str:
        return "<SegmentCipher>"

    def _nonce(self, index: int, last: bool) -> bytes:
        if not 0 <= index < MAX_SEGMENTS:
            raise ValueError(f"segment number {index} out of range")
        return self._prefix + index.to_bytes(4, "big") + (_LAST if last else _NOT_LAST)

    def encrypt(self, index: int, plaintext: bytes | bytearray | memoryview, last: bool) -> bytes:
        """Segment ``index``: ciphertext ‖ tag."""
        return self._aead.encrypt(self._nonce(index, last), plaintext, None)

    def decrypt(self, index: int, ciphertext: bytes | memoryview, last: bool) -> bytes:
        """The plaintext of segment ``index``.

        Raises:
            DecryptionFailed: the segment is not authentic at this position
                (tampered, moved, truncated, extended, or another key).
        """
        if len(ciphertext) < TAG_SIZE:
            raise DecryptionFailed(f"segment {index} is shorter than its tag")
        try:
            return self._aead.decrypt(self._nonce(index, last), ciphertext, None)
        except InvalidTag:
            raise DecryptionFailed(f"segment {index} failed authentication") from None

    #: whether :meth:`decrypt_into` decrypts in place (``cryptography`` >= 45);
    #: without it, it decrypts and copies
    in_place = hasattr(AESGCM, "decrypt_into")

    def decrypt_into(self, index: int, ciphertext: bytes | memoryview, last: bool, out: memoryview) -> None:
        """Decrypt segment ``index`` into ``out`` (exactly ``len(ciphertext) - 16`` bytes).
        On failure ``out`` holds garbage: the caller must drop it.

        Raises:
            DecryptionFailed: as :meth:`decrypt`.
        """
        if not self.in_place:
            out[:] = self.decrypt(index, ciphertext, last)
            return
        if len(ciphertext) < TAG_SIZE:
            raise DecryptionFailed(f"segment {index} is shorter than its tag")
        try:
            self._aead.decrypt_into(self._nonce(index, last), ciphertext, None, out)
        except InvalidTag:
            raise DecryptionFailed(f"segment {index} failed authentication") from None


def new_header() -> tuple[bytes, bytes, bytes]:
    """A fresh ``(header, salt, nonce_prefix)`` from the OS random generator."""
    salt = os.urandom(KEY_SIZE)
    prefix = os.urandom(NONCE_PREFIX_SIZE)
    return bytes([HEADER_SIZE]) + salt + prefix, salt, prefix


def parse_header(header: bytes | memoryview) -> tuple[bytes, bytes]:
    """``(salt, nonce_prefix)`` of a header.

    Raises:
        DecryptionFailed: it is not a header of this format.
    """
    if len(header) < HEADER_SIZE or header[0] != HEADER_SIZE:
        raise DecryptionFailed("not a streaming AEAD ciphertext (bad header)")
    raw = bytes(header[:HEADER_SIZE])
    return raw[1 : 1 + KEY_SIZE], raw[1 + KEY_SIZE :]


def open_header(
    header: bytes | memoryview, keys: Iterable[bytes], associated_data: bytes
) -> list[SegmentCipher]:
    """One candidate :class:`SegmentCipher` per key, in the order given;
    the right one is the one whose first segment authenticates."""
    salt, prefix = parse_header(header)
    return [SegmentCipher(derive_key(key, salt, associated_data), prefix) for key in keys]


class Encrypter:
    """Encrypts a stream of plaintext pieces, segment by segment.

    A segment is sealed only once a byte beyond it arrives (so the final one
    can carry the final flag): at most one segment of plaintext is held.

    Args:
        key: the 32-byte keyset key.
        associated_data: bound to the object (HKDF info).
        layout: the segment size.
    """

    def __init__(self, key: bytes, associated_data: bytes, layout: Layout) -> None:
        self.layout = layout
        self.header, salt, prefix = new_header()
        self._cipher = SegmentCipher(derive_key(key, salt, associated_data), prefix)
        self._pending = bytearray()
        self._index = 0
        self._size = layout.plain_first
        self._header_out = False
        self._finished = False
        self.plaintext_size = 0

    @property
    def cipher(self) -> SegmentCipher:
        """The object's segment cipher (for caching by the layer)."""
        return self._cipher

    def push(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Add plaintext; return the ciphertext it completed (the header first)."""
        if self._finished:
            raise ValueError("the stream is finished")
        view = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
        self.plaintext_size += len(view)
        out: list[bytes] = []
        if not self._header_out:
            out.append(self.header)
            self._header_out = True
        if self._pending:
            take = self._size - len(self._pending)
            if len(view) <= take:
                self._pending += view
                return out
            self._pending += view[:take]
            view = view[take:]
            out.append(self._seal(self._pending, last=False))
            self._pending = bytearray()
        while len(view) > self._size:
            size = self._size
            out.append(self._seal(view[:size], last=False))
            view = view[size:]
        self._pending += view
        return out

    def finish(self) -> list[bytes]:
        """Seal the final segment; return the remaining ciphertext."""
        if self._finished:
            raise ValueError("the stream is finished")
        self._finished = True
        out = [] if self._header_out else [self.header]
        self._header_out = True
        out.append(self._seal(self._pending, last=True))
        self._pending = bytearray()
        return out

    def _seal(self, plaintext: bytes | bytearray | memoryview, *, last: bool) -> bytes:
        sealed = self._cipher.encrypt(self._index, plaintext, last)
        self._index += 1
        self._size = self.layout.plain_segment
        return sealed


def encrypt(
    key: bytes, plaintext: bytes, *, associated_data: bytes = b"", layout: Layout | None = None
) -> bytes:
    """The whole ciphertext of ``plaintext`` (for small objects and tests)."""
    enc = Encrypter(key, associated_data, layout or Layout())
    return b"".join([*enc.push(plaintext), *enc.finish()])


def decrypt(
    keys: Iterable[bytes], ciphertext: bytes, *, associated_data: bytes = b"", layout: Layout | None = None
) -> bytes:
    """The plaintext of a whole ciphertext, trying each key in turn.

    Raises:
        DecryptionFailed: no key authenticates every segment.
    """
    lay = layout or Layout()
    size = lay.plaintext_size(len(ciphertext))
    if size is None:
        raise DecryptionFailed(f"{len(ciphertext)} bytes is not the size of a ciphertext")
    view = memoryview(ciphertext)
    bounds = []
    index = 0
    while True:
        start = lay.cipher_start(index)
        end = min(start + lay.cipher_full(index), len(ciphertext))
        bounds.append((start, end))
        if end >= len(ciphertext):
            break
        index += 1
    for cipher in open_header(view[:HEADER_SIZE], keys, associated_data):
        try:
            first = cipher.decrypt(0, view[bounds[0][0] : bounds[0][1]], len(bounds) == 1)
        except DecryptionFailed:
            continue
        out = [first]
        for i, (start, end) in enumerate(bounds[1:], start=1):
            out.append(cipher.decrypt(i, view[start:end], i == len(bounds) - 1))
        return b"".join(out)
    raise DecryptionFailed("no key of the keyset decrypts this object")
