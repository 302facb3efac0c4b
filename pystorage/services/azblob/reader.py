"""The body of a Get Blob answer as a :class:`~pystorage.raw.accessor.RawReader`.

The shared :class:`~pystorage.raw.body.BodyReader` with this driver's error
mapping: the body is streamed in pieces of at most :data:`PIECE` bytes,
exactly ``size`` of them; a body that ends early is a temporary error (the
retry layer resumes it), never a short success. (A whole-blob download whose
answer carries the blob's ``Content-MD5`` is checked by the backend, through
:class:`~pystorage.raw.checksum.VerifyingReader`.)
"""

from __future__ import annotations

import aiohttp

from ...raw.body import PIECE, BodyReader
from ...types import Metadata
from .errors import SCHEME, map_errors

__all__ = ["PIECE", "AzblobReader"]


class AzblobReader(BodyReader):
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
        self, response: aiohttp.ClientResponse, *, size: int, metadata: Metadata, path: str, skip: int = 0
    ) -> None:
        super().__init__(
            response, path=path, service=SCHEME, errors=map_errors, metadata=metadata, skip=skip, size=size
        )
