"""The fs writer: bytes staged in a temp file, made visible on ``close``."""

from __future__ import annotations

from ...raw.accessor import Buffer, RawWriter
from ...types import Metadata
from .core import TempFile, run_shielded, run_sync

__all__ = ["FsWriter"]


class FsWriter(RawWriter):
    """A streamed write to one path (see :class:`~pystorage.services.fs.core.TempFile`).

    Each :meth:`write` is one worker-thread hand-off; :meth:`close` commits
    (rename, link or append) in one more; :meth:`abort` deletes the temp
    file and leaves the target untouched. Nothing is visible at the target
    until :meth:`close` returns.

    Args:
        temp: the opened temp file.
    """

    def __init__(self, temp: TempFile) -> None:
        self._temp = temp

    async def write(self, data: Buffer) -> None:
        """Write ``data`` to the temp file (one thread call)."""
        await run_sync(self._temp.write, data)

    async def close(self) -> Metadata:
        """Commit; returns the target's metadata (``content_length`` is the whole file's)."""
        return await run_sync(self._temp.commit)

    async def abort(self) -> None:
        """Delete the temp file, even in a cancelled scope and even while a
        cancelled :meth:`write` is still finishing in its thread (it waits for
        it). Safe to call twice, and after :meth:`close`."""
        await run_shielded(self._temp.discard)
