"""Deadlines on every call and on every chunk of a stream.

:class:`TimeoutLayer` puts each call under an anyio ``fail_after`` deadline::

    op = Operator("s3", bucket="b").layer(
        RetryLayer(),                               # outside: retries timed-out attempts
        TimeoutLayer(timeout=30.0, io_timeout=5.0),
    )

* ``timeout`` bounds every one-shot call (``stat``, ``write_once``,
  ``write_part``, ``complete_multipart``, ``delete``, ``copy`` ...), the
  opening of a read or write stream, and a writer's ``close`` (the commit) and
  ``abort``;
* ``io_timeout`` bounds each ``RawReader.read()`` and ``RawWriter.write()``
  chunk, a reader's ``aclose``, and each step of a listing (``list``,
  ``list_parts``, ``list_multipart_uploads``): a stream may last as long as it
  keeps moving, but a stall is caught within ``io_timeout``.

An expired deadline raises :class:`~pystorage.errors.Unexpected` with
``temporary=True`` and a message naming the deadline (``"timed out after 10.0s
(io_timeout)"``), chained from the ``TimeoutError``; cancelling the call
aborts whatever the driver had in flight, as anyio cancellation always does.

Ordering caveat: put this layer **inside** (after)
:class:`~pystorage.layers.RetryLayer` so that each attempt gets its own
deadline and a timed-out attempt is retried. Outside it, one deadline covers
every attempt and the backoff sleeps between them, and nothing retries the
timeout.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TypeVar

import anyio

from ..errors import ConfigInvalid, Unexpected
from ..raw.accessor import Accessor, Buffer, RawReader, RawWriter
from ..raw.layer import Layer, LayeredAccessor
from ..raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ..raw.tasks import aclose_iterator
from ..types import Entry, Metadata, Part, PresignedRequest, UploadInfo

__all__ = ["TimeoutLayer"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class TimeoutLayer(Layer):
    """Fail calls and stream chunks that take too long, as temporary errors.

    Args:
        timeout: seconds allowed for each one-shot call, stream opening and
            writer commit (default 60.0).
        io_timeout: seconds allowed for each stream chunk and listing step
            (default 10.0).

    Raises:
        errors.ConfigInvalid: a value is not a positive number (the message names it).
    """

    timeout: float = 60.0
    io_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("timeout", "io_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ConfigInvalid(f"TimeoutLayer: {name} must be a number > 0, got {value!r}")

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in an accessor enforcing the deadlines."""
        return _TimeoutAccessor(inner, self)


class _TimeoutAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, config: TimeoutLayer) -> None:
        super().__init__(inner)
        self.timeout = float(config.timeout)
        self.io_timeout = float(config.io_timeout)

    @contextlib.contextmanager
    def deadline(self, io: bool, operation: str, path: str) -> Iterator[None]:
        """Run the block under ``io_timeout`` (``io=True``) or ``timeout``."""
        seconds, which = (self.io_timeout, "io_timeout") if io else (self.timeout, "timeout")
        try:
            with anyio.fail_after(seconds) as scope:
                yield
        except TimeoutError as exc:
            if not scope.cancelled_caught:
                raise  # not our deadline
            raise Unexpected(
                f"timed out after {seconds}s ({which})",
                operation=operation, path=path, service=self.inner.info().scheme, temporary=True,
            ) from exc

    # one-shot calls ----------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        with self.deadline(False, "stat", path):
            return await self.inner.stat(path, op)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        with self.deadline(False, "create_dir", path):
            await self.inner.create_dir(path, op)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        with self.deadline(False, "write", path):
            return await self.inner.write_once(path, data, op)

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        with self.deadline(False, "create_multipart", path):
            return await self.inner.initiate_multipart(path, op)

    async def write_part(
        self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite
    ) -> Part:
        with self.deadline(False, "write_part", path):
            return await self.inner.write_part(path, upload_id, number, data, op)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        with self.deadline(False, "complete_multipart", path):
            return await self.inner.complete_multipart(path, upload_id, parts, op)

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        with self.deadline(False, "abort_multipart", path):
            await self.inner.abort_multipart(path, upload_id)

    async def delete(self, path: str, op: OpDelete) -> None:
        with self.deadline(False, "delete", path):
            await self.inner.delete(path, op)

    async def delete_batch(self, paths: Sequence[str]) -> None:
        with self.deadline(False, "delete_many", ""):
            await self.inner.delete_batch(paths)

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        with self.deadline(False, "copy", src):
            await self.inner.copy(src, dst, op)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        with self.deadline(False, "rename", src):
            await self.inner.rename(src, dst, op)

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        with self.deadline(False, "presign", path):
            return await self.inner.presign(path, op)

    # streams -----------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        with self.deadline(False, "read", path):
            reader = await self.inner.read(path, op)
        return _TimeoutReader(self, path, reader)

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        with self.deadline(False, "write", path):
            writer = await self.inner.write(path, op)
        return _TimeoutWriter(self, path, writer)

    def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        return self._steps("list", path, self.inner.list(path, op))

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        return self._steps("list_parts", path, self.inner.list_parts(path, upload_id))

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        return self._steps("list_multipart_uploads", prefix, self.inner.list_multipart_uploads(prefix))

    async def _steps(self, operation: str, path: str, it: AsyncIterator[T]) -> AsyncIterator[T]:
        # The deadline covers fetching each item only, never the ``yield``: a
        # cancel scope must not stay open while the consumer runs.
        try:
            while True:
                with self.deadline(True, operation, path):
                    try:
                        item = await it.__anext__()
                    except StopAsyncIteration:
                        return
                yield item
        finally:
            await aclose_iterator(it)


class _TimeoutReader(RawReader):
    def __init__(self, accessor: _TimeoutAccessor, path: str, inner: RawReader) -> None:
        self._accessor = accessor
        self._path = path
        self._inner = inner
        self.size = inner.size
        self.metadata = inner.metadata

    async def read(self) -> bytes:
        with self._accessor.deadline(True, "read", self._path):
            return await self._inner.read()

    async def aclose(self) -> None:
        with self._accessor.deadline(True, "read", self._path):
            await self._inner.aclose()


class _TimeoutWriter(RawWriter):
    def __init__(self, accessor: _TimeoutAccessor, path: str, inner: RawWriter) -> None:
        self._accessor = accessor
        self._path = path
        self._inner = inner

    async def write(self, data: Buffer) -> None:
        with self._accessor.deadline(True, "write", self._path):
            await self._inner.write(data)

    async def close(self) -> Metadata:
        with self._accessor.deadline(False, "write", self._path):
            return await self._inner.close()

    async def abort(self) -> None:
        with self._accessor.deadline(False, "write", self._path):
            await self._inner.abort()
