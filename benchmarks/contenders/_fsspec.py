"""The shared body of the fsspec contenders (issue 13): one fsspec filesystem in
its ordinary synchronous mode, called as pandas and dask users call it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import anyio

from . import Contender

__all__ = ["FsspecContender"]

T = TypeVar("T")


class FsspecContender(Contender):
    """An fsspec filesystem over the S3 server; subclasses build it.

    Every call is the filesystem's public synchronous method (the one pandas,
    pyarrow and dask call), run in a worker thread so the child's event loop
    stays free: ``cat_file``, ``rm_file``, ``cat_ranges``, ``find``, ``pipe``
    and ``cat`` of a list, and ``pandas.read_parquet(path, filesystem=fs)``.
    """

    family = "fsspec"
    role = "peer"

    def __init__(self) -> None:
        self.fs: Any = None
        #: what paths start with (``"bucket/"`` for a filesystem of all buckets)
        self.prefix = ""

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """The filesystem to measure (synchronous mode), from the S3 server's settings."""
        raise NotImplementedError

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the filesystem."""
        self.fs = self.filesystem(cfg)

    def _path(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    async def _run(call: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(call)

    async def get(self, key: str) -> int:
        """``len(fs.cat_file(path))``."""
        return len(await self._run(lambda: self.fs.cat_file(self._path(key))))

    async def delete(self, key: str) -> None:
        """``fs.rm_file(path)``."""
        await self._run(lambda: self.fs.rm_file(self._path(key)))

    async def read_parquet(self, key: str) -> int:
        """``pandas.read_parquet(path, filesystem=fs)`` (pyarrow opens the file through ``fs.open``)."""
        import pandas as pd

        frame = await self._run(lambda: pd.read_parquet(self._path(key), filesystem=self.fs))
        return int(frame.memory_usage(index=False).sum())

    async def cat_ranges(self, key: str, starts: list[int], ends: list[int]) -> int:
        """``fs.cat_ranges([path] * n, starts, ends)``."""
        paths = [self._path(key)] * len(starts)
        datas = await self._run(lambda: self.fs.cat_ranges(paths, starts, ends))
        return sum(len(d) for d in datas)

    async def find(self, prefix: str) -> int:
        """``len(fs.find(path))``."""
        return len(await self._run(lambda: self.fs.find(self._path(prefix))))

    async def pipe_many(self, files: dict[str, bytes], batch_size: int) -> None:
        """``fs.pipe({path: data, ...}, batch_size=batch_size)``."""
        mapping = {self._path(k): v for k, v in files.items()}
        await self._run(lambda: self.fs.pipe(mapping, batch_size=batch_size))

    async def cat_many(self, keys: list[str], batch_size: int) -> int:
        """``fs.cat([path, ...], batch_size=batch_size)`` (a dict of path -> bytes)."""
        paths = [self._path(k) for k in keys]
        out = await self._run(lambda: self.fs.cat(paths, batch_size=batch_size))
        return sum(len(v) for v in out.values())
