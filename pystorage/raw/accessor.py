"""The driver contract: :class:`Accessor`, :class:`RawReader`, :class:`RawWriter`.

A service driver subclasses :class:`Accessor` and overrides the primitives its
service has; every other method raises :class:`~pystorage.errors.Unsupported`.
Drivers implement primitives, never algorithms: chunking, concurrency,
retries and range planning live in the core engines and the layers.

Paths given to an accessor are already normalised (see :mod:`pystorage.raw.path`)
and relative to the operator's root; the driver applies its root. Paths it
returns (``Entry.path``) are relative to the root too.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from ..errors import Unsupported
from ..sse import SseSpec
from ..types import Capability, Entry, Metadata, Part, PresignedRequest, UploadInfo
from .config import config_repr
from .ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from .tasks import aclose_iterator

__all__ = ["Accessor", "AccessorInfo", "Buffer", "EmptyReader", "RawReader", "RawWriter", "ServiceAccessor"]

#: entries per page when :meth:`Accessor.list_pages` groups what ``list`` yields
_DEFAULT_PAGE = 1000

#: what write primitives take: ``bytes`` or a ``memoryview`` of bytes
Buffer = bytes | memoryview


@dataclasses.dataclass(frozen=True, slots=True)
class AccessorInfo:
    """Static facts about an accessor: scheme, root (``/a/b/``), name, capability."""

    scheme: str
    root: str
    name: str
    capability: Capability


class RawReader(abc.ABC):
    """A stream of bytes answering one ranged read.

    Attributes:
        size: how many bytes this stream delivers, when known in advance.
        metadata: the object's metadata if the response carried it.
    """

    size: int | None = None
    metadata: Metadata | None = None
    #: optional fast path: a coroutine function returning the whole rest of
    #: the range as one ``bytes`` (``b""`` if nothing is left), for callers
    #: that want it all at once (``Operator.read``). ``None`` (the default)
    #: means callers drain :meth:`read`. A reader wrapping another (a layer)
    #: leaves it ``None`` unless it can forward it faithfully.
    read_rest: Callable[[], Awaitable[bytes]] | None = None

    @abc.abstractmethod
    async def read(self) -> bytes:
        """The next piece of the range; ``b""`` once the range is exhausted."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release the connection or file handle; safe to call twice."""


class EmptyReader(RawReader):
    """A stream of no bytes: a read at ``offset == length``, or of size 0."""

    def __init__(self, metadata: Metadata | None = None) -> None:
        self.size = 0
        self.metadata = metadata

    async def read(self) -> bytes:
        """Always ``b""``."""
        return b""


class RawWriter(abc.ABC):
    """A streamed write. Nothing is visible at the path until :meth:`close`.

    Attributes:
        buffers: the writer gathers small writes into large requests itself,
            so the core puts no buffer of its own in front (one buffer per write).
    """

    buffers: bool = False

    @abc.abstractmethod
    async def write(self, data: Buffer) -> None:
        """Append ``data`` to what will be committed."""

    @abc.abstractmethod
    async def close(self) -> Metadata:
        """Commit and return the object's metadata (at least ``content_length``)."""

    @abc.abstractmethod
    async def abort(self) -> None:
        """Discard everything written; nothing is left behind. Safe to call twice."""


