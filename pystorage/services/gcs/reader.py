"""The raw reader of the gcs driver: a streamed media download (the shared BodyReader, lazy metadata)."""

from __future__ import annotations

import aiohttp

from ...raw.body import PIECE, BodyReader
from ...types import Metadata
from .errors import SERVICE, map_errors
from .metadata import metadata_from_headers

__all__ = ["PIECE", "GcsReader"]


class GcsReader(BodyReader):
    """Streams the body of one media download in pieces of up to :data:`PIECE` bytes.

    Args:
        response: the 200/206 response, body unread (this reader owns it).
        path: the path, for errors.
        metadata: what is known about the object; ``None`` reads it from the
            response headers when first asked for.
        skip: bytes to drop from the body's start (a server that ignored ``Range``).
        size: bytes the answer must deliver after ``skip`` (what was asked,
            clamped to the object's end), or ``None``: the body's length.
        total: the object's size read from the answer's ``Content-Range``
            (``None``: taken from the headers when the metadata is asked for).

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
        total: int | None = None,
    ) -> None:
        super().__init__(response, path=path, service=SERVICE, errors=map_errors, skip=skip, size=size)
        self._metadata = metadata
        self._headers = response.headers
        self._total = total

    @property
    def metadata(self) -> Metadata | None:
        """The object's metadata (from the response headers unless given)."""
        if self._metadata is None:
            self._metadata = metadata_from_headers(self._headers, total=self._total)
        return self._metadata

    @metadata.setter
    def metadata(self, value: Metadata | None) -> None:
        self._metadata = value
