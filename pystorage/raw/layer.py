"""Layers: an accessor wrapping an accessor, written against one hook.

A layer is configured by a public frozen ``XxxLayer`` whose :meth:`Layer.layer`
builds a private :class:`LayeredAccessor` subclass. Every call the layered
accessor forwards goes through four overridable hooks, each the identity by
default, so a layer overrides only what it intercepts:

* :meth:`LayeredAccessor._call` ``(op, path, fn)`` runs each call: every
  one-shot call, and the opening of a read or write stream. ``op`` is the
  :class:`~pystorage.raw.ops.Operation`, ``path`` the path (the source of
  ``copy``/``rename``; ``""`` for ``delete_batch``) and ``fn`` the
  :class:`Call` to await (``fn.target``, ``fn.nbytes``, ``fn.count`` say more).
* :meth:`LayeredAccessor._wrap_reader` / :meth:`LayeredAccessor._wrap_writer`
  wrap the stream a ``read`` / ``write`` opened. They run *inside* ``fn``,
  that is within the layer's own ``_call``, so state that ``_call`` makes
  current in a context variable (a start time, an OpenTelemetry span) is
  current when they run. Wrap with :class:`WrappingReader` /
  :class:`WrappingWriter` to keep the readers' ``read_rest`` fast path.
* :meth:`LayeredAccessor._wrap_lister` wraps the **pages** of a listing
  (``list_pages``; ``list`` goes through them by the base class default), so
  a layer costs one step per page, not per entry. ``list_parts`` and
  ``list_multipart_uploads`` pass through it as pages of one item.

A layer whose semantics need the call's options (a retry that resumes a read
at an offset) overrides that accessor method instead, and may still call
``self._call`` from it.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from ..types import Entry, Metadata, Part, PresignedRequest, UploadInfo
from .accessor import Accessor, AccessorInfo, Buffer, RawReader, RawWriter
from .ops import (
    OpCopy,
    OpCreateDir,
    OpDelete,
    Operation,
    OpList,
    OpPresign,
    OpRead,
    OpRename,
    OpStat,
    OpWrite,
)
from .tasks import aclose_iterator

__all__ = [
    "Call",
    "Layer",
    "LayeredAccessor",
    "WrappingReader",
    "WrappingWriter",
    "each_page",
    "flatten",
    "one_per_page",
]

T = TypeVar("T")
Item = TypeVar("Item")


class Layer(abc.ABC):
    """Configuration of a layer: ``op.layer(a, b)`` puts ``a`` outside ``b``."""

    @abc.abstractmethod
    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` and return the wrapping accessor."""


class Call(functools.partial[Awaitable[T]]):
    """One call forwarded to the inner accessor: the accessor method and its
    arguments; ``await call()`` runs it (and may be awaited again: a retry does).
    A :class:`functools.partial`, so running it costs no extra Python frame.

    Attributes:
        target: the destination of ``copy`` / ``rename``, else ``None``.
        nbytes: the bytes the call sends (``write_once``, ``write_part``; the
            parts' total for ``complete_multipart``), else ``None``.
        count: how many paths a ``delete_batch`` deletes, else ``None``.
    """

    target: str | None = None
    nbytes: int | None = None
    count: int | None = None

    def about(
        self, *, target: str | None = None, nbytes: int | None = None, count: int | None = None
    ) -> Call[T]:
        """Set what a layer may want to know of the call; returns ``self``."""
        self.target, self.nbytes, self.count = target, nbytes, count
        return self


