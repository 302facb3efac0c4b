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
* a listing, while fetching each page, not while the caller handles its
  entries, so a listing nested in a listing cannot deadlock.

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
from typing import TypeVar

import anyio
from anyio.lowlevel import RunVar

from ..errors import ConfigInvalid
from ..raw.accessor import Accessor, Buffer, RawReader, RawWriter
from ..raw.layer import Call, Item, Layer, LayeredAccessor, WrappingReader, WrappingWriter, each_page
from ..raw.ops import Operation, OpRead
from ..types import Metadata

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

    async def limited(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` holding a token."""
        slot = self.slot()
        await slot.acquire()
        try:
            return await fn()
        finally:
            slot.release()

    async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
        return await self.limited(fn)

    async def read(self, path: str, op: OpRead) -> RawReader:
        # a read stream keeps the token of its opening until it is over
        slot = self.slot()
        await slot.acquire()
        try:
            reader = await self.inner.read(path, op)
        except BaseException:
            slot.release()
            raise
        return _LimitedReader(reader, slot)

    def _wrap_writer(self, op: Operation, path: str, writer: RawWriter) -> RawWriter:
        return _LimitedWriter(self, writer)

    def _wrap_lister(
        self, op: Operation, path: str, pages: AsyncIterator[Sequence[Item]]
    ) -> AsyncIterator[Sequence[Item]]:
        return each_page(pages, self.limited)


class _LimitedReader(WrappingReader):
    """Holds its token from opening until exhausted, failed or closed."""

    def __init__(self, inner: RawReader, slot: _Slot) -> None:
        super().__init__(inner)
        self._slot = slot

    async def read(self) -> bytes:
        try:
            data = await self.inner.read()
        except BaseException:
            self._slot.release()
            raise
        if not data:
            self._slot.release()
        return data

    async def _read_rest(self) -> bytes:
        try:
            return await super()._read_rest()
        finally:
            self._slot.release()

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self._slot.release()


class _LimitedWriter(WrappingWriter):
    def __init__(self, accessor: _ConcurrentLimitAccessor, inner: RawWriter) -> None:
        super().__init__(inner)
        self._accessor = accessor

    async def write(self, data: Buffer) -> None:
        await self._accessor.limited(lambda: self.inner.write(data))

    async def close(self) -> Metadata:
        return await self._accessor.limited(self.inner.close)

    async def abort(self) -> None:
        await self._accessor.limited(self.inner.abort)
