"""The ranged read engine, written once for every driver.

:class:`RangeReader` reads bytes ``[start, end)`` of an object through
``Accessor.read`` and serves them piece by piece at a movable position:

* **stream mode** (``chunk=None``): one request streams from the position to
  the end; a short forward seek skips within the stream, any other seek
  reopens at the new position lazily.
* **chunked mode**: the range is split into ``chunk``-sized requests, fetched
  ``concurrent`` at a time, ``prefetch`` more chunks ahead, and delivered in
  order. A seek inside the buffered window costs no request.

Memory held is at most ``chunk × (concurrent + prefetch)`` plus one piece.
A failed request raises, leaves the position where it was and keeps every
chunk already fetched, so the next call resumes from the byte reached.
Drivers only supply "read this byte range".
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Awaitable, Callable

from ..errors import ConditionNotMatch, IsADirectory, NotFound, RangeNotSatisfied, Unexpected, Unsupported
from ..types import Metadata
from .accessor import Accessor, RawReader
from .ops import OpRead
from .read import Pin, clamp, open_range, pin_to_version, stat_op
from .tasks import call_maybe_async, run_concurrently

__all__ = ["Pin", "RangeReader", "open_reader", "pin_to_version", "read_all"]

#: a forward seek of at most this many bytes skips inside the open stream
STREAM_SKIP_LIMIT = 1024 * 1024


async def read_all(
    raw: RawReader,
    on_piece: Callable[[int], object] | None = None,
    *,
    progress: Callable[[int, int | None], object] | None = None,
) -> bytes:
    """Drain a raw stream into ``bytes`` and close it.

    ``progress(done, total)`` (``total``: ``raw.size``) is called as the bytes
    arrive, and once with ``done=0`` for an empty stream.

    Peak memory stays at the body size plus one piece:

    * a reader with a ``read_rest`` fast path (see :class:`~pystorage.raw.accessor.RawReader`)
      hands over the whole rest of its range as one ``bytes`` (the fs
      driver: one ``pread`` into one buffer, in one worker-thread call);
    * a one-piece body is returned as is;
    * longer bodies are gathered in an ``io.BytesIO``, pre-sized to exactly
      ``raw.size`` when the reader knows it, so that ``getvalue()`` hands over
      its buffer without a copy (without a known size the buffer grows, up to
      1/8 above the body size).

    ``on_piece(n)`` (sync, or async and then awaited) is called with each
    piece's length as it arrives.
    """
    if progress is not None:
        done, total = 0, raw.size

        async def arrived(n: int) -> None:
            nonlocal done
            done += n
            await call_maybe_async(progress, done, total)

        data = await read_all(raw, arrived)
        if not done:
            await call_maybe_async(progress, 0, total)
        return data
    try:
        read_rest = _read_rest_of(raw)
        if read_rest is not None:
            data = await read_rest()
            if data and on_piece is not None:
                await call_maybe_async(on_piece, len(data))
            return data
        first = await raw.read()
        if not first:
            return b""
        if on_piece is not None:
            await call_maybe_async(on_piece, len(first))
        piece = await raw.read()
        if not piece:
            return first
        out = io.BytesIO()
        size = raw.size
        if size is not None and size > len(first) + len(piece):
            # writing the last byte first allocates exactly `size` bytes, once
            out.seek(size - 1)
            out.write(b"\0")
            out.seek(0)
        out.write(first)
        del first
        while piece:
            if on_piece is not None:
                await call_maybe_async(on_piece, len(piece))
            out.write(piece)
            piece = await raw.read()
        out.truncate()  # a body shorter than announced keeps no zero padding
        return out.getvalue()
    finally:
        await raw.aclose()


def _read_rest_of(raw: RawReader) -> Callable[[], Awaitable[bytes]] | None:
    """The reader's optional ``read_rest`` fast path (see :class:`RawReader`)."""
    return raw.read_rest


async def open_reader(
    accessor: Accessor,
    path: str,
    op: OpRead,
    *,
    ranged: bool = False,
    chunk: int | None = None,
    concurrent: int = 1,
    prefetch: int = 0,
) -> RangeReader:
    """The engine of a read of several requests (``open("rb")``, a chunked ``read``).

    A streamed reader of the whole object sends no ``stat``: its first
    request (sent now) streams from byte 0, and its answer tells the size,
    etag and version the later requests are pinned to.
    A chunked reader, or one of the range ``[op.offset, op.offset + op.size)``
    (``ranged``), needs the size first: one ``stat``, which also gives the pin.

    Raises:
        IsADirectory: the ``stat`` found a directory.
        RangeNotSatisfied: a ``ranged`` read starts past the end.
        Unsupported: a chunked read of an object whose size is not known.
    """
    if chunk is None and not ranged:
        engine = RangeReader(accessor, path, op, concurrent=concurrent, prefetch=prefetch)
        await engine.prime()
        return engine
    info = accessor.info()
    meta = await accessor.stat(path, stat_op(op))
    if meta.is_dir:
        raise IsADirectory("the path is a directory", operation="read", path=path, service=info.scheme)
    start, end = 0, meta.content_length
    if ranged and end is not None:
        start, end = op.offset, clamp(path, op.offset, op.size, end, info.scheme)
    if chunk is not None and end is None:
        raise Unsupported("chunked reads need the object's size", operation="read", path=path)
    return RangeReader(
        accessor,
        path,
        pin_to_version(op, meta, info.capability),
        start=start,
        end=end,
        chunk=chunk,
        concurrent=concurrent,
        prefetch=prefetch,
        metadata=meta,
    )


