"""The Operator's server-side calls: ``copy``, ``rename`` and the presigns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from . import errors
from ._operator_base import OperatorBase
from ._options import seconds
from ._reader import AsyncReader
from ._writer import AsyncWriter, open_raw_writer
from .raw.ops import OpCopy, OpDelete, OpPresign, OpRead, OpRename, OpStat, OpWrite
from .raw.ranged import open_reader
from .raw.tasks import call_progress
from .types import PresignedRequest

__all__ = ["ServerSideCalls"]

#: ``progress(done_bytes, total_bytes_or_None)``, sync or async
Progress = Callable[[int, int | None], Any]


class ServerSideCalls(OperatorBase):
    """``copy``, ``rename``, ``presign_read``, ``presign_write``, ``presign_stat``."""

    def _pair(self, src: str, dst: str, operation: str) -> tuple[str, str]:
        """Both file paths, normalised; the same path twice raises ``IsSameFile``."""
        s, d = self._file_path(src, operation), self._file_path(dst, operation)
        if s == d:
            raise errors.IsSameFile("source and destination are the same", operation=operation, path=s)
        return s, d

    async def copy(self, src: str, dst: str, *, progress: Progress | None = None) -> None:
        """Copy file ``src`` to ``dst``: server-side where the service can,
        else streamed through this process."""
        s, d = self._pair(src, dst, "copy")
        cap = self.capability()
        with self._context("copy", s):
            if cap.copy:
                total = None
                if progress is not None:
                    total = (await self._accessor.stat(s, OpStat())).content_length
                await self._accessor.copy(s, d, OpCopy())
                await call_progress(progress, total or 0, total)
                return
            self._require(cap.read and cap.write, "copy", s, "copy")
            reader = AsyncReader(lambda: open_reader(self._accessor, s, OpRead()), path=s, progress=progress)
            async with (
                reader,
                AsyncWriter(lambda: open_raw_writer(self._accessor, d, OpWrite()), path=d) as w,
            ):
                async for piece in reader:
                    await w.write(piece)

    async def rename(self, src: str, dst: str) -> None:
        """Move file ``src`` to ``dst`` (copy then delete where the service
        has no native rename)."""
        s, d = self._pair(src, dst, "rename")
        cap = self.capability()
        with self._context("rename", s):
            if cap.rename:
                await self._accessor.rename(s, d, OpRename())
                return
            await self.copy(s, d)
            self._require(cap.delete, "delete", s, "delete")
            await self._accessor.delete(s, OpDelete())

    # presign ----------------------------------------------------------------------------
    async def _presign(
        self, path: str, method: str, flag: str, expire: float | dt.timedelta
    ) -> PresignedRequest:
        p = self._file_path(path, f"presign_{flag}")
        cap = self.capability()
        self._require(
            cap.presign and getattr(cap, f"presign_{flag}"), f"presign_{flag}", p, f"presign_{flag}"
        )
        op = OpPresign(method=method, expire=seconds(expire))
        with self._context(f"presign_{flag}", p):
            return await self._accessor.presign(p, op)

    async def presign_read(self, path: str, expire: float | dt.timedelta) -> PresignedRequest:
        """A signed GET request for ``path`` valid for ``expire`` (seconds or timedelta)."""
        return await self._presign(path, "GET", "read", expire)

    async def presign_write(self, path: str, expire: float | dt.timedelta) -> PresignedRequest:
        """A signed PUT request for ``path`` valid for ``expire``."""
        return await self._presign(path, "PUT", "write", expire)

    async def presign_stat(self, path: str, expire: float | dt.timedelta) -> PresignedRequest:
        """A signed HEAD request for ``path`` valid for ``expire``."""
        return await self._presign(path, "HEAD", "stat", expire)
