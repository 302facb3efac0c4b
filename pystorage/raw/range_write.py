"""The range-write engine: uploads that are one session written in order at growing offsets.

Some services take a large object as a *session* whose bytes are sent in
order, each request naming its offset, the last one finalising the object:
GCS resumable uploads today, Azure append blobs and similar services later
(OpenDAL's ``range_write.rs``). :class:`RangeWriter` is written once for all
of them; the driver supplies only the primitives of :class:`RangeUpload`
(start the session, write a chunk at an offset, ask where the session is,
finish, cancel, and a one-request upload for a small object).

The engine:

* owns the write's only buffer: at most one chunk (``chunk`` bytes, a
  multiple of the service's ``granularity``) besides the caller's buffer; a
  write that fills a chunk from an empty buffer is sent straight from the
  caller's bytes, without a copy;
* sends a chunk only once more bytes follow it, so it always knows which chunk
  is the last one, and finalises the session with it; an object closed before
  its first chunk fills is sent in one request (:meth:`RangeUpload.write_once`);
* sends the chunks one at a time (the services it serves so far take a
  session's ranges in order only);
* resumes after a temporary failure (a dropped connection, a lost answer, a
  5xx): it asks the session how many bytes it holds and resends from there,
  up to :data:`RESENDS` times per chunk;
* cancels the session on :meth:`~RangeWriter.abort` (which the public writer
  calls on any error or cancellation), shielded and bounded by
  :data:`~pystorage.raw.multipart.ABORT_TIMEOUT`; a failed cancel is logged
  at WARNING with the path, never raised.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
from typing import Generic, TypeVar

import anyio

from ..errors import Error, Unexpected
from ..types import Metadata
from . import multipart as _engine
from .accessor import Buffer, RawWriter
from .buffered import as_view

__all__ = ["RESENDS", "RangeAnswer", "RangeUpload", "RangeWriter", "align_chunk"]

_log = logging.getLogger("pystorage")

#: times one chunk is resent from the session's persisted offset after a temporary failure
RESENDS = 3

#: what the service answers once the session is complete (e.g. the object resource)
T = TypeVar("T")


def align_chunk(requested: int | None, granularity: int, default: int) -> int:
    """The chunk size for a requested one: ``default`` when ``None``, else rounded
    down to a multiple of ``granularity`` (at least one ``granularity``)."""
    if requested is None:
        return default
    return max(granularity, requested - requested % granularity)


@dataclasses.dataclass(frozen=True)
class RangeAnswer(Generic[T]):
    """A session's answer to a chunk or a status query.

    Attributes:
        persisted: bytes the session holds, from offset 0.
        done: the service's answer once the session is complete (else ``None``).
    """

    persisted: int
    done: T | None = None


class RangeUpload(abc.ABC, Generic[T]):
    """The primitives of one session upload, supplied by a driver.

    Every primitive raises :class:`~pystorage.errors.Error` (mapped by the
    driver); a temporary one while a chunk is sent makes the engine query
    the session and resend.
    """

    #: every chunk but the last is a multiple of this many bytes
    granularity: int = 1

    def seal(self, chunk: memoryview, *, last: bool) -> None:
        """Called once per chunk of the session, in order, before it is first sent
        (e.g. to hash it); not for :meth:`write_once`."""

    @abc.abstractmethod
    async def write_once(self, data: memoryview) -> Metadata:
        """Upload the whole object (smaller than one chunk) in one request."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Open the session (called before the first chunk)."""

    @abc.abstractmethod
    async def write_range(self, offset: int, data: memoryview, *, total: int | None) -> RangeAnswer[T]:
        """Send ``data`` at ``offset``; ``total`` (the object's size) finalises the session."""

    @abc.abstractmethod
    async def query(self, offset: int) -> RangeAnswer[T]:
        """Ask the session how many bytes it holds (``offset``: the current chunk's start)."""

    @abc.abstractmethod
    async def finish(self, done: T) -> Metadata:
        """The object's metadata from the session's final answer (check it here)."""

    @abc.abstractmethod
    async def cancel(self) -> None:
        """Cancel the open session."""


