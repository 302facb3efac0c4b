"""The fs accessor: a thin async shell over :mod:`pystorage.services.fs.core`.

Every method is exactly one worker-thread hand-off (listing: one per page;
streamed reads and writes: one per block or chunk).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from ...raw import capabilities as caps
from ...raw.accessor import Accessor, AccessorInfo, Buffer, RawReader, RawWriter
from ...raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpRead, OpRename, OpStat, OpWrite
from ...types import Capability, Entry, Metadata
from .config import FsConfig
from .core import FsCore
from .lister import list_pages
from .reader import FsReader
from .threads import run_shielded, run_sync
from .writer import FsWriter, TempFile, write_once

__all__ = ["CAPABILITY", "FsAccessor"]

#: what the fs service can do; everything not listed is ``False``
CAPABILITY = Capability(
    **caps.BASICS,
    read_with_if_match=True,
    write_can_append=True,
    write_with_if_not_exists=True,
    **caps.LISTING,
)


class FsAccessor(Accessor):
    """Files in a local directory (see ``docs/services/fs.md``).

    Args:
        config: the parsed :class:`~pystorage.services.fs.config.FsConfig`;
            the root (and ``atomic_write_dir``) are created when missing.

    Raises:
        ConfigInvalid: the root cannot be used as a directory.
    """

    def __init__(self, config: FsConfig) -> None:
        self._config = config
        self._core = FsCore.from_config(config)
        root = self._core.root.rstrip("/") + "/"
        self._info = AccessorInfo("fs", root, root, CAPABILITY)

    @property
    def core(self) -> FsCore:
        """The blocking primitives (for tests and the blocking operator)."""
        return self._core

    def info(self) -> AccessorInfo:
        """Scheme ``"fs"``, the absolute root (ending with ``/``) as root and name, :data:`CAPABILITY`."""
        return self._info

    def __repr__(self) -> str:
        return f"FsAccessor(root={self._info.root!r})"

    async def stat(self, path: str, op: OpStat) -> Metadata:
        """``stat`` (one thread call); conditions are not supported."""
        return await run_sync(self._core.stat, path)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        """``create_dir``: ``mkdir -p`` (one thread call)."""
        await run_sync(self._core.create_dir, path)

    async def read(self, path: str, op: OpRead) -> RawReader:
        """``read``: a small range (up to 8 MiB) is read whole in one thread
        call; a large one is opened in that call, then delivers one block per
        ``read()``, or all of it in one more call (``read_rest()``, used by
        ``op.read()``)."""
        first, handle, size, st = await run_sync(self._core.open_read, path, op.offset, op.size, op.if_match)
        return FsReader(first, handle, size, st)

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        """``write``: opens a temp file (one thread call) and returns its writer."""
        temp = TempFile(self._core, path, append=op.append, if_not_exists=op.if_not_exists)
        try:
            await run_sync(temp.open)
        except BaseException:
            await run_shielded(temp.discard)
            raise
        return FsWriter(temp)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        """``write`` of a whole object: open, write and commit in one thread call."""
        if not op.append and not op.if_not_exists:
            return await run_sync(write_once, self._core, path, data)
        temp = TempFile(self._core, path, append=op.append, if_not_exists=op.if_not_exists)
        return await run_sync(temp.write_once, data)

    async def delete(self, path: str, op: OpDelete) -> None:
        """``delete`` (one thread call); missing is fine, a non-empty directory is kept."""
        await run_sync(self._core.delete, path)

    async def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        """``list``: the entries of :meth:`list_pages`, one by one (an abandoned
        iteration closes the page generator at once, so nothing is left to the GC)."""
        async with contextlib.aclosing(list_pages(self._core, path, op)) as pages:
            async for page in pages:
                for entry in page:
                    yield entry

    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        """``list``: sorted entries below ``path``, one page per thread call, handed on as it is."""
        return list_pages(self._core, path, op)

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        """``copy`` via a temp file and a rename (one thread call)."""
        await run_sync(self._core.copy, src, dst)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        """``rename``: :func:`os.replace`, creating parents (one thread call)."""
        await run_sync(self._core.rename, src, dst)
