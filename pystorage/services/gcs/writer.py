"""The streamed writer of the gcs driver: a resumable upload, or one insert for small objects.

Bytes are buffered up to one chunk (a multiple of 256 KiB, as GCS requires
of every chunk but the last). A chunk is uploaded once more bytes follow it,
so the writer always knows which chunk is the last one; an object closed
before its first chunk fills is sent as a single ``objects.insert``.
Nothing is visible at the path until the last chunk (or the insert)
succeeds; :meth:`GcsWriter.abort` cancels the session.

Integrity: with ``checksum_algorithm="crc32c"`` (the default) the insert
carries the object's CRC32C in its metadata (GCS refuses a body that does
not match), and a resumable upload's last chunk carries
``X-Goog-Hash: crc32c=...``; the committed object's CRC32C is compared too,
and an object that does not match is deleted (that generation only) and
``ChecksumMismatch`` raised.

Resumption: a chunk whose request fails with a temporary error (a dropped
connection, a 5xx) is not lost with the session: the writer asks the
session how many bytes it persisted (``Content-Range: bytes */*``) and
resends from there, up to :data:`RESENDS` times per chunk, holding only
that chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from ...errors import ChecksumMismatch, Unexpected
from ...raw import multipart as _engine
from ...raw.accessor import Buffer, RawWriter
from ...raw.buffered import as_view
from ...raw.checksum import Hasher, crc32c_b64, new_hasher
from ...sse import SseSpec
from ...types import Metadata
from .core import GcsCore, metadata_from_resource
from .errors import SERVICE, from_native, map_errors

__all__ = ["CHUNK_ALIGN", "DEFAULT_CHUNK", "RESENDS", "GcsWriter", "chunk_size"]

_log = logging.getLogger("pystorage")

#: every chunk of a resumable upload but the last is a multiple of this
CHUNK_ALIGN = 256 * 1024
#: the chunk size when the write gives none (Google recommends at least 8 MiB)
DEFAULT_CHUNK = 8 * 1024 * 1024
#: times one chunk is resent from the session's persisted offset after a temporary failure
RESENDS = 3


def chunk_size(requested: int | None) -> int:
    """The chunk size for a requested one: rounded down to a multiple of 256 KiB
    (at least 256 KiB); :data:`DEFAULT_CHUNK` when ``None``."""
    if requested is None:
        return DEFAULT_CHUNK
    return max(CHUNK_ALIGN, requested - requested % CHUNK_ALIGN)


class GcsWriter(RawWriter):
    """A streamed write to one object.

    Args:
        core: the JSON API calls.
        path: the path (for errors).
        key: the object name.
        resource: the object resource to create (name, content headers, metadata ...).
        preconditions: resolves the query parameters (``ifGenerationMatch`` ...) of
            the commit; awaited once, before the first request.
        chunk: bytes per resumable chunk, a multiple of 256 KiB.
        sse: the server-side encryption spec sent with every request
            (default ``None``; see :mod:`pystorage.services.gcs.sse`).

    Memory held: at most ``chunk`` bytes besides the caller's buffer.
    """

    buffers = True  # gathers writes into chunks itself: the core adds no buffer

    def __init__(
        self,
        core: GcsCore,
        *,
        path: str,
        key: str,
        resource: Mapping[str, Any],
        preconditions: Callable[[], Awaitable[dict[str, str | None]]],
        chunk: int,
        sse: SseSpec | None = None,
    ) -> None:
        if chunk % CHUNK_ALIGN:
            raise ValueError("chunk must be a multiple of 256 KiB")
        self._core = core
        self._path = path
        self._key = key
        self._resource = dict(resource)
        self._content_type = str(resource.get("contentType") or "application/octet-stream")
        self._preconditions = preconditions
        self._chunk = chunk
        self._sse = sse
        self._buf = bytearray()
        self._session_uri: str | None = None
        self._offset = 0
        self._finished = False
        self._hasher: Hasher | None = (
            new_hasher("crc32c") if core.config.checksum_algorithm == "crc32c" else None
        )

    def __repr__(self) -> str:
        state = "finished" if self._finished else ("resumable" if self._session_uri else "buffering")
        return f"<GcsWriter path={self._path!r} offset={self._offset} {state}>"

    async def write(self, data: Buffer) -> None:
        """Buffer ``data``; upload every full chunk that more bytes follow."""
        if self._finished:
            raise ValueError("write to a finished GCS writer")
        view = as_view(data)
        size = self._chunk
        with map_errors("write", self._path):
            while len(self._buf) + len(view) > size:
                if self._buf:
                    take = size - len(self._buf)
                    self._buf += view[:take]
                    view = view[take:]
                    full, self._buf = self._buf, bytearray()
                    await self._upload(memoryview(full), total=None)
                else:
                    await self._upload(view[:size], total=None)
                    view = view[size:]
            if len(view):
                self._buf += view

    async def close(self) -> Metadata:
        """Upload what is left as the last chunk (or the whole object in one
        insert) and return the object's metadata."""
        if self._finished:
            raise ValueError("the GCS writer is already finished")
        with map_errors("write", self._path):
            rest, self._buf = self._buf, bytearray()
            if self._session_uri is None:
                params = await self._preconditions()
                params.update(self._core_params())
                body = dict(self._resource)
                if self._hasher is not None:
                    body["crc32c"] = crc32c_b64(memoryview(rest))  # GCS refuses a body that does not match
                resource = await self._core.objects_insert(
                    self._key, memoryview(rest), body, params, sse=self._sse
                )
            else:
                found = await self._upload(memoryview(rest), total=self._offset + len(rest))
                if found is None:
                    raise Unexpected(
                        "GCS did not complete the upload after its last chunk",
                        operation="write",
                        path=self._path,
                        service=SERVICE,
                        temporary=True,
                    )
                resource = found
                await self._verify(resource)
        self._finished = True
        return metadata_from_resource(resource)

    async def _verify(self, resource: Mapping[str, Any]) -> None:
        """Compare the committed object's CRC32C with the bytes sent; delete
        the object (that generation only) and raise when they differ."""
        if self._hasher is None:
            return
        expected, stored = self._hasher.b64(), resource.get("crc32c")
        if stored is None or stored == expected:
            return
        generation = resource.get("generation")
        try:
            await self._core.objects_delete(
                self._key, generation=None if generation is None else str(generation)
            )
        except Exception:  # the error below says what matters
            _log.warning("could not delete the corrupt upload of %r", self._path)
        self._finished = True
        raise ChecksumMismatch(
            f"GCS committed an object whose crc32c is {stored}, the bytes sent have {expected}; "
            "it was deleted",
            operation="write",
            path=self._path,
            service=SERVICE,
        )

    async def abort(self) -> None:
        """Cancel the resumable session, if one was started (best effort: an
        unfinished session is never visible and expires within a week).

        Shielded from cancellation and bounded by
        :data:`~pystorage.raw.multipart.ABORT_TIMEOUT`; a failure is logged at
        WARNING with the path (not the session URI: it is a credential of its
        own) and never raised."""
        self._buf = bytearray()
        uri, self._session_uri = self._session_uri, None
        if self._finished:
            return
        self._finished = True
        if uri is None:
            return
        seconds = _engine.ABORT_TIMEOUT
        failure: str | None = None
        with anyio.CancelScope(shield=True):
            try:
                with anyio.move_on_after(seconds) as deadline:
                    await self._core.resumable_cancel(uri)
                if deadline.cancelled_caught:
                    failure = f"timed out after {seconds}s"
            except Exception as exc:
                failure = str(from_native(exc, operation="abort", path=self._path) or exc)
        if failure is not None:
            _log.warning(
                "could not cancel the resumable upload of %r (it expires within a week): %s",
                self._path,
                failure,
            )

    def _core_params(self) -> dict[str, str | None]:
        return {"predefinedAcl": self._core.config.predefined_acl}

    async def _upload(self, data: memoryview, *, total: int | None) -> dict[str, Any] | None:
        """Upload ``data`` at the current offset; resend what the server did
        not persist. Returns the object resource once the upload is complete."""
        if self._session_uri is None:
            params = await self._preconditions()
            params.update(self._core_params())
            self._session_uri = await self._core.resumable_start(self._resource, params, sse=self._sse)
        if self._hasher is not None:
            self._hasher.update(data)
        last_hash = None if total is None or self._hasher is None else f"crc32c={self._hasher.b64()}"
        sent = 0
        resends = 0
        while True:
            try:
                persisted, resource = await self._core.resumable_put(
                    self._session_uri,
                    data[sent:],
                    offset=self._offset + sent,
                    total=total,
                    content_type=self._content_type,
                    sse=self._sse,
                    goog_hash=last_hash,
                )
            except Exception as exc:
                error = from_native(exc, operation="write", path=self._path)
                if error is None or not error.temporary or resends >= RESENDS:
                    raise
                resends += 1
                persisted, resource = await self._persisted(exc)
                if resource is None and persisted - self._offset < len(data):
                    sent = max(persisted - self._offset, 0)  # resend from what the session holds
                    continue
            if resource is not None:
                self._offset += len(data)
                return resource
            advanced = persisted - self._offset
            if advanced >= len(data):
                self._offset += len(data)
                return None
            if advanced <= sent:
                raise Unexpected(
                    f"GCS persisted no more bytes of the chunk (at {persisted} bytes)",
                    operation="write",
                    path=self._path,
                    service=SERVICE,
                    temporary=True,
                )
            sent = max(advanced, 0)

    async def _persisted(self, failure: Exception) -> tuple[int, dict[str, Any] | None]:
        """Ask the session how many bytes it holds (``Content-Range: bytes */*``)
        after ``failure``; re-raise ``failure`` if the session cannot tell."""
        assert self._session_uri is not None
        try:
            return await self._core.resumable_put(
                self._session_uri,
                memoryview(b""),
                offset=self._offset,
                total=None,
                content_type=self._content_type,
                sse=self._sse,
            )
        except Exception as exc:
            raise failure from exc
