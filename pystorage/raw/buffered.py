"""Chunking of written bytes, shared by the write engines.

:class:`Chunker` cuts a stream of writes into pieces of exactly ``size``
bytes (the last one shorter). Full pieces cut from immutable ``bytes`` are
zero-copy ``memoryview`` slices; mutable input (``bytearray``,
``memoryview``) is copied, since the caller may reuse its buffer once
``write`` returns. :class:`BufferedWriter` coalesces small writes before
they reach a driver's streamed writer, so each hand-off carries a large piece.
"""

from __future__ import annotations

from ..types import Metadata
from .accessor import Buffer, RawWriter

__all__ = ["BufferedWriter", "Chunker", "as_view"]


def as_view(data: Buffer | bytearray) -> memoryview:
    """A flat byte view of a bytes-like object."""
    view = memoryview(data)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class Chunker:
    """Cuts writes into ``size``-byte pieces.

    Args:
        size: the piece size in bytes (> 0).
        borrowed: the caller keeps what it pushes unchanged while the pieces
            are in use, so mutable input is sliced too, never copied
            (default ``False``).
    """

    def __init__(self, size: int, *, borrowed: bool = False) -> None:
        self.size = size
        self._borrowed = borrowed
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held that do not yet make a full piece."""
        return len(self._buf)

    def push(self, data: Buffer | bytearray) -> list[Buffer]:
        """Add ``data``; return the pieces it completed, in order."""
        view = as_view(data)
        zero_copy = (
            self._borrowed
            or isinstance(data, bytes)
            or (isinstance(data, memoryview) and isinstance(data.obj, bytes))
        )
        out: list[Buffer] = []
        size = self.size
        if self._buf:
            take = size - len(self._buf)
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) < size:
                return out
            out.append(memoryview(self._buf))
            self._buf = bytearray()
        while len(view) >= size:
            piece = view[:size]
            out.append(piece if zero_copy else bytes(piece))
            view = view[size:]
        if len(view):
            self._buf += view
        return out

    def take_rest(self) -> Buffer:
        """Hand over the bytes that do not make a full piece (maybe empty)."""
        rest, self._buf = self._buf, bytearray()
        return memoryview(rest)


class BufferedWriter(RawWriter):
    """Coalesces small writes into pieces of at least ``size`` bytes before
    passing them to ``inner``; large writes pass straight through.

    Memory held: at most ``size`` bytes besides the caller's own buffer.
    """

    def __init__(self, inner: RawWriter, size: int) -> None:
        self._inner = inner
        self._size = size
        self._buf = bytearray()

    async def write(self, data: Buffer) -> None:
        if not self._buf and len(data) >= self._size:
            await self._inner.write(data)
            return
        self._buf += as_view(data)
        if len(self._buf) >= self._size:
            buf, self._buf = self._buf, bytearray()
            await self._inner.write(memoryview(buf))

    async def close(self) -> Metadata:
        if self._buf:
            buf, self._buf = self._buf, bytearray()
            await self._inner.write(memoryview(buf))
        return await self._inner.close()

    async def abort(self) -> None:
        self._buf = bytearray()
        await self._inner.abort()
