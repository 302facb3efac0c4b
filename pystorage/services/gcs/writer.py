"""The streamed writer of the gcs driver: the primitives of a resumable upload.

:class:`GcsUpload` supplies what the range-write engine
(:mod:`pystorage.raw.range_write`) asks of a service; the engine buffers one
chunk (a multiple of 256 KiB, as GCS requires of every chunk but the last),
sends the chunks in order, resumes after a temporary failure from the offset
the session reports (``Content-Range: bytes */*``) and cancels the session on
abort. An object closed before its first chunk fills is sent as a single
``objects.insert``. Nothing is visible at the path until the last chunk (or
the insert) succeeds.

Integrity: with ``checksum_algorithm="crc32c"`` (the default) the insert
carries the object's CRC32C in its metadata (GCS refuses a body that does
not match), and a resumable upload's last chunk carries
``X-Goog-Hash: crc32c=...``; the committed object's CRC32C is compared too,
and an object that does not match is deleted (that generation only) and
``ChecksumMismatch`` raised. The SSE-C headers go with every chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ...errors import ChecksumMismatch
from ...raw.checksum import Hasher, crc32c_b64, new_hasher
from ...raw.range_write import RangeAnswer, RangeUpload, RangeWriter, align_chunk
from ...sse import SseSpec
from ...types import Metadata
from .core import GcsCore
from .errors import SERVICE, map_errors
from .metadata import metadata_from_resource

__all__ = ["CHUNK_ALIGN", "DEFAULT_CHUNK", "GcsUpload", "chunk_size", "gcs_writer"]

_log = logging.getLogger("pystorage")

#: every chunk of a resumable upload but the last is a multiple of this
CHUNK_ALIGN = 256 * 1024
#: the chunk size when the write gives none (Google recommends at least 8 MiB)
DEFAULT_CHUNK = 8 * 1024 * 1024

Resource = dict[str, Any]


def chunk_size(requested: int | None) -> int:
    """The chunk size for a requested one: rounded down to a multiple of 256 KiB
    (at least 256 KiB); :data:`DEFAULT_CHUNK` when ``None``."""
    return align_chunk(requested, CHUNK_ALIGN, DEFAULT_CHUNK)


class GcsUpload(RangeUpload[Resource]):
    """One object's resumable upload (or single insert), as range-write primitives.

    Args:
        core: the JSON API calls.
        path: the path (for errors).
        key: the object name.
        resource: the object resource to create (name, content headers, metadata ...).
        preconditions: resolves the query parameters (``ifGenerationMatch`` ...) of
            the commit; awaited once, before the first request.
        sse: the server-side encryption spec sent with every request
            (default ``None``; see :mod:`pystorage.services.gcs.sse`).
    """

    granularity = CHUNK_ALIGN

    def __init__(
        self,
        core: GcsCore,
        *,
        path: str,
        key: str,
        resource: Mapping[str, Any],
        preconditions: Callable[[], Awaitable[dict[str, str | None]]],
        sse: SseSpec | None = None,
    ) -> None:
        self._core = core
        self._path = path
        self._key = key
        self._resource = dict(resource)
        self._content_type = str(resource.get("contentType") or "application/octet-stream")
        self._preconditions = preconditions
        self._sse = sse
        self._session_uri: str | None = None
        self._hasher: Hasher | None = (
            new_hasher("crc32c") if core.config.checksum_algorithm == "crc32c" else None
        )
        self._last_hash: str | None = None

    def __repr__(self) -> str:
        return f"<GcsUpload path={self._path!r} {'session' if self._session_uri else 'not started'}>"

    async def _params(self) -> dict[str, str | None]:
        params = await self._preconditions()
        params["predefinedAcl"] = self._core.config.predefined_acl
        return params

    def seal(self, chunk: memoryview, *, last: bool) -> None:
        """Add the chunk to the object's CRC32C; the last one's request carries it."""
        if self._hasher is not None:
            self._hasher.update(chunk)
            if last:
                self._last_hash = f"crc32c={self._hasher.b64()}"

    async def write_once(self, data: memoryview) -> Metadata:
        """``objects.insert`` of the whole object (its CRC32C in the resource)."""
        with map_errors("write", self._path):
            body = dict(self._resource)
            if self._hasher is not None:
                body["crc32c"] = crc32c_b64(data)  # GCS refuses a body that does not match
            params = await self._params()
            resource = await self._core.objects_insert(self._key, data, body, params, sse=self._sse)
        return metadata_from_resource(resource)

    async def start(self) -> None:
        """Open the resumable session."""
        with map_errors("write", self._path):
            params = await self._params()
            self._session_uri = await self._core.resumable_start(self._resource, params, sse=self._sse)

    async def write_range(self, offset: int, data: memoryview, *, total: int | None) -> RangeAnswer[Resource]:
        """One ``PUT`` of ``data`` at ``offset`` (the last one with the object's CRC32C)."""
        return await self._put(offset, data, total, self._last_hash if total is not None else None)

    async def query(self, offset: int) -> RangeAnswer[Resource]:
        """The status query: an empty ``PUT`` with ``Content-Range: bytes */*``."""
        return await self._put(offset, memoryview(b""), None, None)

    async def _put(
        self, offset: int, data: memoryview, total: int | None, goog_hash: str | None
    ) -> RangeAnswer[Resource]:
        assert self._session_uri is not None
        with map_errors("write", self._path):
            persisted, resource = await self._core.resumable_put(
                self._session_uri,
                data,
                offset=offset,
                total=total,
                content_type=self._content_type,
                sse=self._sse,
                goog_hash=goog_hash,
            )
        return RangeAnswer(persisted, resource)

    async def finish(self, done: Resource) -> Metadata:
        """Compare the committed object's CRC32C with the bytes sent; delete
        the object (that generation only) and raise when they differ."""
        expected = None if self._hasher is None else self._hasher.b64()
        stored = done.get("crc32c")
        if expected is not None and stored is not None and stored != expected:
            generation = done.get("generation")
            try:
                await self._core.objects_delete(
                    self._key, generation=None if generation is None else str(generation)
                )
            except Exception:  # the error below says what matters
                _log.warning("could not delete the corrupt upload of %r", self._path)
            raise ChecksumMismatch(
                f"GCS committed an object whose crc32c is {stored}, the bytes sent have {expected}; "
                "it was deleted",
                operation="write",
                path=self._path,
                service=SERVICE,
            )
        return metadata_from_resource(done)

    async def cancel(self) -> None:
        """Cancel the resumable session (its URI is a credential of its own: never logged)."""
        uri, self._session_uri = self._session_uri, None
        if uri is not None:
            with map_errors("abort", self._path):
                await self._core.resumable_cancel(uri)


def gcs_writer(core: GcsCore, *, path: str, chunk: int, **upload: Any) -> RangeWriter[Resource]:
    """The range-write engine over a :class:`GcsUpload` (``upload``: its keyword arguments)."""
    return RangeWriter(GcsUpload(core, path=path, **upload), chunk=chunk, path=path, service=SERVICE)
