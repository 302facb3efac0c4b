"""The multipart write engine, written once for every driver.

:class:`MultipartWriter` turns a stream of writes into an object on a service
that declares ``multipart``. The driver only supplies the primitives
``write_once``, ``initiate_multipart``, ``write_part``,
``complete_multipart`` and ``abort_multipart``; this engine does the rest:

* buffers to exactly ``chunk`` bytes, so all parts but the last are equal
  (Cloudflare R2 requires it);
* a single ``write_once`` request when the object fits in one chunk, and the
  upload is initiated lazily, only once a second part is certain;
* uploads up to ``concurrent`` parts at a time and completes them in order;
* holds at most ``chunk × (concurrent + 2)`` bytes;
* aborts the upload on any error or cancellation, so no billed parts are
  left behind: the abort goes straight to the driver (not through the retry
  and timeout layers), shielded from the cancellation and bounded by
  :data:`ABORT_TIMEOUT`; it never replaces the error (or the cancellation)
  that caused it, and a failed abort is logged at WARNING with the path and
  the upload id (clean it up later with ``op.abort_multipart_uploads``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import cast

import anyio

from ..errors import ConfigInvalid, Unexpected
from ..types import Metadata, Part
from .accessor import Accessor, Buffer, RawWriter
from .buffered import Chunker
from .ops import OpWrite
from .tasks import run_concurrently

__all__ = ["ABORT_TIMEOUT", "DEFAULT_PART_SIZE", "MultipartWriter", "abort_upload", "check_part_size"]

logger = logging.getLogger("pystorage")

#: the part size used when ``chunk`` is not given
DEFAULT_PART_SIZE = 8 * 1024 * 1024

#: seconds the abort of a failed or cancelled upload may take before it is given up (and logged)
ABORT_TIMEOUT = 15.0


async def abort_upload(accessor: Accessor, path: str, upload_id: str) -> None:
    """Abort multipart upload ``upload_id`` of ``path`` on ``accessor``'s driver,
    shielded from cancellation and bounded by :data:`ABORT_TIMEOUT` (read at each call).

    Raises:
        errors.Error: the abort failed or timed out (a temporary
            :class:`~pystorage.errors.Unexpected`); it was logged at WARNING with
            the path and the upload id first.
    """
    seconds = ABORT_TIMEOUT
    driver = accessor.driver
    with anyio.CancelScope(shield=True):
        try:
            with anyio.move_on_after(seconds) as deadline:
                await driver.abort_multipart(path, upload_id)
        except Exception as exc:
            _log_abort_failure(path, upload_id, exc)
            raise
    if deadline.cancelled_caught:
        err = Unexpected(
            f"the abort of multipart upload {upload_id!r} timed out after {seconds}s",
            operation="abort_multipart", path=path, service=driver.info().scheme, temporary=True,
        )
        _log_abort_failure(path, upload_id, err)
        raise err


def _log_abort_failure(path: str, upload_id: str, exc: BaseException) -> None:
    logger.warning(
        "could not abort multipart upload %r of %r (its parts are billed until it is aborted, "
        "e.g. by op.abort_multipart_uploads): %s",
        upload_id, path, exc,
    )


def check_part_size(accessor: Accessor, chunk: int, *, last: bool = False) -> None:
    """Check ``chunk`` against the service's part-size limits.

    Raises:
        ConfigInvalid: naming ``write_multi_min_size`` or ``write_multi_max_size``.
    """
    cap = accessor.info().capability
    if not last and cap.write_multi_min_size is not None and chunk < cap.write_multi_min_size:
        raise ConfigInvalid(
            f"part size {chunk} is below the service's write_multi_min_size "
            f"({cap.write_multi_min_size} bytes)"
        )
    if cap.write_multi_max_size is not None and chunk > cap.write_multi_max_size:
        raise ConfigInvalid(
            f"part size {chunk} is above the service's write_multi_max_size "
            f"({cap.write_multi_max_size} bytes)"
        )


class MultipartWriter(RawWriter):
    """Streams writes into a multipart upload (see the module docs).

    Args:
        accessor: a driver (or layered driver) declaring ``multipart``.
        path: normalised target path.
        op: write options; ``op.chunk`` is the part size (default 8 MiB),
            ``op.concurrent`` the parts in flight.
        borrowed: the caller keeps every buffer it writes unchanged until
            :meth:`close` returns (``Operator.write`` of a bytes-like body), so
            full parts are views of it, never copies (default ``False``).
    """

    def __init__(self, accessor: Accessor, path: str, op: OpWrite, *, borrowed: bool = False) -> None:
        chunk = op.chunk or max(DEFAULT_PART_SIZE, accessor.info().capability.write_multi_min_size or 0)
        check_part_size(accessor, chunk)
        self._accessor = accessor
        self._path = path
        self._op = op
        self.part_size = chunk
        self._chunker = Chunker(chunk, borrowed=borrowed)
        self._concurrent = max(1, op.concurrent)
        self._ready: list[Buffer] = []
        self._parts: list[Part] = []
        self._upload_id: str | None = None
        self._size = 0
        self._done = False

    @property
    def upload_id(self) -> str | None:
        """The multipart upload id once initiated, else ``None``."""
        return self._upload_id

    async def write(self, data: Buffer) -> None:
        await self._guard(self._write, data)

    async def close(self) -> Metadata:
        return cast(Metadata, await self._guard(self._close))

    async def abort(self) -> None:
        self._ready = []
        self._chunker.take_rest()
        self._done = True
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is None:
            return
        await abort_upload(self._accessor, self._path, upload_id)

    async def _guard(self, func: Callable[..., Awaitable[object]], *args: object) -> object:
        if self._done:
            raise ValueError("the writer is closed")
        try:
            return await func(*args)
        except BaseException:
            if not self._done:
                try:
                    await self.abort()
                except Exception:
                    pass  # the original error (or cancellation) wins; the abort failure was logged
            raise

    async def _write(self, data: Buffer) -> None:
        self._size += len(data)
        self._ready.extend(self._chunker.push(data))
        # upload only parts that are certainly not the last one
        while len(self._ready) > self._concurrent or (
            len(self._ready) == self._concurrent and self._chunker.pending
        ):
            batch = self._ready[: self._concurrent]
            await self._upload(batch)
            del self._ready[: len(batch)]

    async def _close(self) -> Metadata:
        rest = self._chunker.take_rest()
        if len(rest):
            self._ready.append(rest)
        if self._upload_id is None and len(self._ready) <= 1:
            data = self._ready[0] if self._ready else b""
            meta = await self._accessor.write_once(self._path, data, self._op)
        else:
            while self._ready:
                batch = self._ready[: self._concurrent]
                await self._upload(batch)
                del self._ready[: len(batch)]
            assert self._upload_id is not None
            parts = sorted(self._parts, key=lambda p: p.number)
            meta = await self._accessor.complete_multipart(self._path, self._upload_id, parts, self._op)
            self._upload_id = None
        self._done = True
        if meta.content_length is None:
            meta.content_length = self._size
        return meta

    async def _upload(self, batch: list[Buffer]) -> None:
        if self._upload_id is None:
            self._upload_id = await self._accessor.initiate_multipart(self._path, self._op)
        upload_id = self._upload_id
        first = len(self._parts) + 1

        def uploader(number: int, data: Buffer) -> Callable[[], Awaitable[Part]]:
            async def upload() -> Part:
                return await self._accessor.write_part(self._path, upload_id, number, data, self._op)

            return upload

        parts = await run_concurrently(
            [uploader(first + i, data) for i, data in enumerate(batch)], self._concurrent
        )
        self._parts.extend(parts)
