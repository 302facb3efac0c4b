"""The fs reader: the bytes of one ranged read."""

from __future__ import annotations

import os
from collections.abc import Callable

from ...raw.accessor import RawReader
from ...types import Metadata
from .core import ReadHandle
from .metadata import metadata_from_stat
from .threads import run_shielded, run_sync

__all__ = ["FsReader"]


class FsReader(RawReader):
    """Delivers a range read by :meth:`~pystorage.services.fs.core.FsCore.open_read`.

    A small range arrives whole in ``first`` (the file is already closed); a
    large one arrives as one block per :meth:`read`, each block one
    worker-thread hand-off on the file kept open by ``handle``, or whole by
    :meth:`read_rest` in one hand-off.

    Args:
        first: the whole of a small range (``b""`` for a large one).
        handle: the open file for the rest, or ``None``.
        size: how many bytes the range holds.
        st: the file's stat result at open time; :attr:`metadata` is built
            from it when first asked for (a whole read never asks).
    """

    def __init__(self, first: bytes, handle: ReadHandle | None, size: int, st: os.stat_result) -> None:
        self._first: bytes | None = first
        self._handle = handle
        self.size = size
        self._st = st
        self._metadata: Metadata | None = None

    @property
    def metadata(self) -> Metadata:
        """The file's metadata at open time."""
        meta = self._metadata
        if meta is None:
            meta = self._metadata = metadata_from_stat(self._st)
        return meta

    @metadata.setter
    def metadata(self, value: Metadata) -> None:
        self._metadata = value

    async def read(self) -> bytes:
        """The next piece of the range; ``b""`` at its end."""
        return await self._next(ReadHandle.read_block)

    async def read_rest(self) -> bytes:
        """The rest of the range as one ``bytes`` object; a large range is read
        in one ``pread`` (one thread call) instead of block by block, so
        ``op.read()`` of a big file holds the file's size once, like ``f.read()``."""
        return await self._next(ReadHandle.read_rest)

    async def _next(self, call: Callable[[ReadHandle], bytes]) -> bytes:
        first, self._first = self._first, None
        if first:  # a small range: all of it, the file is closed already
            return first
        handle = self._handle
        if handle is None or handle.done:
            return b""
        return await run_sync(call, handle)

    async def aclose(self) -> None:
        """Close the file if it is still open (even in a cancelled scope); safe to call twice."""
        self._first = None
        handle, self._handle = self._handle, None
        if handle is not None and not handle.done:
            await run_shielded(handle.close)
