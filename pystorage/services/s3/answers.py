"""Object answers: the :class:`Metadata` and the body of a HeadObject / GetObject / PutObject /
UploadPart answer, read straight from its response headers."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from ...raw.http import metadata_from_headers
from ...types import EncryptionInfo, EntryMode, Metadata

__all__ = ["LeanBody", "ObjectAnswer", "metadata_of"]

_META = "x-amz-meta-"


def _encryption(headers: Mapping[str, str]) -> EncryptionInfo | None:
    customer = headers.get("x-amz-server-side-encryption-customer-algorithm")
    if customer:
        return EncryptionInfo(
            "SSE-C", customer_key_md5=headers.get("x-amz-server-side-encryption-customer-key-md5")
        )
    algorithm = headers.get("x-amz-server-side-encryption")
    if algorithm:
        return EncryptionInfo(
            algorithm, kms_key_id=headers.get("x-amz-server-side-encryption-aws-kms-key-id")
        )
    return None


def metadata_of(headers: Mapping[str, str], *, mode: EntryMode = EntryMode.FILE) -> Metadata:
    """The :class:`Metadata` of an object answer's headers (case-insensitive
    names). ``content_length`` is the answer's ``Content-Length`` (the caller
    fixes it for ranged GETs); user metadata names are lower case (Go servers
    send ``X-Amz-Meta-Name``), ``None`` when there is none."""
    return metadata_from_headers(
        headers,
        mode=mode,
        meta_prefix=_META,
        version=headers.get("x-amz-version-id"),
        encryption=_encryption(headers),
    )


class LeanBody:
    """A GetObject body as the reader wants it: ``await read(n)`` (at most
    ``n`` bytes, ``b""`` at the end) and ``close()``."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the body (what has arrived, waiting for at least one);
        the whole rest of it when ``n`` is negative (the default)."""
        return await self._response.content.read(n)

    def close(self) -> None:
        """Give the connection back when the body was read to its end, else drop it."""
        response = self._response
        if response.content.at_eof():
            response.release()
        else:
            response.close()


class ObjectAnswer:
    """A HeadObject / GetObject / PutObject / UploadPart answer.

    Attributes:
        status: the HTTP status.
        headers: the response headers (case-insensitive).
        metadata: the object's metadata from those headers.
        body: the GetObject body to read and close (``None`` for the others).
    """

    __slots__ = ("body", "content_length", "headers", "metadata", "status")

    def __init__(self, response: aiohttp.ClientResponse, body: LeanBody | None = None) -> None:
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        self.metadata = metadata_of(response.headers)
        #: the answer's ``Content-Length`` (the body's, for a GET)
        self.content_length = self.metadata.content_length
        self.body = body

    @property
    def content_range(self) -> str | None:
        """The ``Content-Range`` header, if any."""
        return self.headers.get("content-range")

    def checksum(self, name: str) -> str | None:
        """An ``x-amz-checksum-<name>`` header (``crc32c`` ...)."""
        return self.headers.get(f"x-amz-checksum-{name}")
