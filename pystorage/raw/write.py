"""The writer chooser, written once: how the bytes of a write reach the service.

:func:`choose` is the only place that decides, for ``Operator.write``,
``open("wb")``/``open("ab")``, a streamed copy and the layers:

* ``write_once``: bytes-like data that fits in one part, or any bytes-like
  data on a service without the automatic multipart engine (not appending);
* the core multipart engine (:class:`~pystorage.raw.multipart.MultipartWriter`)
  where the service declares ``write_can_multi`` and the write does not
  append;
* else the driver's streamed writer (``Accessor.write``), behind a
  :class:`~pystorage.raw.buffered.BufferedWriter` unless the writer gathers
  its pieces itself (``RawWriter.buffers``): one buffer per write.

The explicit, resumable API (capability ``multipart``) is not chosen here:
``op.create_multipart`` drives it.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from ..types import Capability, Metadata
from .accessor import Accessor, Buffer, RawWriter
from .buffered import BufferedWriter, as_view
from .multipart import DEFAULT_PART_SIZE, MultipartWriter
from .ops import OpWrite
from .tasks import call_progress

__all__ = ["STREAM_PIECE", "Writer", "check_bytes", "choose", "open_writer", "write_data"]

#: pieces handed to a driver's streamed writer are at least this large
STREAM_PIECE = 1024 * 1024


class Writer(enum.Enum):
    """What carries a write to the service (see :func:`choose`)."""

    ONCE = "write_once"
    MULTIPART = "multipart engine"
    STREAM = "driver's streamed writer"


def choose(capability: Capability, op: OpWrite, size: int | None = None) -> Writer:
    """The writer of a write of ``size`` bytes (``None``: streamed, size unknown)."""
    engine = capability.write_can_multi and not op.append
    if size is not None and not op.append and (not engine or size <= part_size(capability, op)):
        return Writer.ONCE
    return Writer.MULTIPART if engine else Writer.STREAM


def part_size(capability: Capability, op: OpWrite) -> int:
    """The multipart engine's part size: ``op.chunk``, else 8 MiB raised to
    the service's smallest part."""
    return op.chunk or max(DEFAULT_PART_SIZE, capability.write_multi_min_size or 0)


def check_bytes(data: object) -> Buffer | bytearray:
    """Return ``data`` if it is bytes-like, else raise ``TypeError`` naming its type."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    raise TypeError(f"expected a bytes-like object, got {type(data).__name__}")


async def open_writer(accessor: Accessor, path: str, op: OpWrite) -> RawWriter:
    """The streamed writer :func:`choose` picks for a write of unknown size."""
    if choose(accessor.info().capability, op) is Writer.MULTIPART:
        return MultipartWriter(accessor, path, op)
    raw = await accessor.write(path, op)
    return raw if raw.buffers else BufferedWriter(raw, op.chunk or STREAM_PIECE)


async def write_data(
    accessor: Accessor,
    path: str,
    data: object,
    op: OpWrite,
    progress: Callable[[int, int | None], Any] | None = None,
) -> Metadata:
    """Write ``data`` (bytes-like, or a sync or async iterable of bytes-like
    pieces) to ``path`` with the writer :func:`choose` picks; ``progress(done,
    total)`` is called as pieces are accepted (``total`` is the size of
    bytes-like data, else ``None``).

    A bytes-like body is never copied: ``write_once`` takes it whole, a
    multipart upload takes zero-copy part-sized views of it.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = as_view(data)
        total: int | None = len(view)
        writer = choose(accessor.info().capability, op, len(view))
        if writer is Writer.ONCE:
            meta = await accessor.write_once(path, data if isinstance(data, bytes) else view, op)
            if meta.content_length is None:
                meta.content_length = total
            await call_progress(progress, len(view), total)
            return meta
        if writer is Writer.MULTIPART:
            # the body is held until the call returns: its parts are borrowed, never copied
            engine = MultipartWriter(accessor, path, op, borrowed=True)
            return await _drain(engine, _slices(view, engine.part_size), total, progress, path)
        source: AsyncGenerator[Buffer | bytearray, None] = _slices(view, op.chunk or DEFAULT_PART_SIZE)
    elif isinstance(data, (str, Mapping)) or not isinstance(data, (Iterable, AsyncIterable)):
        raise TypeError(f"data must be bytes-like or an iterable of bytes, got {type(data).__name__}")
    else:
        total, source = None, _pieces(data)
    return await _drain(await open_writer(accessor, path, op), source, total, progress, path)


async def _drain(
    raw: RawWriter,
    source: AsyncGenerator[Buffer | bytearray, None],
    total: int | None,
    progress: Callable[[int, int | None], Any] | None,
    path: str,
) -> Metadata:
    """Write every piece of ``source`` through ``raw`` and commit (aborting on failure)."""
    from .._writer import AsyncWriter  # the public writer's commit and abort rules

    async def opener() -> RawWriter:
        return raw

    async with AsyncWriter(opener, path=path) as out:
        done = 0
        async with contextlib.aclosing(source) as pieces:
            async for piece in pieces:
                done += await out.write(piece)
                await call_progress(progress, done, total)
        return await out.close()


async def _slices(view: memoryview, size: int) -> AsyncGenerator[Buffer | bytearray, None]:
    """``size``-byte views of a buffer (no copies): exactly the engine's parts,
    which it passes on uncut."""
    for start in range(0, len(view), size):
        yield view[start : start + size]


async def _pieces(data: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[Buffer | bytearray, None]:
    """The pieces of a streamed write's ``data``, each checked to be bytes-like."""
    if isinstance(data, AsyncIterable):
        async for piece in data:
            yield check_bytes(piece)
    else:
        for piece in data:
            yield check_bytes(piece)
