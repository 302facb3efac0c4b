"""Cap the requests in flight across an operator.

:class:`ConcurrentLimitLayer` gives each layered accessor (each operator built
with it) one :class:`anyio.CapacityLimiter`; every request holds one of its
tokens while it runs::

    op = Operator("s3", bucket="b").layer(RetryLayer(), ConcurrentLimitLayer(64))
    # at most 64 requests to S3 at any time, however many tasks use `op`

What holds a token:

* every one-shot call (``stat``, ``write_once``, ``write_part``, ``delete``,
  ``copy`` ...), for its duration;
* a read stream, **from its opening until it is exhausted, fails or is
  closed** (it holds a connection all that time);
* a streamed writer, for each of its calls (opening, each ``write``,
  ``close``, ``abort``) but not in between: the caller decides the pace;
* a listing, while fetching each item (each page), not while the caller
  handles entries, so a listing nested in a listing cannot deadlock.

Warning:
    A task that keeps ``n`` read streams of this operator open and then makes
    another call needs ``limit > n``, or it waits for itself forever (a copy
    reading from and writing to the same operator with ``limit=1`` deadlocks).
    Close readers promptly, or give such operators a limit above the number
    of streams one task holds open.

The limiter is created lazily in the event loop that first uses it (one per
event loop: anyio limiters cannot be shared between loops).

Ordering caveat: outside :class:`~pystorage.layers.RetryLayer` a token is
held across every attempt and the sleeps between them; inside it (the usual
place) only while a request is actually in flight.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import TypeVar

import anyio
from anyio.lowlevel import RunVar

from ..errors import ConfigInvalid
from ..raw.accessor import Accessor, Buffer, RawReader, RawWriter
from ..raw.layer import Layer, LayeredAccessor
from ..raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ..raw.tasks import aclose_iterator
from ..types import Entry, Metadata, Part, PresignedRequest, UploadInfo

__all__ = ["ConcurrentLimitLayer"]

T = TypeVar("T")

#: per event loop: the limiter of each live accessor (weakly keyed, so that
#: operators dropped during a long-running loop free their limiter)
_LIMITERS: RunVar[weakref.WeakKeyDictionary[_ConcurrentLimitAccessor, anyio.CapacityLimiter]] = RunVar(
    "pystorage_concurrent_limiters"
)


@dataclasses.dataclass(frozen=True)
class ConcurrentLimitLayer(Layer):
    """Allow at most ``limit`` requests in flight through the wrapped accessor.

    Args:
        limit: the number of requests allowed in flight at once (an int >= 1;
            no default).

    Raises:
        errors.ConfigInvalid: ``limit`` is not an int >= 1.
    """

    limit: int

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or isinstance(self.limit, bool) or self.limit < 1:
            raise ConfigInvalid(f"ConcurrentLimitLayer: limit must be an int >= 1, got {self.limit!r}")

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in an accessor sharing one limiter among its calls."""
        return _ConcurrentLimitAccessor(inner, self.limit)


class _Slot:
    """One token of the limiter, held by this object (not by the task), so
    that a task may hold several and a stream may release in another task."""

    __slots__ = ("_held", "_limiter")

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        self._limiter = limiter
        self._held = False

    async def acquire(self) -> None:
        await self._limiter.acquire_on_behalf_of(self)
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._limiter.release_on_behalf_of(self)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class _ConcurrentLimitAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, limit: int) -> None:
        super().__init__(inner)
        self.limit = limit

    def slot(self) -> _Slot:
        """A fresh, not yet acquired token of this accessor's limiter."""
        try:
            limiters = _LIMITERS.get()
        except LookupError:
            limiters = weakref.WeakKeyDictionary()
            _LIMITERS.set(limiters)
        limiter = limiters.get(self)
        if limiter is None:
            limiter = limiters[self] = anyio.CapacityLimiter(self.limit)
        return _Slot(limiter)

    async def limited(self, func: Callable[[], Awaitable[T]]) -> T:
        """Await ``func()`` holding a token."""
        async with self.slot():
            return await func()

    # one-shot calls ----------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        return await self.limited(lambda: self.inner.stat(path, op))

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        await self.limited(lambda: self.inner.create_dir(path, op))

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        return await self.limited(lambda: self.inner.write_once(path, data, op))

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        return await self.limited(lambda: self.inner.initiate_multipart(path, op))

    async def write_part(
        self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite
    ) -> Part:
        return await self.limited(lambda: self.inner.write_part(path, upload_id, number, data, op))

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        return await self.limited(lambda: self.inner.complete_multipart(path, upload_id, parts, op))

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        await self.limited(lambda: self.inner.abort_multipart(path, upload_id))

    async def delete(self, path: str, op: OpDelete) -> None:
        await self.limited(lambda: self.inner.delete(path, op))

    async def delete_batch(self, paths: Sequence[str]) -> None:
        await self.limited(lambda: self.inner.delete_batch(paths))

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        await self.limited(lambda: self.inner.copy(src, dst, op))

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self.limited(lambda: self.inner.rename(src, dst, op))

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        return await self.limited(lambda: self.inner.presign(path, op))

    # streams -----------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        slot = self.slot()
        await slot.acquire()
        try:
            reader = await self.inner.read(path, op)
        except BaseException:
            slot.release()
            raise
        return _LimitedReader(reader, slot)

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        writer = await self.limited(lambda: self.inner.write(path, op))
        return _LimitedWriter(self, writer)

    def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        return self._steps(self.inner.list(path, op))

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        return self._steps(self.inner.list_parts(path, upload_id))

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        return self._steps(self.inner.list_multipart_uploads(prefix))

    async def _steps(self, it: AsyncIterator[T]) -> AsyncIterator[T]:
        # The token covers fetching each item only, never the ``yield``.
        try:
            while True:
                async with self.slot():
                    try:
                        item = await it.__anext__()
                    except StopAsyncIteration:
                        return
                yield item
        finally:
            await aclose_iterator(it)


class _LimitedReader(RawReader):
    """Holds its token from opening until exhausted, failed or closed."""

    def __init__(self, inner: RawReader, slot: _Slot) -> None:
        self._inner = inner
        self._slot = slot
        self.size = inner.size
        self.metadata = inner.metadata

    async def read(self) -> bytes:
        try:
            data = await self._inner.read()
        except BaseException:
            self._slot.release()
            raise
        if not data:
            self._slot.release()
        return data

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._slot.release()


class _LimitedWriter(RawWriter):
    def __init__(self, accessor: _ConcurrentLimitAccessor, inner: RawWriter) -> None:
        self._accessor = accessor
        self._inner = inner

    async def write(self, data: Buffer) -> None:
        async with self._accessor.slot():
            await self._inner.write(data)

    async def close(self) -> Metadata:
        async with self._accessor.slot():
            return await self._inner.close()

    async def abort(self) -> None:
        async with self._accessor.slot():
            await self._inner.abort()
