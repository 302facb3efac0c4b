"""The fs lister: pages of entries from a :class:`~pystorage.services.fs.core.DirWalker`."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ...raw.ops import OpList
from ...types import Entry
from .core import LIST_PAGE, DirWalker, FsCore, run_sync

__all__ = ["list_entries"]


async def list_entries(core: FsCore, path: str, op: OpList) -> AsyncIterator[Entry]:
    """Yield the entries below directory ``path`` in lexicographic order.

    Each page (at most ``op.limit`` entries, and at most
    :data:`~pystorage.services.fs.core.LIST_PAGE`) is one worker-thread
    hand-off; nothing is held open between pages, so abandoning the iterator
    early leaks nothing.

    Args:
        core: the :class:`~pystorage.services.fs.core.FsCore`.
        path: the directory (``"/"`` or ``"a/"``).
        op: ``recursive``, ``start_after`` and ``limit`` are honoured.
    """
    walker = DirWalker(core, path, recursive=op.recursive, start_after=op.start_after)
    page_size = LIST_PAGE if op.limit is None else max(1, min(op.limit, LIST_PAGE))
    while not walker.done:
        for entry in await run_sync(walker.next_page, page_size):
            yield entry
