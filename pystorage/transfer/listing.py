"""The listing side of a transfer: one side's entries read ahead in pages on a
task (bounded by a window), and the spill file of paths to delete afterwards."""

from __future__ import annotations

import contextlib
import itertools
import json
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from .. import errors
from .._operator import Operator
from ..raw.tasks import aclose_iterator
from ..types import Entry
from .filters import PathFilter

__all__ = ["Listing", "Spill", "batches", "iterate"]

#: listing entries handed from a listing task to the pairing at once
_PAGE = 100


class Listing:
    """One side's listing below ``prefix``: ``(relative key, entry)`` of files
    the filter takes, in key order, read ahead by a task into a bounded buffer."""

    def __init__(self, op: Operator, prefix: str, keep: PathFilter) -> None:
        self.op = op
        self.prefix = prefix
        self.keep = keep
        self.seen = 0  # entries listed, directories and filtered ones included

    async def entries(self) -> AsyncGenerator[tuple[str, Entry], None]:
        cap = self.op.capability()
        if not cap.list_with_recursive:
            raise errors.Unsupported(
                f"transfers need a recursive listing, which service {self.op.info.scheme!r} lacks",
                operation="list",
                path=self.prefix or "/",
            )
        start = len(self.prefix)
        lister = self.op.list(self.prefix or "/", recursive=True)
        try:
            async for entry in lister:
                self.seen += 1
                if entry.path.endswith("/") or entry.metadata.is_dir:
                    continue
                rel = entry.path[start:]
                if self.keep(rel):
                    yield rel, entry
        finally:
            await aclose_iterator(lister)

    @contextlib.asynccontextmanager
    async def read_ahead(
        self, tg: anyio.abc.TaskGroup, window: int
    ) -> AsyncIterator[MemoryObjectReceiveStream[list[tuple[str, Entry]]]]:
        """Start the listing task; the stream yields pages of entries (at most
        ``window`` entries buffered, plus the page being filled)."""
        size = max(1, min(_PAGE, window))
        send, receive = anyio.create_memory_object_stream[list[tuple[str, Entry]]](max(1, window // size))

        async def produce() -> None:
            async with send, contextlib.aclosing(self.entries()) as entries:
                page: list[tuple[str, Entry]] = []
                async for item in entries:
                    page.append(item)
                    if len(page) >= size:
                        await send.send(page)
                        page = []
                if page:
                    await send.send(page)

        tg.start_soon(produce)
        async with receive:
            yield receive


async def iterate(
    stream: MemoryObjectReceiveStream[list[tuple[str, Entry]]],
) -> AsyncGenerator[tuple[str, Entry], None]:
    async for page in stream:
        for item in page:
            yield item


class Spill:
    """Paths written to a temporary file, read back later (bounded memory)."""

    def __init__(self) -> None:
        self._file: Any = None
        self.count = 0

    def add(self, path: str) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._file.write(json.dumps(path) + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[str]:
        if self._file is None:
            return
        self._file.seek(0)
        for line in self._file:
            yield json.loads(line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def batches(paths: Iterable[str], size: int) -> Iterator[list[str]]:
    """``paths`` in lists of ``size`` (the last one shorter), read lazily."""
    rest = iter(paths)
    while batch := list(itertools.islice(rest, size)):
        yield batch
