"""The raw readers of the gcs driver: a streamed media download, and an empty stream."""

from __future__ import annotations

import aiohttp

from ...errors import Unexpected
from ...raw.accessor import RawReader
from ...types import Metadata
from .errors import SERVICE, map_errors
from .metadata import metadata_from_headers

__all__ = ["PIECE", "GcsReader"]

#: the most bytes one ``read()`` returns
PIECE = 1 << 20


class GcsReader(RawReader):
    """Streams the body of one media download in pieces of up to :data:`PIECE` bytes.

    Args:
        response: the 200/206 response, body unread (this reader owns it).
        path: the path, for errors.
        metadata: what is known about the object; ``None`` reads it from the
            response headers when first asked for.
        skip: bytes to drop from the body's start (a server that ignored ``Range``).
        size: bytes the answer must deliver after ``skip`` (what was asked,
            clamped to the object's end), or ``None``: the body's length.

    A body that ends before ``size`` raises a temporary
    :class:`~pystorage.errors.Unexpected`, so the retry layer resumes it.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        *,
        path: str,
        metadata: Metadata | None,
        skip: int = 0,
        size: int | None = None,
    ) -> None:
        self._response: aiohttp.ClientResponse | None = response
        self._path = path
        self._skip = skip
        length = response.content_length
        expected = size
        if expected is None and length is not None:
            expected = max(0, length - skip)
        self._remaining = expected
        self.size = expected
        self._metadata = metadata
        self._headers = response.headers

    @property
    def metadata(self) -> Metadata | None:
        """The object's metadata (from the response headers unless given)."""
        if self._metadata is None:
            self._metadata = metadata_from_headers(self._headers)
        return self._metadata

    @metadata.setter
    def metadata(self, value: Metadata | None) -> None:
        self._metadata = value

    async def read(self) -> bytes:
        """The next piece of the body; ``b""`` at its end."""
        response = self._response
        if response is None:
            return b""
        if self._remaining == 0:
            self._finish(drained=response.content.at_eof())
            return b""
        with map_errors("read", self._path):
            while True:
                piece = await response.content.read(PIECE)
                if not piece:
                    if self._remaining:
                        self._finish(drained=False)
                        raise Unexpected(
                            f"the download ended {self._remaining} bytes early",
                            operation="read",
                            path=self._path,
                            service=SERVICE,
                            temporary=True,
                        )
                    self._finish(drained=True)
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

    def _finish(self, *, drained: bool) -> None:
        response, self._response = self._response, None
        if response is not None:
            if drained:
                response.release()
            else:
                response.close()

    async def aclose(self) -> None:
        """Close the response; an unfinished body closes its connection."""
        response = self._response
        if response is not None:
            self._finish(drained=response.content.at_eof())
