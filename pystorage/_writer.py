"""The public :class:`AsyncWriter` (``op.open(path, "wb")`` / ``"ab"``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import anyio

from .raw import multipart as _engine
from .raw.accessor import Buffer, RawWriter
from .raw.buffered import as_view
from .raw.closing import OpensOnFirstUse
from .raw.tasks import call_progress
from .raw.write import check_bytes
from .raw.write import open_writer as open_raw_writer  # the name layers import
from .types import Metadata

__all__ = ["AsyncWriter", "check_bytes", "open_raw_writer"]

logger = logging.getLogger("pystorage")

class AsyncWriter(OpensOnFirstUse):
    """A streamed write, returned by ``op.open(path, "wb")`` (or ``"ab"``).

    Both awaitable and an async context manager::

        async with op.open("big.bin", "wb", chunk=8 << 20, concurrent=4) as w:
            async for piece in source:
                await w.write(piece)
        # committed here; on an exception or cancellation nothing is written

    Nothing is visible at the path until :meth:`close` succeeds. Memory held
    is at most ``chunk × (concurrent + 2)`` bytes (plus the caller's buffer).
    """

    def __init__(
        self,
        opener: Callable[[], Awaitable[RawWriter]],
        *,
        path: str,
        progress: Callable[[int, int | None], Any] | None = None,
    ) -> None:
        self._opener = opener
        self._raw: RawWriter | None = None
        self._progress = progress
        self._written = 0
        self._closed = False
        self.path = path

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<AsyncWriter path={self.path!r} written={self._written} {state}>"

    async def _open(self) -> None:
        if self._raw is None:
            self._raw = await self._opener()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            if not self._closed:
                await self.close()
        else:
            await self._abort_quietly()

    @property
    def bytes_written(self) -> int:
        """Bytes accepted so far."""
        return self._written

    def writable(self) -> bool:
        """``True`` until closed."""
        return not self._closed

    async def write(self, data: Buffer | bytearray) -> int:
        """Write ``data`` (bytes-like); returns the number of bytes accepted.

        On failure the whole write is aborted and the error raised.
        """
        check_bytes(data)
        if self._closed:
            raise ValueError("write to a closed writer")
        await self._open()
        assert self._raw is not None
        view = as_view(data)
        size = len(view)
        if not size:
            return 0
        try:
            await self._raw.write(data if isinstance(data, bytes) else view)
        except BaseException:
            await self._abort_quietly()
            raise
        self._written += size
        await call_progress(self._progress, self._written, None)
        return size

    async def close(self) -> Metadata:
        """Commit the object and return its metadata (at least ``content_length``)."""
        if self._closed:
            raise ValueError("the writer is already closed")
        await self._open()
        assert self._raw is not None
        try:
            meta = await self._raw.close()
        except BaseException:
            await self._abort_quietly()
            raise
        self._closed = True
        if meta.content_length is None:
            meta.content_length = self._written
        return meta

    async def abort(self) -> None:
        """Discard everything written; nothing is left at the path. Idempotent.

        Runs even in a cancelled scope (shielded), for at most
        :data:`~pystorage.raw.multipart.ABORT_TIMEOUT` seconds.

        Raises:
            errors.Error: the service could not discard the upload (logged
                at WARNING with the path and, for a multipart upload, its id).
        """
        if self._closed:
            return
        self._closed = True
        if self._raw is not None:
            with anyio.CancelScope(shield=True):
                with anyio.move_on_after(_engine.ABORT_TIMEOUT) as deadline:
                    await self._raw.abort()
            if deadline.cancelled_caught:
                logger.warning(
                    "the abort of the write to %r timed out after %ss", self.path, _engine.ABORT_TIMEOUT
                )

    async def _abort_quietly(self) -> None:
        """Abort after a failure or a cancellation: the abort's own failure is
        logged, never raised, so that the original error (or the
        cancellation) is what propagates."""
        try:
            await self.abort()
        except Exception as exc:
            logger.warning("could not abort the write to %r: %s", self.path, exc)
