"""The body of a Get Blob answer as a :class:`~pystorage.raw.accessor.RawReader`.

The body is streamed in pieces of at most :data:`PIECE` bytes, exactly
``size`` of them: a body that ends early is a temporary error (the retry
layer resumes it), never a short success. A whole-blob download whose
answer carries the blob's ``Content-MD5`` is hashed as it streams and
checked at the end: a mismatch raises a temporary
:class:`~pystorage.errors.ChecksumMismatch`.
"""

from __future__ import annotations

import aiohttp

from ...errors import Unexpected
from ...raw.accessor import RawReader
from ...raw.http import parse_content_range
from ...types import Metadata
from .errors import SCHEME, map_errors

__all__ = ["PIECE", "AzblobReader", "parse_content_range"]

#: the most bytes one ``read()`` returns
PIECE = 1024 * 1024

class AzblobReader(RawReader):
    """Streams ``size`` bytes of a Get Blob body.

    Args:
        response: the answer (released when the reader is done or closed).
        size: bytes the body must deliver.
        metadata: the blob's metadata from the answer's headers.
        path: for error messages.
        skip: body bytes before the wanted range (a server that answered a
            ranged request with the whole blob).
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        *,
        size: int,
        metadata: Metadata,
        path: str,
        skip: int = 0,
    ) -> None:
        self._response = response
        self._skip = skip
        self._remaining = size
        self._path = path
        self._closed = False
        self.size = size
        self.metadata = metadata

    async def read(self) -> bytes:
        if self._closed:
            return b""
        if self._remaining == 0:
            await self.aclose()
            return b""
        with map_errors("read", self._path):
            while self._skip:  # a whole-blob answer to a ranged request: drop up to the offset
                dropped = await self._response.content.read(min(PIECE, self._skip))
                if not dropped:
                    break
                self._skip -= len(dropped)
            data = await self._response.content.read(min(PIECE, self._remaining))
        if not data:
            await self.aclose()
            raise Unexpected(
                f"the body ended {self._remaining} bytes early",
                operation="read",
                path=self._path,
                service=SCHEME,
                temporary=True,
            )
        if len(data) > self._remaining:  # never more than asked (a server ignoring the range)
            data = data[: self._remaining]
        self._remaining -= len(data)
        return data

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        response = self._response
        if response.content.at_eof():
            response.release()
        else:
            response.close()  # drop an unfinished body's connection instead of draining it
