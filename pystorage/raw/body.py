"""The body of an HTTP download as a :class:`~pystorage.raw.accessor.RawReader`,
written once for the aiohttp drivers (gcs, azblob).

:class:`BodyReader` streams the body in pieces of at most :data:`PIECE`
bytes: it drops ``skip`` bytes first (a server that answered a ranged request
with the whole object), delivers exactly ``size`` bytes (never more: a body
longer than asked is cut), and treats a body that ends early as a temporary
:class:`~pystorage.errors.Unexpected` (the retry layer resumes it), never as
a short success. A small body (at most one piece) is also offered whole
(``read_rest``). When it is done or closed, a drained response goes back to
the pool and an unfinished one closes its connection (instead of draining it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager

import aiohttp

from ..errors import Unexpected
from ..types import Metadata
from .accessor import RawReader

__all__ = ["PIECE", "BodyReader"]

#: the most bytes one ``read()`` returns
PIECE = 1024 * 1024


class BodyReader(RawReader):
    """Streams one answer's body.

    Args:
        response: the answer, body unread (this reader owns it).
        path: the path, for errors.
        service: the service's scheme, for errors.
        errors: the driver's error mapping (``errors("read", path)``: a context manager).
        metadata: what is known about the object (default ``None``).
        skip: body bytes before the wanted range (default 0).
        size: bytes the body must deliver after ``skip``, or ``None`` (the
            default): the body's ``Content-Length`` less ``skip``, else up to its end.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        *,
        path: str,
        service: str,
        errors: Callable[[str, str], AbstractContextManager[object]],
        metadata: Metadata | None = None,
        skip: int = 0,
        size: int | None = None,
    ) -> None:
        self._response: aiohttp.ClientResponse | None = response
        self._path = path
        self._service = service
        self._errors = errors
        self._skip = skip
        if size is None and response.content_length is not None:
            size = max(0, response.content_length - skip)
        self._remaining = size
        self.size = size
        self.metadata = metadata
        if size is not None and size + skip <= PIECE:
            self.read_rest = self._read_rest  # a small body: in one call (``Operator.read``)

    async def read(self) -> bytes:
        """The next piece of the body; ``b""`` at its end."""
        response = self._response
        if response is None:
            return b""
        if self._remaining == 0:
            self._finish(drained=response.content.at_eof())
            return b""
        content = response.content
        with self._errors("read", self._path):
            while True:
                piece = await content.read(PIECE)
                if not piece:
                    self._finish(drained=not self._remaining)
                    if self._remaining:
                        raise self._ended_early(self._remaining)
                    return b""
                if self._skip:
                    dropped = min(self._skip, len(piece))
                    self._skip -= dropped
                    piece = piece[dropped:]
                    if not piece:
                        continue
                if self._remaining is not None:
                    if len(piece) > self._remaining:
                        piece = piece[: self._remaining]
                    self._remaining -= len(piece)
                return piece

    async def _read_rest(self) -> bytes:
        """The whole rest of a small body (at most :data:`PIECE` bytes) at once."""
        response = self._response
        if response is None:
            return b""
        skip, want = self._skip, self._remaining or 0
        with self._errors("read", self._path):
            try:
                data = await response.content.readexactly(skip + want)
            except asyncio.IncompleteReadError as exc:
                self._finish(drained=False)
                raise self._ended_early(skip + want - len(exc.partial)) from None
        self._skip = self._remaining = 0
        self._finish(drained=response.content.at_eof())
        return data[skip:] if skip else data

    def _ended_early(self, missing: int) -> Unexpected:
        return Unexpected(
            f"the body ended {missing} bytes early",
            operation="read",
            path=self._path,
            service=self._service,
            temporary=True,
        )

    def _finish(self, *, drained: bool) -> None:
        response, self._response = self._response, None
        if response is not None:
            if drained:
                response.release()
            else:
                response.close()

    async def aclose(self) -> None:
        """Close the answer; an unfinished body closes its connection."""
        response = self._response
        if response is not None:
            self._finish(drained=response.content.at_eof())