class LayeredAccessor(Accessor):
    """An accessor that forwards every call to ``inner`` through the hooks."""

    def __init__(self, inner: Accessor) -> None:
        self.inner = inner

    # the hooks -----------------------------------------------------------------
    async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
        """Run one call (``await fn()``); override to intercept every call."""
        return await fn()

    def _wrap_reader(self, op: Operation, path: str, reader: RawReader) -> RawReader:
        """The reader handed to the caller of ``read`` (default: ``reader``)."""
        return reader

    def _wrap_writer(self, op: Operation, path: str, writer: RawWriter) -> RawWriter:
        """The writer handed to the caller of ``write`` (default: ``writer``)."""
        return writer

    def _wrap_lister(
        self, op: Operation, path: str, pages: AsyncIterator[Sequence[Item]]
    ) -> AsyncIterator[Sequence[Item]]:
        """The pages handed to the caller of a listing (default: ``pages``).
        The wrapper owns ``pages``: it must close it when it is closed."""
        return pages

    # forwarding ----------------------------------------------------------------
    def info(self) -> AccessorInfo:
        return self.inner.info()

    @property
    def driver(self) -> Accessor:
        return self.inner.driver

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def stat(self, path: str, op: OpStat) -> Metadata:
        return await self._call(Operation.STAT, path, Call(self.inner.stat, path, op))

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        await self._call(Operation.CREATE_DIR, path, Call(self.inner.create_dir, path, op))

    async def read(self, path: str, op: OpRead) -> RawReader:
        async def opened() -> RawReader:
            return self._wrap_reader(Operation.READ, path, await self.inner.read(path, op))

        return await self._call(Operation.READ, path, Call(opened))

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        async def opened() -> RawWriter:
            return self._wrap_writer(Operation.WRITE, path, await self.inner.write(path, op))

        return await self._call(Operation.WRITE, path, Call(opened))

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        call = Call(self.inner.write_once, path, data, op).about(nbytes=len(data))
        return await self._call(Operation.WRITE_ONCE, path, call)

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        call = Call(self.inner.initiate_multipart, path, op)
        return await self._call(Operation.INITIATE_MULTIPART, path, call)

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        call = Call(self.inner.write_part, path, upload_id, number, data, op).about(nbytes=len(data))
        return await self._call(Operation.WRITE_PART, path, call)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        nbytes = sum(part.size for part in parts)
        call = Call(self.inner.complete_multipart, path, upload_id, parts, op).about(nbytes=nbytes)
        return await self._call(Operation.COMPLETE_MULTIPART, path, call)

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        call = Call(self.inner.abort_multipart, path, upload_id)
        await self._call(Operation.ABORT_MULTIPART, path, call)

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        pages = one_per_page(self.inner.list_parts(path, upload_id))
        return flatten(self._wrap_lister(Operation.LIST_PARTS, path, pages))

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        pages = one_per_page(self.inner.list_multipart_uploads(prefix))
        return flatten(self._wrap_lister(Operation.LIST_MULTIPART_UPLOADS, prefix, pages))

    async def delete(self, path: str, op: OpDelete) -> None:
        await self._call(Operation.DELETE, path, Call(self.inner.delete, path, op))

    async def delete_batch(self, paths: Sequence[str]) -> None:
        call = Call(self.inner.delete_batch, paths).about(count=len(paths))
        await self._call(Operation.DELETE_BATCH, "", call)

    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        if type(self).list is not Accessor.list:  # a layer written against ``list``
            return Accessor.list_pages(self, path, op)
        return self._wrap_lister(Operation.LIST, path, self.inner.list_pages(path, op))

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        await self._call(Operation.COPY, src, Call(self.inner.copy, src, dst, op).about(target=dst))

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self._call(Operation.RENAME, src, Call(self.inner.rename, src, dst, op).about(target=dst))

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        return await self._call(Operation.PRESIGN, path, Call(self.inner.presign, path, op))


class WrappingReader(RawReader):
    """Base of a reader wrapping another: forwards ``size``, ``metadata``,
    :meth:`read`, :meth:`aclose` and, when ``inner`` has it, the ``read_rest``
    fast path (through :meth:`_read_rest`). Override what you intercept."""

    def __init__(self, inner: RawReader) -> None:
        self.inner = inner
        self.size = inner.size
        self.metadata = inner.metadata
        if inner.read_rest is not None:
            self.read_rest = self._read_rest

    async def read(self) -> bytes:
        """The next piece of ``inner``."""
        return await self.inner.read()

    async def _read_rest(self) -> bytes:
        """The rest of ``inner`` in one piece (installed as ``read_rest`` only
        when ``inner`` has that fast path)."""
        assert self.inner.read_rest is not None
        return await self.inner.read_rest()

    async def aclose(self) -> None:
        """Close ``inner``."""
        await self.inner.aclose()


class WrappingWriter(RawWriter):
    """Base of a writer wrapping another: forwards every call. Override what you intercept."""

    def __init__(self, inner: RawWriter) -> None:
        self.inner = inner

    async def write(self, data: Buffer) -> None:
        """Write ``data`` to ``inner``."""
        await self.inner.write(data)

    async def close(self) -> Metadata:
        """Commit ``inner``."""
        return await self.inner.close()

    async def abort(self) -> None:
        """Abort ``inner``."""
        await self.inner.abort()


async def one_per_page(items: AsyncIterator[Item]) -> AsyncIterator[Sequence[Item]]:
    """``items`` as pages of one item each (closes ``items``)."""
    try:
        async for item in items:
            yield (item,)
    finally:
        await aclose_iterator(items)


async def flatten(pages: AsyncIterator[Sequence[Item]]) -> AsyncIterator[Item]:
    """The items of ``pages``, one by one (closes ``pages``)."""
    try:
        async for page in pages:
            for item in page:
                yield item
    finally:
        await aclose_iterator(pages)


#: what :func:`each_page` fetches each page through
Fetch = Callable[[Callable[[], Awaitable[Item | None]]], Awaitable[Item | None]]


async def each_page(pages: AsyncIterator[Item], fetch: Fetch[Item]) -> AsyncIterator[Item]:
    """``pages``, each fetched as ``await fetch(next_page)``, so that what
    ``fetch`` holds around it (a deadline, a token) covers fetching only,
    never the consumer's work on a page. Closes ``pages``."""

    async def next_page() -> Item | None:
        try:
            return await pages.__anext__()
        except StopAsyncIteration:
            return None

    try:
        while (page := await fetch(next_page)) is not None:
            yield page
    finally:
        await aclose_iterator(pages)
