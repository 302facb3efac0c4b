"""The base of layers that report each operation once: logs, spans, metrics.

:class:`ObservingAccessor` turns the :mod:`~pystorage.raw.layer` hooks into
two: :meth:`ObservingAccessor._begin` when an operation starts and
:meth:`ObservingAccessor._end` when it is over, with one
:class:`Observation` carrying what is known. A one-shot call is over when it
returns or raises; a read or write stream when it ends, fails, is closed or
aborted (its observation starts with the opening request, so its duration
includes it); a listing when it ends, fails or is closed. A stream abandoned
without being closed is never reported.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from ..errors import Error
from ..types import Metadata
from .accessor import Buffer, RawReader, RawWriter
from .layer import Call, Item, LayeredAccessor, WrappingReader, WrappingWriter
from .ops import Operation
from .tasks import aclose_iterator

__all__ = ["Observation", "ObservingAccessor", "outcome_of"]

T = TypeVar("T")

#: the observation of the stream opening in this context, with its layer
_OPENING: contextvars.ContextVar[tuple[ObservingAccessor, Observation] | None] = contextvars.ContextVar(
    "pystorage_observed_opening", default=None
)


@dataclasses.dataclass(slots=True)
class Observation:
    """One operation being observed.

    Attributes:
        op: the operation.
        path: its path (the source of ``copy``/``rename``; ``""`` for ``delete_batch``).
        target: the destination of ``copy``/``rename``.
        started: ``time.perf_counter()`` when it started.
        nbytes: bytes sent (one-shot writes), delivered (reads) or written
            (write streams), when known.
        entries: entries listed, or paths deleted by ``delete_batch``.
        handle: free for the layer (a span).
    """

    op: Operation
    path: str
    target: str | None = None
    started: float = dataclasses.field(default_factory=time.perf_counter)
    nbytes: int | None = None
    entries: int | None = None
    handle: Any = None

    @property
    def duration(self) -> float:
        """Seconds since the operation started."""
        return time.perf_counter() - self.started


def outcome_of(exc: BaseException | None) -> str:
    """How an operation ended: ``"ok"``, an :class:`~pystorage.errors.ErrorKind`
    value (``"NotFound"`` ...), ``"closed"`` (a listing closed early),
    ``"cancelled"``, or the class name of a foreign exception."""
    if exc is None:
        return "ok"
    if isinstance(exc, Error):
        return exc.kind.value
    if isinstance(exc, Exception):
        return type(exc).__name__
    if isinstance(exc, GeneratorExit):
        return "closed"
    return "cancelled"


class ObservingAccessor(LayeredAccessor):
    """A layer told when each operation begins and ends (see the module docs)."""

    def _observing(self) -> bool:
        """Whether to observe at all now (default ``True``); when ``False``
        the layer wraps nothing and costs one call of this per operation."""
        return True

    def _begin(self, obs: Observation) -> None:
        """An operation starts (default: nothing)."""

    def _scope(self, obs: Observation) -> contextlib.AbstractContextManager[object] | None:
        """A context the call runs in (default ``None``: none; a tracer makes its span current)."""
        return None

    def _end(self, obs: Observation, exc: BaseException | None, outcome: str) -> None:
        """An operation is over: ``exc`` is ``None`` on success; ``outcome``
        is :func:`outcome_of` ``exc``, or ``"closed"`` / ``"aborted"`` for a
        stream closed before its end or an aborted writer (default: nothing)."""

    async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
        if not self._observing():
            return await fn()
        streams = op.streams
        obs = Observation(op, path, fn.target, nbytes=0 if streams else fn.nbytes, entries=fn.count)
        self._begin(obs)
        token = _OPENING.set((self, obs)) if streams else None
        scope = self._scope(obs)
        try:
            if scope is None:
                result = await fn()
            else:
                with scope:
                    result = await fn()
        except BaseException as exc:
            self._end(obs, exc, outcome_of(exc))
            raise
        finally:
            if token is not None:
                _OPENING.reset(token)
        if not streams:
            self._end(obs, None, "ok")
        return result

    def _opening(self, op: Operation, path: str) -> Observation:
        """The observation ``_call`` started for the stream being wrapped."""
        current = _OPENING.get()
        if current is not None and current[0] is self:
            return current[1]
        obs = Observation(op, path, nbytes=0)  # a subclass opened it without ``_call``
        self._begin(obs)
        return obs

    def _wrap_reader(self, op: Operation, path: str, reader: RawReader) -> RawReader:
        if not self._observing():
            return reader
        return _ObservedReader(self, self._opening(op, path), reader)

    def _wrap_writer(self, op: Operation, path: str, writer: RawWriter) -> RawWriter:
        if not self._observing():
            return writer
        return _ObservedWriter(self, self._opening(op, path), writer)

    def _wrap_lister(
        self, op: Operation, path: str, pages: AsyncIterator[Sequence[Item]]
    ) -> AsyncIterator[Sequence[Item]]:
        if not self._observing():
            return pages
        obs = Observation(op, path, entries=0)
        self._begin(obs)
        return self._counted(obs, pages)

    async def _counted(
        self, obs: Observation, pages: AsyncIterator[Sequence[Item]]
    ) -> AsyncIterator[Sequence[Item]]:
        failure: BaseException | None = None
        try:
            async for page in pages:
                obs.entries = (obs.entries or 0) + len(page)
                yield page
        except BaseException as exc:
            failure = exc
            raise
        finally:
            try:
                await aclose_iterator(pages)
            finally:
                self._end(obs, failure, outcome_of(failure))


class _Ending:
    """Reports an observation's end once."""

    def __init__(self, accessor: ObservingAccessor, obs: Observation) -> None:
        self._accessor = accessor
        self.obs = obs
        self._ended = False

    def end(self, exc: BaseException | None, outcome: str | None = None) -> None:
        if not self._ended:
            self._ended = True
            self._accessor._end(self.obs, exc, outcome or outcome_of(exc))

    def add(self, nbytes: int) -> None:
        self.obs.nbytes = (self.obs.nbytes or 0) + nbytes

    @contextlib.contextmanager
    def failing(self) -> Iterator[None]:
        """Report the end if the block fails."""
        try:
            yield
        except BaseException as exc:
            self.end(exc)
            raise

    async def stop(self, stop: Callable[[], Awaitable[None]], outcome: str) -> None:
        """Run ``stop`` (a stream's ``aclose`` or ``abort``), then report the end
        as ``outcome``, whether it raised or not."""
        try:
            await stop()
        finally:
            self.end(None, outcome)


class _ObservedReader(WrappingReader):
    def __init__(self, accessor: ObservingAccessor, obs: Observation, inner: RawReader) -> None:
        super().__init__(inner)
        self._ending = _Ending(accessor, obs)

    async def read(self) -> bytes:
        with self._ending.failing():
            data = await self.inner.read()
        if data:
            self._ending.add(len(data))
        else:
            self._ending.end(None)
        return data

    async def _read_rest(self) -> bytes:
        with self._ending.failing():
            data = await super()._read_rest()
        self._ending.add(len(data))
        self._ending.end(None)
        return data

    async def aclose(self) -> None:
        await self._ending.stop(self.inner.aclose, "closed")


class _ObservedWriter(WrappingWriter):
    def __init__(self, accessor: ObservingAccessor, obs: Observation, inner: RawWriter) -> None:
        super().__init__(inner)
        self._ending = _Ending(accessor, obs)

    async def write(self, data: Buffer) -> None:
        with self._ending.failing():
            await self.inner.write(data)
        self._ending.add(len(data))

    async def close(self) -> Metadata:
        with self._ending.failing():
            meta = await self.inner.close()
        self._ending.end(None)
        return meta

    async def abort(self) -> None:
        await self._ending.stop(self.inner.abort, "aborted")
