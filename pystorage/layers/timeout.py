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
  chunk, a reader's ``aclose``, and each page of a listing (``list``; each
  item of ``list_parts``, ``list_multipart_uploads``): a stream may last as
  long as it keeps moving, but a stall is caught within ``io_timeout``;
* a reader's ``read_rest`` fast path (the whole rest of a range in one call,
  see :class:`~pystorage.raw.accessor.RawReader`) is one chunk of unbounded
  size, so it is bounded by ``timeout``.

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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

import anyio

from ..errors import ConfigInvalid, Unexpected
from ..raw.accessor import Accessor, Buffer, RawReader, RawWriter
from ..raw.layer import Call, Item, Layer, LayeredAccessor, WrappingReader, WrappingWriter, each_page
from ..raw.ops import Operation
from ..types import Metadata

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
    def deadline(self, io: bool, op: Operation, path: str) -> Iterator[None]:
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
                operation=str(op), path=path, service=self.inner.info().scheme, temporary=True,
            ) from exc

    async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
        with self.deadline(False, op, path):
            return await fn()

    def _wrap_reader(self, op: Operation, path: str, reader: RawReader) -> RawReader:
        return _TimeoutReader(self, path, reader)

    def _wrap_writer(self, op: Operation, path: str, writer: RawWriter) -> RawWriter:
        return _TimeoutWriter(self, path, writer)

    def _wrap_lister(
        self, op: Operation, path: str, pages: AsyncIterator[Sequence[Item]]
    ) -> AsyncIterator[Sequence[Item]]:
        async def step(fetch: Callable[[], Awaitable[T]]) -> T:
            with self.deadline(True, op, path):
                return await fetch()

        return each_page(pages, step)


class _TimeoutReader(WrappingReader):
    def __init__(self, accessor: _TimeoutAccessor, path: str, inner: RawReader) -> None:
        super().__init__(inner)
        self._accessor = accessor
        self._path = path

    async def read(self) -> bytes:
        with self._accessor.deadline(True, Operation.READ, self._path):
            return await self.inner.read()

    async def _read_rest(self) -> bytes:
        with self._accessor.deadline(False, Operation.READ, self._path):
            return await super()._read_rest()

    async def aclose(self) -> None:
        with self._accessor.deadline(True, Operation.READ, self._path):
            await self.inner.aclose()


class _TimeoutWriter(WrappingWriter):
    def __init__(self, accessor: _TimeoutAccessor, path: str, inner: RawWriter) -> None:
        super().__init__(inner)
        self._accessor = accessor
        self._path = path

    async def write(self, data: Buffer) -> None:
        with self._accessor.deadline(True, Operation.WRITE, self._path):
            await self.inner.write(data)

    async def close(self) -> Metadata:
        with self._accessor.deadline(False, Operation.WRITE, self._path):
            return await self.inner.close()

    async def abort(self) -> None:
        with self._accessor.deadline(False, Operation.WRITE, self._path):
            await self.inner.abort()