class RangeWriter(RawWriter, Generic[T]):
    """A streamed write driven through a :class:`RangeUpload`.

    Args:
        upload: the driver's primitives.
        chunk: bytes per chunk (a multiple of ``upload.granularity``).
        path: the path (for errors and logs).
        service: the service's scheme (for errors).

    Memory held: at most ``chunk`` bytes besides the caller's buffer.
    """

    buffers = True  # the write's one buffer: the core adds none

    def __init__(self, upload: RangeUpload[T], *, chunk: int, path: str, service: str) -> None:
        if chunk <= 0 or chunk % upload.granularity:
            raise ValueError(f"chunk must be a positive multiple of {upload.granularity} bytes")
        self._upload = upload
        self._chunk = chunk
        self._path = path
        self._service = service
        self._buf = bytearray()
        self._offset = 0
        self._started = False
        self._finished = False

    def __repr__(self) -> str:
        state = "finished" if self._finished else ("session" if self._started else "buffering")
        return f"<RangeWriter path={self._path!r} offset={self._offset} {state}>"

    @property
    def offset(self) -> int:
        """Bytes the session holds so far."""
        return self._offset

    async def write(self, data: Buffer) -> None:
        """Buffer ``data``; send every full chunk that more bytes follow."""
        if self._finished:
            raise ValueError("write to a finished writer")
        view = as_view(data)
        size = self._chunk
        while len(self._buf) + len(view) > size:
            if self._buf:
                take = size - len(self._buf)
                self._buf += view[:take]
                view = view[take:]
                full, self._buf = self._buf, bytearray()
                await self._send(memoryview(full), total=None)
            else:
                await self._send(view[:size], total=None)
                view = view[size:]
        if len(view):
            self._buf += view

    async def close(self) -> Metadata:
        """Send what is left as the last chunk (or the whole object in one request)
        and return the object's metadata."""
        if self._finished:
            raise ValueError("the writer is already finished")
        rest, self._buf = memoryview(self._buf), bytearray()
        if not self._started:
            meta = await self._upload.write_once(rest)
            self._finished = True
            return meta
        done = await self._send(rest, total=self._offset + len(rest))
        if done is None:
            raise self._unexpected("the service did not complete the upload after its last chunk")
        self._finished = True  # the session is complete: nothing is left to cancel
        return await self._upload.finish(done)

    async def abort(self) -> None:
        """Cancel the session, if one was started (best effort, shielded, bounded
        by :data:`~pystorage.raw.multipart.ABORT_TIMEOUT`; a failure is logged at
        WARNING with the path, never raised)."""
        self._buf = bytearray()
        started, self._started = self._started, False
        if self._finished:
            return
        self._finished = True
        if not started:
            return
        seconds = _engine.ABORT_TIMEOUT
        failure: str | None = None
        with anyio.CancelScope(shield=True):
            try:
                with anyio.move_on_after(seconds) as deadline:
                    await self._upload.cancel()
                if deadline.cancelled_caught:
                    failure = f"timed out after {seconds}s"
            except Exception as exc:
                failure = str(exc)
        if failure is not None:
            _log.warning("could not cancel the upload session of %r: %s", self._path, failure)

    def _unexpected(self, message: str) -> Unexpected:
        return Unexpected(message, operation="write", path=self._path, service=self._service, temporary=True)

    async def _send(self, data: memoryview, *, total: int | None) -> T | None:
        """Send ``data`` at the current offset; resend what the session did not
        persist. Returns the final answer once the session is complete."""
        if not self._started:
            await self._upload.start()
            self._started = True
        self._upload.seal(data, last=total is not None)
        sent = 0
        resends = 0
        while True:
            try:
                answer = await self._upload.write_range(self._offset + sent, data[sent:], total=total)
            except Error as exc:
                if not exc.temporary or resends >= RESENDS:
                    raise
                resends += 1
                answer = await self._query(exc)
                if answer.done is None and answer.persisted - self._offset < len(data):
                    sent = max(answer.persisted - self._offset, 0)  # resend from what the session holds
                    continue
            if answer.done is not None:
                self._offset += len(data)
                return answer.done
            advanced = answer.persisted - self._offset
            if advanced >= len(data):
                self._offset += len(data)
                return None
            if advanced <= sent:
                raise self._unexpected(
                    f"the session persisted no more bytes of the chunk (at {answer.persisted} bytes)"
                )
            sent = max(advanced, 0)

    async def _query(self, failure: Error) -> RangeAnswer[T]:
        """Where the session is after ``failure``; re-raise ``failure`` if it cannot tell."""
        try:
            return await self._upload.query(self._offset)
        except Exception as exc:
            raise failure from exc
