"""The file object of :class:`~pystorage.fsspec.PyStorageFileSystem`
(``fs.open(path, mode)``): ranged, pinned reads and streamed writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import fsspec.asyn
from fsspec.spec import AbstractBufferedFile

from .. import errors

if TYPE_CHECKING:
    from ._filesystem import PyStorageFileSystem

__all__ = ["PyStorageFile"]


def _write_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The pystorage write options among fsspec's keyword arguments (others are ignored, as fsspec does)."""
    names = ("content_type", "cache_control", "content_disposition", "content_encoding", "user_metadata")
    options = {k: kwargs[k] for k in names if kwargs.get(k) is not None}
    if "ContentType" in kwargs and "content_type" not in options:
        options["content_type"] = kwargs["ContentType"]
    return options


class PyStorageFile(AbstractBufferedFile):  # type: ignore[misc]
    """A file of a :class:`PyStorageFileSystem` (``fs.open(path, mode)``).

    Reads (``"rb"``) are seekable and cached by fsspec's block cache
    (``cache_type``, default ``"readahead"``); each miss, and each read of at
    least ``block_size`` bytes (which skips the cache), is one ranged read
    through pystorage's ranged engine (split into concurrent requests of at
    most ``chunk`` bytes when large), pinned to the etag seen at open, so a
    file that changes while open raises ``ConditionNotMatch`` instead of
    mixing bytes.

    Writes stream through pystorage's writer (multipart on object stores):
    ``"wb"`` replaces the file on a clean close, ``"xb"`` fails with
    ``FileExistsError`` if it exists (``if_not_exists``), ``"ab"`` appends
    where the service can (``write_can_append``: fs, gcs; elsewhere
    ``Unsupported`` before any request, never an overwrite). Nothing is
    visible until ``close()``; leaving a ``with`` block by an exception aborts
    the upload. Memory held: ``block_size`` plus the writer's bound.
    """

    fs: PyStorageFileSystem

    def __init__(self, fs: PyStorageFileSystem, path: str, mode: str = "rb", **kwargs: Any) -> None:
        self._writer: Any = None
        op, rel, _ = fs._route(path)
        self._op, self._rel = op, rel
        if mode == "ab" and not op.capability().write_can_append:
            self._unclosable = True  # never initialised: nothing to close
            raise errors.Unsupported(
                f"append is not supported by service {op.info.scheme!r}", operation="write", path=rel
            )
        if mode == "xb" and fs.exists(path):  # fail early; the write is still conditional
            self._unclosable = True
            raise FileExistsError(path)
        super().__init__(fs, path, mode=mode, **kwargs)
        if mode == "rb":
            self.etag: str | None = self.details.get("etag")
            if self.details.get("type") == "directory":
                raise IsADirectoryError(path)

    def read(self, length: int = -1) -> bytes:
        """Read ``length`` bytes (all that is left if negative; ``b""`` at the end).

        A read of at least ``block_size`` bytes is one ranged read of exactly
        those bytes, past the block cache: Parquet and Arrow readers ask for
        ~32 MiB at a time, and the read-ahead cache would fetch a block more
        than asked and copy the answer once again."""
        n = -1 if length is None else int(length)
        if self.mode == "rb" and not self.closed:
            n = self.size - self.loc if n < 0 else min(n, self.size - self.loc)
            if n >= self.blocksize:
                out = self._fetch_range(self.loc, self.loc + n)
                self.loc += len(out)
                return out
        data: bytes = super().read(length)
        return data

    def _fetch_range(self, start: int, end: int) -> bytes:
        if start >= end:
            return b""
        return self._sync(self._fetch_range_async(start, end))  # type: ignore[no-any-return]

    async def _fetch_range_async(self, start: int, end: int) -> bytes:
        cap = self._op.capability()
        pin = self.etag if self.etag and cap.read_with_if_match else None
        try:
            return await self._op.read(
                self._rel, offset=start, size=end - start, if_match=pin, **self.fs._chunking(end - start)
            )
        except errors.RangeNotSatisfied:
            return b""

    def _sync(self, coro: Any) -> Any:
        return fsspec.asyn.sync(self.fs.loop, lambda: coro)

    def _initiate_upload(self) -> None:
        mode = {"wb": "wb", "xb": "wb", "ab": "ab"}[self.mode]
        options: dict[str, Any] = _write_options(self.kwargs)
        if self.mode == "xb":
            options["if_not_exists"] = True
        if mode == "wb":
            options.update(chunk=self.fs._part_size(self._op), concurrent=self.fs.concurrent)

        async def opened() -> Any:
            return await self._op.open(self._rel, mode, **options)

        self._writer = self._sync(opened())

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        if self._writer is None:
            self._initiate_upload()
        try:
            if data:
                self._sync(self._writer.write(data))
            if final:
                self._sync(self._writer.close())
        except errors.ConditionNotMatch as exc:
            self._abort()
            raise FileExistsError(self.path) from exc
        except BaseException:
            self._abort()
            raise
        return True

    def _abort(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                self._sync(writer.abort())
            except Exception:
                pass  # the original error matters more

    def discard(self) -> None:
        """Abort the upload: nothing is written."""
        self._abort()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and self.writable() and not self.__dict__.get("closed", False):
            self._abort()
            self.closed = True
            return
        self.close()
