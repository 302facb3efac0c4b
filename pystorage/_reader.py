"""The public :class:`AsyncReader` (``op.open(path, "rb")``)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

from .raw.closing import OpensOnFirstUse
from .raw.ranged import RangeReader
from .raw.tasks import call_progress
from .types import Metadata

__all__ = ["AsyncReader"]

#: piece size of ``async for`` and of ``read(-1)`` in chunked mode
ITER_PIECE = 1024 * 1024


class AsyncReader(OpensOnFirstUse):
    """A seekable reader, returned by ``op.open(path, "rb")``.

    Both awaitable and an async context manager::

        async with op.open("big.bin", "rb", chunk=4 << 20, concurrent=4) as r:
            await r.seek(1 << 30)
            header = await r.read(512)

    Without ``chunk`` one request streams from the position onwards; with it,
    ranged requests of ``chunk`` bytes are fetched ``concurrent`` at a time and
    ``prefetch`` chunks ahead. A seek inside the buffered window sends no
    request. Memory held: at most ``chunk × (prefetch + concurrent)`` bytes.
    ``tell()`` starts at 0.
    """

    def __init__(
        self,
        opener: Callable[[], Awaitable[RangeReader]],
        *,
        path: str,
        progress: Callable[[int, int | None], Any] | None = None,
    ) -> None:
        self._opener = opener
        self._engine: RangeReader | None = None
        self._metadata: Metadata | None = None  # kept once the engine is closed
        self._progress = progress
        self._delivered = 0
        self._closed = False
        self.path = path

    def __repr__(self) -> str:
        pos = self._engine.position if self._engine else 0
        return f"<AsyncReader path={self.path!r} position={pos}>"

    async def _open(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on a closed reader")
        if self._engine is None:
            self._engine = await self._opener()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def metadata(self) -> Metadata | None:
        """The object's metadata, known once the reader is open: from the
        first answer of a streamed reader, from the ``stat`` of a chunked one."""
        if self._engine is not None and self._engine.metadata is not None:
            self._metadata = self._engine.metadata
        return self._metadata

    def readable(self) -> bool:
        """Always ``True``."""
        return True

    def seekable(self) -> bool:
        """Always ``True``."""
        return True

    async def _engine_ready(self) -> RangeReader:
        await self._open()
        assert self._engine is not None
        return self._engine

    async def _delivered_bytes(self, n: int) -> None:
        if n:
            self._delivered += n
            meta = self.metadata
            size = meta.content_length if meta else None
            await call_progress(self._progress, self._delivered, size)

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all that is left if ``n < 0``); ``b""`` at the end."""
        engine = await self._engine_ready()
        if n == 0:
            return b""
        if n > 0:
            first = await engine.read_piece(n)
            if len(first) == n or not first:
                await self._delivered_bytes(len(first))
                return first
            out = bytearray(first)
            while len(out) < n:
                piece = await engine.read_piece(n - len(out))
                if not piece:
                    break
                out += piece
            await self._delivered_bytes(len(out))
            return bytes(out)
        buf = io.BytesIO()
        while True:
            piece = await engine.read_piece(-1)
            if not piece:
                break
            buf.write(piece)
            await self._delivered_bytes(len(piece))
        return buf.getvalue()

    async def readinto(self, buffer: bytearray | memoryview) -> int:
        """Read into ``buffer``; returns the number of bytes read (0 at the end)."""
        view = memoryview(buffer).cast("B")
        engine = await self._engine_ready()
        filled = 0
        while filled < len(view):
            piece = await engine.read_piece(len(view) - filled)
            if not piece:
                break
            view[filled : filled + len(piece)] = piece
            filled += len(piece)
        await self._delivered_bytes(filled)
        return filled

    async def seek(self, pos: int, whence: int = 0) -> int:
        """Move the position (``whence`` 0: from the start, 1: from the
        current position, 2: from the end); returns the new position."""
        engine = await self._engine_ready()
        if whence == 0:
            target = pos
        elif whence == 1:
            target = engine.position + pos
        elif whence == 2:
            end = await engine.find_end()
            if end is None:
                raise ValueError("the object's size is unknown; cannot seek from the end")
            target = end + pos
        else:
            raise ValueError(f"invalid whence {whence!r} (0, 1 or 2)")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        engine.seek(target)
        return target

    async def tell(self) -> int:
        """The current position."""
        engine = await self._engine_ready()
        return engine.position

    async def close(self) -> None:
        """Release connections and buffers. Idempotent."""
        self._closed = True
        engine, self._engine = self._engine, None
        if engine is not None:
            self._metadata = engine.metadata or self._metadata
            await engine.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        engine = await self._engine_ready()
        while True:
            piece = await engine.read_piece(ITER_PIECE)
            if not piece:
                return
            await self._delivered_bytes(len(piece))
            yield piece