class Accessor(abc.ABC):
    """Base class of service drivers and layers. Each method's doc names the
    capability that must be declared before the Operator calls it.

    Attributes:
        config_sse: the server-side encryption the driver's config keys ask
            for (``None``: none); ``services.build_accessor`` applies it with
            :class:`~pystorage.layers.ServerSideEncryptionLayer`.
    """

    config_sse: SseSpec | None = None

    @abc.abstractmethod
    def info(self) -> AccessorInfo:
        """Scheme, root, name and capability (cheap; called often)."""

    def _unsupported(self, operation: str, path: str = "") -> Unsupported:
        return Unsupported(
            f"{operation} is not supported by this service",
            operation=operation,
            path=path,
            service=self.info().scheme,
        )

    @property
    def driver(self) -> Accessor:
        """The service driver below every layer (``self`` for a driver).

        Cleanup that must be prompt (the abort of a cancelled or failed
        upload) calls the driver directly, not through retries and deadlines
        meant for the user's calls.
        """
        return self

    # lifecycle -----------------------------------------------------------
    async def open(self) -> None:  # noqa: B027 - optional hook
        """Open pooled clients (called by ``async with op``). Optional: drivers
        must also open lazily on first use."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Close pooled clients; the accessor may be reopened later."""

    # metadata --------------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        """``stat``. A directory path (``a/``) returns ``EntryMode.DIR``."""
        raise self._unsupported("stat", path)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        """``create_dir``; ``path`` ends with ``/``."""
        raise self._unsupported("create_dir", path)

    # reads -------------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        """``read``: a stream of the valid, non-empty byte range ``[op.offset,
        op.offset + op.size)`` (``size=None``: to the end), honouring the
        conditions and version of ``op``; a service's ``416`` (the offset is
        at or past the end) raises ``RangeNotSatisfied``. The stream's
        ``metadata`` carries the object's size (``content_length``), etag and
        version where the answer tells them.

        The range rules (empty reads, the clamp, offsets past the end) are
        the read planner's (:mod:`pystorage.raw.read`), not the driver's: a
        caller needing them calls :func:`~pystorage.raw.read.open_range`."""
        raise self._unsupported("read", path)

    # writes ------------------------------------------------------------------
    async def write(self, path: str, op: OpWrite) -> RawWriter:
        """``write`` for services with a native streamed writer (fs, memory).
        Services declaring ``multipart`` implement the multipart primitives
        instead and the core engine drives them."""
        raise self._unsupported("write", path)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        """``write``: the whole object in one request. The default goes
        through :meth:`write`."""
        writer = await self.write(path, op)
        try:
            if len(data):
                await writer.write(data)
            return await writer.close()
        except BaseException:
            await writer.abort()
            raise

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        """``multipart``: start an upload, return its id."""
        raise self._unsupported("create_multipart", path)

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        """``multipart``: upload part ``number`` (1-based)."""
        raise self._unsupported("write_part", path)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        """``multipart``: assemble ``parts`` (in number order) into the object."""
        raise self._unsupported("complete_multipart", path)

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        """``multipart``: abort the upload and free its parts."""
        raise self._unsupported("abort_multipart", path)

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        """``multipart``: the parts the service holds for an upload."""
        raise self._unsupported("list_parts", path)

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        """``multipart``: uploads in progress under ``prefix``."""
        raise self._unsupported("list_multipart_uploads", prefix)

    # deletes -------------------------------------------------------------
    async def delete(self, path: str, op: OpDelete) -> None:
        """``delete``; a missing path succeeds."""
        raise self._unsupported("delete", path)

    async def delete_batch(self, paths: Sequence[str]) -> None:
        """``delete_max_size > 1``: delete up to ``delete_max_size`` paths in
        one request; raise an error naming the paths that failed."""
        raise self._unsupported("delete_many")

    # listing -----------------------------------------------------------------
    async def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        """``list``: the entries below directory ``path`` (never ``path``
        itself), in lexicographic order. Non-recursive: direct children, with
        sub-directories as ``name/`` entries. ``recursive``: every file at any
        depth, plus directories that exist as entries of their own (fs
        directories, object-store ``dir/`` markers). ``start_after`` is
        honoured by the driver; ``limit`` is a page-size hint (the Operator
        caps the total).

        A driver implements this or :meth:`list_pages` (each defaults to the
        other); implementing ``list_pages`` saves a generator hop per entry."""
        pages = self.list_pages(path, op)
        try:
            async for page in pages:
                for entry in page:
                    yield entry
        finally:
            await aclose_iterator(pages)  # closing the listing closes its pages now, not at GC

    async def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        """``list`` one page at a time: the same entries, in the same order, in
        the pages the service answered (a page may be empty). The Operator
        consumes this; the default groups what :meth:`list` yields."""
        if type(self).list is Accessor.list:
            raise self._unsupported("list", path)
        page: list[Entry] = []
        async for entry in self.list(path, op):
            page.append(entry)
            if len(page) >= _DEFAULT_PAGE:
                yield page
                page = []
        if page:
            yield page

    # server-side ----------------------------------------------------------
    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        """``copy``: server-side copy of a file."""
        raise self._unsupported("copy", src)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        """``rename``: move a file."""
        raise self._unsupported("rename", src)

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        """``presign_read`` / ``presign_write`` / ``presign_stat``."""
        raise self._unsupported("presign", path)


CoreT = TypeVar("CoreT")


class ServiceAccessor(Accessor, Generic[CoreT]):
    """The part every configured service driver shares: its static facts,
    a ``repr`` that shows only the set, non-secret config keys, and its core.

    A subclass sets ``_config`` (the service's config dataclass), ``_core``
    (the object making the service's calls) and ``_info`` in its ``__init__``.
    """

    _config: Any
    _core: CoreT
    _info: AccessorInfo

    def info(self) -> AccessorInfo:
        """Scheme, root, name and capability (built once, with the accessor)."""
        return self._info

    def __repr__(self) -> str:
        return f"{type(self).__name__}({config_repr(self._config)})"

    @property
    def core(self) -> CoreT:
        """The service calls (for tests and tools that need a raw call)."""
        return self._core
