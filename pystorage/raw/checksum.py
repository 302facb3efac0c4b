"""End-to-end integrity: checksums of uploads, verification of whole downloads.

Written once for every driver:

* :func:`crc32c_b64` / :func:`md5_b64` — the base64 digests that S3
  (``x-amz-checksum-crc32c``, ``Content-MD5``), GCS (``crc32c``, ``md5Hash``)
  and Azure (``Content-MD5``) carry; CRC32C comes from the C-accelerated
  ``crc32c`` package (hardware CRC instructions), falling back to a
  pure-Python table (correct, slow) where it is not installed;
* :class:`VerifyingReader` — wraps a driver's :class:`RawReader` of a whole
  object whose answer reported a checksum, hashes the bytes as they pass and
  raises :class:`~pystorage.errors.ChecksumMismatch` (temporary) instead of
  its final ``b""`` when they do not match: a truncated body with a
  consistent ``Content-Length`` or a flipped byte never reads as success.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Protocol

from ..errors import ChecksumMismatch
from .accessor import Buffer, RawReader
from .layer import WrappingReader

__all__ = ["Hasher", "VerifyingReader", "crc32c_b64", "crc32c_combine", "md5_b64", "new_hasher"]


def _load_crc32c() -> Callable[[Buffer, int], int]:
    try:
        import crc32c as _fast  # type: ignore[import-not-found,unused-ignore]

        def fast(data: Buffer, value: int = 0) -> int:
            result: int = _fast.crc32c(data, value)
            return result

        return fast
    except ImportError:  # pragma: no cover - the s3/gcs extras install crc32c
        pass
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)

    def slow(data: Buffer, value: int = 0) -> int:  # pragma: no cover
        crc = value ^ 0xFFFFFFFF
        for byte in bytes(data):
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF

    return slow


_crc32c = _load_crc32c()


def crc32c_b64(data: Buffer) -> str:
    """Base64 of the big-endian CRC32C of ``data`` (as S3 and GCS spell it)."""
    return base64.b64encode(_crc32c(data, 0).to_bytes(4, "big")).decode()


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32c_combine(first: int, second: int, second_length: int) -> int:
    """The CRC32C of ``a + b`` from ``crc32c(a)``, ``crc32c(b)`` and ``len(b)``, without the
    bytes (zlib's ``crc32_combine`` over the Castagnoli polynomial): what a GCS compose
    of the two objects reports."""
    if second_length <= 0:
        return first
    operator = [0x82F63B78] + [1 << n for n in range(31)]  # appends one zero bit
    for _ in range(3):
        operator = _gf2_square(operator)  # two, four, then eight zero bits: one zero byte
    while second_length:  # append len(b) zero bytes to the first CRC, a bit of the length at a time
        if second_length & 1:
            first = _gf2_times(operator, first)
        second_length >>= 1
        operator = _gf2_square(operator)
    return first ^ second


def md5_b64(data: Buffer) -> str:
    """Base64 of the MD5 of ``data`` (``Content-MD5``, GCS ``md5Hash``)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class Hasher(Protocol):
    """An incremental checksum: ``update`` with each piece, then ``b64()``."""

    def update(self, data: Buffer) -> None: ...

    def b64(self) -> str: ...


class _Crc32c:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: Buffer) -> None:
        self._value = _crc32c(data, self._value)

    def b64(self) -> str:
        return base64.b64encode(self._value.to_bytes(4, "big")).decode()


class _Md5:
    def __init__(self) -> None:
        self._hash = hashlib.md5(usedforsecurity=False)

    def update(self, data: Buffer) -> None:
        self._hash.update(data)

    def b64(self) -> str:
        return base64.b64encode(self._hash.digest()).decode()


_HASHERS: dict[str, Callable[[], Hasher]] = {"crc32c": _Crc32c, "md5": _Md5}


def new_hasher(algorithm: str) -> Hasher:
    """A fresh incremental hasher of ``"crc32c"`` or ``"md5"``."""
    return _HASHERS[algorithm]()


class VerifyingReader(WrappingReader):
    """A whole-object stream checked against the checksum its answer reported.

    Args:
        inner: the driver's reader of the whole object.
        algorithm: ``"crc32c"`` or ``"md5"``.
        expected: the reported digest, base64.
        path: for the error message.
        service: for the error message.
    """

    def __init__(self, inner: RawReader, algorithm: str, expected: str, *, path: str, service: str) -> None:
        super().__init__(inner)
        self._hasher = new_hasher(algorithm)
        self._algorithm = algorithm
        self._expected = expected
        self._path = path
        self._service = service
        self._done = False
        self._seen = 0

    def _check(self) -> None:
        self._done = True
        actual = self._hasher.b64()
        if actual != self._expected:
            raise ChecksumMismatch(
                f"the downloaded bytes' {self._algorithm} is {actual}, the service reported {self._expected}",
                operation="read",
                path=self._path,
                service=self._service,
            )

    async def read(self) -> bytes:
        """The next piece. On a mismatch, raises ``ChecksumMismatch`` instead of
        the piece that completes the announced size (or of the final ``b""``)."""
        data = await self.inner.read()
        if data:
            self._hasher.update(data)
            self._seen += len(data)
            if self.size is not None and self._seen >= self.size and not self._done:
                self._check()
        elif not self._done:
            self._check()
        return data

    async def _read_rest(self) -> bytes:
        assert self.inner.read_rest is not None
        data = await self.inner.read_rest()
        self._hasher.update(data)
        self._check()
        return data