class RangeReader:
    """Serves bytes of ``[start, end)`` of ``path`` at a movable position.

    Args:
        accessor: where to read from.
        path: normalised path.
        op: the read options (conditions, version), or a :class:`Pin` of
            them; its offset/size are ignored.
        start: first byte of the range.
        end: end of the range (exclusive), or ``None`` if unknown (stream mode only).
        chunk: bytes per ranged request; ``None`` for stream mode.
        concurrent: chunk requests in flight (chunked mode).
        prefetch: extra chunks fetched ahead of the one being read.
        metadata: the object's metadata when a ``stat`` already read it.

    Given a plain :class:`~pystorage.raw.ops.OpRead`, the reader pins itself
    (:func:`~pystorage.raw.read.pin_to_version`) to the version its first
    answer carries; with ``end=None`` the first answer also tells where the
    object ends. A :class:`Pin` whose version disappears (``NotFound``), or whose
    expected etag an answer does not carry, fails the read with
    ``ConditionNotMatch``: the object was replaced or deleted meanwhile.
    """

    def __init__(
        self,
        accessor: Accessor,
        path: str,
        op: OpRead | Pin,
        *,
        start: int = 0,
        end: int | None = None,
        chunk: int | None = None,
        concurrent: int = 1,
        prefetch: int = 0,
        metadata: Metadata | None = None,
    ) -> None:
        if chunk is not None and end is None:
            raise ValueError("chunked mode needs the end of the range")
        self._accessor = accessor
        self._path = path
        self._pin = op if isinstance(op, Pin) else Pin(op)
        self._pinned = isinstance(op, Pin)
        self._op = self._pin.op
        self.metadata = metadata
        self.start = start
        self.end = end
        self._pos = start
        self._chunk = chunk
        self._concurrent = max(1, concurrent)
        self._prefetch = max(0, prefetch)
        # stream mode
        self._stream: RawReader | None = None
        self._stream_pos = start
        self._buf = b""
        self._buf_start = start
        # chunked mode
        self._window: dict[int, bytes] = {}

    @property
    def position(self) -> int:
        """The absolute offset of the next byte served."""
        return self._pos

    async def find_end(self) -> int | None:
        """The end of the range, with one ``stat`` if no answer told it yet."""
        if self.end is None:
            meta = await self._accessor.stat(self._path, stat_op(self._op))
            self._learn(meta)
        return self.end

    def _learn(self, meta: Metadata) -> None:
        """Take the object's size and version from its first answer (or ``stat``)."""
        if self.metadata is None:
            self.metadata = meta
        if not self._pinned:
            self._pin = pin_to_version(self._op, meta, self._accessor.info().capability)
            self._op = self._pin.op
            self._pinned = True
        if self.end is None and meta.content_length is not None:
            self.end = meta.content_length

    def seek(self, pos: int) -> None:
        """Move to absolute offset ``pos`` (no I/O)."""
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos

    async def aclose(self) -> None:
        """Close the open stream and drop buffers."""
        stream, self._stream = self._stream, None
        self._buf = b""
        self._window.clear()
        if stream is not None:
            await stream.aclose()

    async def read_piece(self, limit: int = -1) -> bytes:
        """The next bytes at the position (at most ``limit`` if ``limit >= 0``);
        ``b""`` at the end of the range."""
        if limit == 0 or (self.end is not None and self._pos >= self.end):
            return b""
        if self._chunk is None:
            piece = await self._stream_piece(limit)
        else:
            piece = await self._chunk_piece(self._chunk, limit)
        self._pos += len(piece)
        return piece

    async def _request(self, offset: int, size: int | None) -> RawReader:
        pin = self._pin
        op = dataclasses.replace(self._op, offset=offset, size=size)
        try:
            if self.end is None:  # the range rules apply: the end is not known yet
                raw = await open_range(self._accessor, self._path, op)
            else:
                raw = await self._accessor.read(self._path, op)
        except NotFound as exc:
            if not pin.by_version:
                raise
            raise self._changed(exc.service) from exc
        if raw.metadata is not None and not self._pinned:
            self._learn(raw.metadata)
            return raw
        if pin.expect_etag is not None and raw.metadata is not None:
            etag = raw.metadata.etag
            if etag is not None and etag != pin.expect_etag:
                await raw.aclose()
                raise self._changed(self._accessor.info().scheme)
        return raw

    def _changed(self, service: str) -> ConditionNotMatch:
        return ConditionNotMatch(
            "the object was replaced or deleted during the read",
            operation="read",
            path=self._path,
            service=service,
        )

    # stream mode ---------------------------------------------------------
    def _from_buffer(self, limit: int) -> bytes | None:
        offset = self._pos - self._buf_start
        if not 0 <= offset < len(self._buf):
            return None
        if offset == 0 and (limit < 0 or limit >= len(self._buf)):
            return self._buf
        stop = len(self._buf) if limit < 0 else min(len(self._buf), offset + limit)
        return self._buf[offset:stop]

    async def prime(self) -> None:
        """Stream mode: send the first request now rather than at the first
        read, so that :attr:`metadata` (the object's size, etag and version,
        from the answer) is known once the reader is open."""
        if self._chunk is None and self._stream is None and self.metadata is None:
            await self._open_stream()

    async def _open_stream(self) -> RawReader | None:
        """(Re)open the stream at the position; ``None`` past the end."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.aclose()
        size = None if self.end is None else self.end - self._pos
        try:
            stream = await self._request(self._pos, size)
        except RangeNotSatisfied:
            if self.end is not None:
                raise
            return None
        self._stream = stream
        self._stream_pos = self._pos
        self._buf, self._buf_start = b"", self._pos
        return stream

    async def _stream_piece(self, limit: int) -> bytes:
        piece = self._from_buffer(limit)
        if piece is not None:
            return piece
        stream = self._stream
        if stream is None or not self._stream_pos <= self._pos <= self._stream_pos + STREAM_SKIP_LIMIT:
            stream = await self._open_stream()
            if stream is None:
                return b""  # a position past the end reads nothing, as in a file
        while True:
            try:
                data = await stream.read()
            except BaseException:
                self._stream = None
                await stream.aclose()
                raise
            if not data:
                self._stream = None
                await stream.aclose()
                if self.end is not None and self._stream_pos < self.end:
                    raise Unexpected(
                        f"the stream ended at byte {self._stream_pos}, expected {self.end}",
                        operation="read",
                        path=self._path,
                        temporary=True,
                    )
                self.end = self._stream_pos
                return b""
            self._buf, self._buf_start = data, self._stream_pos
            self._stream_pos += len(data)
            piece = self._from_buffer(limit)
            if piece is not None:
                return piece

    # chunked mode --------------------------------------------------------
    async def _chunk_piece(self, chunk: int, limit: int) -> bytes:
        assert self.end is not None
        index = (self._pos - self.start) // chunk
        if index not in self._window:
            await self._fetch_from(index, chunk)
        data = self._window[index]
        offset = self._pos - (self.start + index * chunk)
        for old in [k for k in self._window if k < index]:
            del self._window[old]
        if offset == 0 and (limit < 0 or limit >= len(data)):
            return data
        stop = len(data) if limit < 0 else min(len(data), offset + limit)
        return data[offset:stop]

    async def _fetch_from(self, index: int, chunk: int) -> None:
        assert self.end is not None
        last = (self.end - self.start - 1) // chunk
        capacity = self._concurrent + self._prefetch
        wanted = [k for k in range(index, min(index + capacity, last + 1)) if k not in self._window]
        keep = {k for k in self._window if index <= k < index + capacity}
        self._window = {k: v for k, v in self._window.items() if k in keep}

        failures: dict[int, Exception] = {}

        def fetcher(k: int) -> Callable[[], Awaitable[None]]:
            async def fetch() -> None:
                lo = self.start + k * chunk
                hi = min(self.end or 0, lo + chunk)
                try:
                    raw = await self._request(lo, hi - lo)
                    data = await read_all(raw)
                except Exception as exc:
                    # a chunk read ahead may fail without failing this read:
                    # it is fetched again when it is needed
                    failures[k] = exc
                    return
                if len(data) != hi - lo:
                    failures[k] = Unexpected(
                        f"ranged read of bytes {lo}-{hi} returned {len(data)} bytes",
                        operation="read",
                        path=self._path,
                        temporary=True,
                    )
                    return
                self._window[k] = data

            return fetch

        await run_concurrently([fetcher(k) for k in wanted], self._concurrent)
        if index not in self._window:
            raise failures[index]
