"""Deadlines on every call and on every chunk of a stream.

:class:`TimeoutLayer` puts each call under an anyio ``fail_after`` deadline::

    op = Operator("s3", bucket="b").layer(
        RetryLayer(),                               # outside: retries timed-out attempts
        TimeoutLayer(timeout=30.0, io_timeout=5.0),
    )

* ``timeout`` bounds every one-shot call (``stat``, ``delete``,
  ``initiate_multipart`` ...), the opening of a read or write stream, and a
  writer's ``abort``;
* a call that sends a body (``write_once``, ``write_part``) gets ``timeout``
  plus the time the body takes at ``min_throughput`` bytes per second
  (``timeout + nbytes / min_throughput``): a 64 MiB part is not held to the
  deadline of a ``stat``, while a stalled one still fails in bounded time;
* ``complete_timeout`` bounds the calls whose duration the server decides
  and the caller cannot size: ``complete_multipart`` (S3 may take minutes
  to assemble a large object, GCS composes in rounds), a writer's ``close``
  (the commit: the last chunk and the completion), and server-side ``copy``
  and ``rename`` (a copy's size is not known without a request: it is not
  looked up, the longer fixed deadline is used instead);
* ``io_timeout`` bounds each ``RawReader.read()`` and ``RawWriter.write()``
  chunk, a reader's ``aclose``, and each page of a listing (``list``; each
  item of ``list_parts``, ``list_multipart_uploads``): a stream may last as
  long as it keeps moving, but a stall is caught within ``io_timeout``;
* a reader's ``read_rest`` fast path (the whole rest of a range in one call,
  see :class:`~pystorage.raw.accessor.RawReader`) is one chunk of unbounded
  size, so it is bounded by ``timeout``.

An expired deadline raises :class:`~pystorage.errors.Unexpected` with
``temporary=True`` and a message naming the deadline (``"timed out after 10.0s
(io_timeout)"``; ``"timed out after 124.0s (timeout + 67108864 bytes /
min_throughput)"`` for a scaled one), chained from the ``TimeoutError``; cancelling the call
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

#: calls whose deadline is ``timeout`` plus their body's time at ``min_throughput``
_BODY_CALLS = frozenset({Operation.WRITE_ONCE, Operation.WRITE_PART})
#: calls the server may take long over whatever their request: ``complete_timeout``
_LONG_CALLS = frozenset({Operation.COMPLETE_MULTIPART, Operation.COPY, Operation.RENAME})


@dataclasses.dataclass(frozen=True)
class TimeoutLayer(Layer):
    """Fail calls and stream chunks that take too long, as temporary errors.

    Args:
        timeout: seconds allowed for each one-shot call and stream opening
            (default 60.0); the base of the deadline of ``write_once`` and
            ``write_part``.
        io_timeout: seconds allowed for each stream chunk and listing step
            (default 10.0).
        complete_timeout: seconds allowed for ``complete_multipart``, a
            writer's ``close`` (its commit), ``copy`` and ``rename``
            (default 300.0): the server's work there grows with the object's
            size, which a copy or a commit does not tell the layer, so one
            fixed, longer deadline bounds them.
        min_throughput: the slowest upload rate, in bytes per second, that
            is not a stall (default 1 MiB/s): ``write_once`` and
            ``write_part`` of ``nbytes`` get ``timeout + nbytes /
            min_throughput`` seconds. ``None`` disables the scaling (every
            body gets ``timeout``, as a ``stat`` does).

    Raises:
        errors.ConfigInvalid: a value is not a positive number (the message names it).
    """

    timeout: float = 60.0
    io_timeout: float = 10.0
    complete_timeout: float = 300.0
    min_throughput: float | None = float(1 << 20)

    def __post_init__(self) -> None:
        for name in ("timeout", "io_timeout", "complete_timeout", "min_throughput"):
            value = getattr(self, name)
            if name == "min_throughput" and value is None:
                continue
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
        self.complete_timeout = float(config.complete_timeout)
        self.min_throughput = None if config.min_throughput is None else float(config.min_throughput)

    def budget(self, op: Operation, nbytes: int | None) -> tuple[float, str]:
        """The deadline of one call ``op`` sending ``nbytes``, and its name."""
        if op in _LONG_CALLS:
            return self.complete_timeout, "complete_timeout"
        if op in _BODY_CALLS and nbytes and self.min_throughput is not None:
            seconds = round(self.timeout + nbytes / self.min_throughput, 3)
            return seconds, f"timeout + {nbytes} bytes / min_throughput"
        return self.timeout, "timeout"

    @contextlib.contextmanager
    def deadline(self, seconds: float, which: str, op: Operation, path: str) -> Iterator[None]:
        """Run the block under a deadline of ``seconds``, named ``which`` in the error."""
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

    def io_deadline(self, op: Operation, path: str) -> contextlib.AbstractContextManager[None]:
        return self.deadline(self.io_timeout, "io_timeout", op, path)

    def call_deadline(self, op: Operation, path: str) -> contextlib.AbstractContextManager[None]:
        return self.deadline(self.timeout, "timeout", op, path)

    async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
        seconds, which = self.budget(op, fn.nbytes)
        with self.deadline(seconds, which, op, path):
            return await fn()

    def _wrap_reader(self, op: Operation, path: str, reader: RawReader) -> RawReader:
        return _TimeoutReader(self, path, reader)

    def _wrap_writer(self, op: Operation, path: str, writer: RawWriter) -> RawWriter:
        return _TimeoutWriter(self, path, writer)

    def _wrap_lister(
        self, op: Operation, path: str, pages: AsyncIterator[Sequence[Item]]
    ) -> AsyncIterator[Sequence[Item]]:
        async def step(fetch: Callable[[], Awaitable[T]]) -> T:
            with self.io_deadline(op, path):
                return await fetch()

        return each_page(pages, step)


class _TimeoutReader(WrappingReader):
    def __init__(self, accessor: _TimeoutAccessor, path: str, inner: RawReader) -> None:
        super().__init__(inner)
        self._accessor = accessor
        self._path = path

    async def read(self) -> bytes:
        with self._accessor.io_deadline(Operation.READ, self._path):
            return await self.inner.read()

    async def _read_rest(self) -> bytes:
        with self._accessor.call_deadline(Operation.READ, self._path):
            return await super()._read_rest()

    async def aclose(self) -> None:
        with self._accessor.io_deadline(Operation.READ, self._path):
            await self.inner.aclose()


class _TimeoutWriter(WrappingWriter):
    def __init__(self, accessor: _TimeoutAccessor, path: str, inner: RawWriter) -> None:
        super().__init__(inner)
        self._accessor = accessor
        self._path = path

    async def write(self, data: Buffer) -> None:
        with self._accessor.io_deadline(Operation.WRITE, self._path):
            await self.inner.write(data)

    async def close(self) -> Metadata:
        accessor = self._accessor
        with accessor.deadline(accessor.complete_timeout, "complete_timeout", Operation.WRITE, self._path):
            return await self.inner.close()

    async def abort(self) -> None:
        with self._accessor.call_deadline(Operation.WRITE, self._path):
            await self.inner.abort()
