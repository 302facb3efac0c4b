"""The raw fs line: plain ``os``/``open`` calls, one ``asyncio.to_thread`` per operation.

``asyncio.to_thread`` (the loop's default executor), not ``anyio.to_thread``:
anyio's hand-off costs ~100 µs of CPU per call against ~35 µs, and measuring
both lines through it hid most of the fs driver's overhead (docs/performance.md,
"fs driver, round 2").

Each call does what the matching pystorage call must do at least: ``get`` opens,
reads the whole file and closes; ``get_range`` opens, ``pread``s and closes;
``put`` writes the file in place (no temporary file and rename, unlike
pystorage's atomic writes); a streamed read or write runs one thread call per
piece; ``list`` scans the directory, sorts the names and stats each entry
(a listing returns each entry's size and modification time, in order, as
an object store's does).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

from . import Contender

__all__ = ["CONTENDER", "OsFs"]


def _read_all(path: str) -> int:
    with open(path, "rb") as f:
        return len(f.read())


def _pread(path: str, offset: int, size: int) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        return len(os.pread(fd, size, offset))
    finally:
        os.close(fd)


def _write_all(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _count(path: str) -> int:
    """What a listing must do at least: every name, in order, with its size and mtime."""
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except FileNotFoundError:
        return 0
    n = 0
    for entry in entries:
        st = entry.stat(follow_symlinks=False)
        n += st.st_size >= 0 and st.st_mtime_ns >= 0
    return n


class OsFs(Contender):
    """``os`` calls in asyncio's default executor."""

    name = "os_fs"
    family = "fs"
    role = "sdk"
    label = "plain os calls, one asyncio.to_thread call per op"

    def __init__(self) -> None:
        self.root = ""
        self.run: Any = None

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Remember the root (the benchmark child runs on asyncio)."""
        import asyncio

        self.root = cfg["root"]
        self.run = asyncio.to_thread

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key)

    async def get(self, key: str) -> int:
        """open + read + close in one thread call."""
        n: int = await self.run(_read_all, self._path(key))
        return n

    async def get_stream(self, key: str, chunk: int) -> int:
        """``open``, then one thread call per ``read(chunk)``."""
        f = await self.run(open, self._path(key), "rb")
        n = 0
        try:
            while piece := await self.run(f.read, chunk):
                n += len(piece)
        finally:
            await self.run(f.close)
        return n

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """open + pread + close in one thread call."""
        n: int = await self.run(_pread, self._path(key), offset, size)
        return n

    async def put(self, key: str, data: bytes) -> None:
        """open + write + close in one thread call."""
        await self.run(_write_all, self._path(key), data)

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """The same as ``put``."""
        await self.run(_write_all, self._path(key), data)

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """``open``, one thread call per piece written, ``close``."""
        path = self._path(key)
        await self.run(lambda: os.makedirs(os.path.dirname(path), exist_ok=True))
        f = await self.run(open, path, "wb")
        try:
            async for piece in source:
                await self.run(f.write, piece)
        finally:
            await self.run(f.close)

    async def delete(self, key: str) -> None:
        """``os.unlink`` (a missing file is fine)."""
        await self.run(_unlink, self._path(key))

    async def list(self, prefix: str) -> int:
        """``os.scandir`` of the directory, sorted, one ``stat`` per entry, in one thread call."""
        n: int = await self.run(_count, self._path(prefix))
        return n


CONTENDER = OsFs
