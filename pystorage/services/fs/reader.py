"""The fs reader: the bytes of one ranged read."""

from __future__ import annotations

from ...raw.accessor import RawReader
from ...types import Metadata
from .core import ReadHandle, run_shielded, run_sync

__all__ = ["FsReader"]


class FsReader(RawReader):
    """Delivers a range read by :meth:`~pystorage.services.fs.core.FsCore.open_read`.

    A small range arrives whole in ``first`` (the file is already closed); a
    large one arrives as ``first`` then one block per :meth:`read`, each block
    one worker-thread hand-off on the file kept open by ``handle``.

    Args:
        first: the first bytes of the range (all of it for a small range).
        handle: the open file for the rest, or ``None``.
        size: how many bytes the range holds.
        metadata: the file's metadata at open time.
    """

    def __init__(self, first: bytes, handle: ReadHandle | None, size: int, metadata: Metadata) -> None:
        self._first: bytes | None = first
        self._handle = handle
        self.size = size
        self.metadata = metadata

    async def read(self) -> bytes:
        """The next piece of the range; ``b""`` at its end."""
        first, self._first = self._first, None
        if first:
            return first
        handle = self._handle
        if handle is None or handle.done:
            return b""
        return await run_sync(handle.read_block)

    async def aclose(self) -> None:
        """Close the file if it is still open (even in a cancelled scope); safe to call twice."""
        self._first = None
        handle, self._handle = self._handle, None
        if handle is not None and not handle.done:
            await run_shielded(handle.close)
