"""The body of a GetObject answer as a :class:`~pystorage.raw.accessor.RawReader`.

The body is streamed in pieces of at most :data:`PIECE` bytes. The reader
knows where the body starts in the object (``Content-Range``, or byte 0 for
a plain ``200`` answer to a ranged request, which some S3-compatibles send):
it skips up to the requested offset and stops after the requested size, so a
server that ignores ``Range`` still yields exactly the bytes asked for.
"""

from __future__ import annotations

from typing import Any

from ...errors import Unexpected
from ...raw.accessor import RawReader
from ...raw.error_map import temporary_error
from ...raw.http import parse_content_range
from ...types import Metadata
from .errors import SCHEME, map_errors

__all__ = ["PIECE", "S3Reader", "parse_content_range"]

#: the most bytes one ``read()`` returns
PIECE = 1024 * 1024

class S3Reader(RawReader):
    """Streams ``size`` bytes of a GetObject body after skipping ``skip`` bytes.

    Args:
        body: the GetObject body (:class:`~pystorage.services.s3.answers.LeanBody`).
        skip: bytes at the start of the body before the wanted range.
        size: bytes to deliver, or ``None`` for "to the end of the body".
        metadata: the object's metadata from the answer's headers.
        path: for error messages.
    """

    def __init__(self, body: Any, *, skip: int, size: int | None, metadata: Metadata, path: str) -> None:
        self._body = body
        self._skip = skip
        self._remaining = size
        self._path = path
        self._closed = False
        self.size = size
        self.metadata = metadata

    def _cut_short(self, what: str) -> Unexpected:
        # a body cut short (a dropped connection): temporary, a retry resumes
        return temporary_error(what, operation="read", path=self._path, service=SCHEME)

    async def read(self) -> bytes:
        if self._closed:
            return b""
        if self._remaining == 0:
            await self.aclose()
            return b""
        with map_errors("read", self._path):
            while self._skip:
                dropped = await self._body.read(min(self._skip, PIECE))
                if not dropped:
                    raise self._cut_short("the body ended before the requested offset")
                self._skip -= len(dropped)
            want = PIECE if self._remaining is None else min(PIECE, self._remaining)
            data: bytes = await self._body.read(want)
        if not data:
            await self.aclose()
            if self._remaining:
                raise self._cut_short(f"the body ended {self._remaining} bytes early")
            return b""
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        # closing an unfinished body drops its connection instead of draining it
        self._body.close()
