"""The public :class:`Operator`: construction and layering, metadata, reads
(through the read planner, :mod:`pystorage.raw.read`), writes (through the
writer chooser, :mod:`pystorage.raw.write`), ``open``, listing and deletes.

Its other parts: the checks every call makes (:mod:`pystorage._operator_base`,
:mod:`pystorage._options`), the explicit multipart calls
(:mod:`pystorage._multipart`), ``copy``/``rename``/presigns
(:mod:`pystorage._server_side`) and batched deletes (:mod:`pystorage._deletes`).
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from . import errors
from ._deletes import delete_paths, remove_tree
from ._multipart import MultipartCalls
from ._operator_base import quick_normalize
from ._options import given, positive
from ._reader import AsyncReader
from ._server_side import ServerSideCalls
from ._writer import AsyncWriter, open_raw_writer
from .raw.accessor import Accessor, Buffer
from .raw.coalesce import read_ranges
from .raw.layer import Layer
from .raw.ops import OpCreateDir, OpDelete, OpList, OpRead, OpStat, OpWrite
from .raw.path import normalize_path
from .raw.ranged import RangeReader, open_reader, read_all
from .raw.read import check_range, open_range
from .raw.tasks import aclose_iterator
from .raw.write import write_data
from .services import build_accessor, config_from_uri
from .types import Entry, Metadata

if TYPE_CHECKING:
    from ._blocking import BlockingOperator

__all__ = ["Operator", "Progress"]

#: ``progress(done_bytes, total_bytes_or_None)``, sync or async
Progress = Callable[[int, int | None], Any]
"""A progress callback: ``progress(done_bytes, total_bytes_or_None)``, sync or async."""

#: ``read_ranges`` defaults: merge ranges up to 1 MiB apart (a request costs
#: more than reading that many extra bytes on every object store), 8 requests
#: in flight, at most 16 MiB per request
RANGES_COALESCE = 1024 * 1024
RANGES_CONCURRENT = 8
RANGES_MAX_REQUEST = 16 * 1024 * 1024

#: the ops of the common calls, made once (frozen): a whole read, a write
#: without options, a delete of the current version
_READ_ALL = OpRead()
_WRITE_PLAIN = OpWrite()
_DELETE_PLAIN = OpDelete()


class Operator(MultipartCalls, ServerSideCalls):
    """One API over every storage service.

    Args:
        scheme: the service: ``"memory"``, ``"fs"``, ``"s3"``, ``"gcs"`` ...
        **config: the service's config keys (named as OpenDAL names them:
            ``root``, ``bucket``, ``endpoint`` ...). An unknown key raises
            :class:`~pystorage.errors.ConfigInvalid` naming it.

    Example::

        op = Operator("fs", root="/srv/data").layer(RetryLayer())
        async with op:
            await op.write("hello.txt", b"hi")
            assert await op.read("hello.txt") == b"hi"

    Clients open lazily on first use; ``async with op`` (or ``await
    op.close()``) releases them.

    Portable: ``pickle.dumps(op)`` round-trips, layers included, by rebuilding
    the operator from the scheme, config and layers it was made of; the copy
    opens its own clients lazily (a ``memory`` copy is a new, empty store).
    The pickle holds the config's secrets (never shown by ``repr``): treat it
    like the credentials themselves. After ``os.fork()`` a child never reuses
    its parent's connections.
    """

    #: what the operator was built from, for pickling: (scheme, config, layers outermost first)
    _origin: tuple[str, dict[str, Any], tuple[Layer, ...]] | None

    def __init__(self, scheme: str, /, **config: Any) -> None:
        self._set_accessor(build_accessor(scheme, config))
        self._origin = (scheme, dict(config), ())

    @classmethod
    def from_accessor(cls, accessor: Accessor) -> Operator:
        """Wrap an already built accessor (for driver and layer authors)."""
        op = cls.__new__(cls)
        op._set_accessor(accessor)
        op._origin = None
        return op

    @classmethod
    def from_uri(cls, uri: str, **config: Any) -> Operator:
        """Build an operator from a URI such as
        ``s3://bucket/prefix?region=us-east-1&endpoint=http://127.0.0.1:9000``,
        ``fs:///srv/data`` or ``memory://``. Query parameters are config keys;
        keyword arguments override them."""
        scheme, values = config_from_uri(uri)
        return cls(scheme, **{**values, **config})

    def layer(self, *layers: Layer) -> Operator:
        """A NEW operator with ``layers`` around this one's accessor;
        ``op.layer(a, b)`` puts ``a`` outside ``b``. Put ``RetryLayer``
        outside ``TimeoutLayer`` so that timed-out attempts are retried."""
        accessor = self._accessor
        for layer in reversed(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"expected a Layer, got {type(layer).__name__}")
            accessor = layer.layer(accessor)
        layered = Operator.from_accessor(accessor)
        if self._origin is not None:
            scheme, config, inner = self._origin
            layered._origin = (scheme, config, (*layers, *inner))
        return layered

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the recipe ``(scheme, config, layers)``: the copy builds
        its own accessor (and opens its own clients lazily).

        Raises:
            TypeError: an operator made with :meth:`from_accessor` has no recipe.
        """
        if self._origin is None:
            raise TypeError(
                "an Operator built with Operator.from_accessor() cannot be pickled: "
                "build it with Operator(scheme, **config) and .layer(...)"
            )
        return (_rebuild, self._origin)

    @property
    def accessor(self) -> Accessor:
        """The outermost accessor (for driver and layer authors)."""
        return self._accessor

    def __repr__(self) -> str:
        info = self._info
        return f"Operator({info.scheme!r}, name={info.name!r}, root={info.root!r})"

    # lifecycle ---------------------------------------------------------------
    async def __aenter__(self) -> Operator:
        await self._accessor.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close pooled clients. The operator reopens them if used again."""
        await self._accessor.close()

    def blocking(self) -> BlockingOperator:
        """A synchronous twin of this operator, for code without an event loop."""
        from ._blocking import BlockingOperator

        return BlockingOperator(self)

    # metadata ------------------------------------------------------------------
    async def stat(
        self,
        path: str,
        *,
        version: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: dt.datetime | None = None,
        if_unmodified_since: dt.datetime | None = None,
    ) -> Metadata:
        """Metadata of a file, or of a directory when ``path`` ends with ``/``.

        Raises:
            NotFound: nothing at ``path``.
            ConditionNotMatch: a condition did not hold.
        """
        p = normalize_path(path)
        self._require(self.capability().stat, "stat", p, "stat")
        op = self._options.stat(p, **given(OpStat, locals()))
        with self._context("stat", p):
            return await self._accessor.stat(p, op)

    async def exists(self, path: str) -> bool:
        """Whether something exists at ``path``."""
        try:
            await self.stat(path)
        except errors.NotFound:
            return False
        return True

    async def create_dir(self, path: str) -> None:
        """Create a directory (and its parents). A path without a trailing
        ``/`` is taken as a directory all the same."""
        p = normalize_path(path)
        if not p.endswith("/"):
            p += "/"
        self._require(self.capability().create_dir, "create_dir", p, "create_dir")
        if p == "/":
            return
        with self._context("create_dir", p):
            await self._accessor.create_dir(p, OpCreateDir())

    # reads -----------------------------------------------------------------------
    async def read(
        self,
        path: str,
        *,
        offset: int = 0,
        size: int | None = None,
        version: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: dt.datetime | None = None,
        if_unmodified_since: dt.datetime | None = None,
        chunk: int | None = None,
        concurrent: int = 1,
        prefetch: int = 0,
        progress: Progress | None = None,
    ) -> bytes:
        """Read a whole object, or bytes ``[offset, min(offset + size, length))``.

        Args:
            offset: first byte (default 0). ``offset == length`` returns ``b""``;
                ``offset > length`` raises ``RangeNotSatisfied``.
            size: bytes to read (default: to the end).
            chunk: bytes per ranged request (default: one request).
            concurrent: ranged requests in flight (default 1).
            prefetch: chunks buffered ahead (default 0).
            progress: ``progress(done, total)`` as bytes arrive.
        """
        p = self._file_path(path, "read")
        if (
            chunk is None
            and progress is None
            and version is None
            and if_match is None
            and if_none_match is None
            and if_modified_since is None
            and if_unmodified_since is None
            and concurrent.__class__ is int
            and concurrent == 1
            and prefetch.__class__ is int
            and prefetch == 0
        ):  # the common call, a whole object or one range: no option to check
            self._require(self._info.capability.read, "read", p, "read")
            check_range(offset, size)
            plain = _READ_ALL if offset == 0 and size is None else OpRead(offset=offset, size=size)
            with self._context("read", p):
                return await read_all(await open_range(self._accessor, p, plain))
        self._options.reading(p, chunk, concurrent, prefetch)
        op = self._options.read(p, **given(OpRead, locals()))
        with self._context("read", p):
            if chunk is None:  # one request, whatever the range
                return await read_all(await open_range(self._accessor, p, op), progress=progress)
            reader = self._open_reader(
                p, op, chunk=chunk, concurrent=concurrent, prefetch=prefetch, progress=progress, ranged=True
            )
            async with reader:
                return await reader.read()

    def _open_reader(
        self,
        p: str,
        op: OpRead,
        *,
        chunk: int | None = None,
        concurrent: int = 1,
        prefetch: int = 0,
        progress: Progress | None = None,
        ranged: bool = False,
    ) -> AsyncReader:
        """The reader of ``op`` (see :func:`~pystorage.raw.ranged.open_reader`)."""

        async def opener() -> RangeReader:
            with self._context("read", p):
                return await open_reader(
                    self._accessor, p, op, ranged=ranged, chunk=chunk,
                    concurrent=concurrent, prefetch=prefetch,
                )

        return AsyncReader(opener, path=p, progress=progress)

    # writes ------------------------------------------------------------------------
    async def write(
        self,
        path: str,
        data: Buffer | bytearray | Iterable[Buffer] | AsyncIterable[Buffer],
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        user_metadata: Mapping[str, str] | None = None,
        if_not_exists: bool = False,
        if_match: str | None = None,
        if_none_match: str | None = None,
        append: bool = False,
        chunk: int | None = None,
        concurrent: int = 1,
        progress: Progress | None = None,
    ) -> Metadata:
        """Write ``data`` to ``path`` (replacing it, or appending with ``append=True``).

        Args:
            data: bytes-like, or a sync or async iterable of bytes-like pieces
                (streamed, never fully buffered).
            content_type: stored with the object where the service can.
            cache_control: stored with the object where the service can.
            content_disposition: stored with the object where the service can.
            content_encoding: stored with the object where the service can.
            user_metadata: the caller's own key/value pairs, where the service can.
            if_not_exists: fail with ``ConditionNotMatch`` if the object exists.
            if_match: write only if the current etag equals this one.
            if_none_match: write only if the current etag differs
                (``"*"`` equals ``if_not_exists``).
            append: add to the end of the object (``Unsupported`` where the
                service cannot; never silently overwrites).
            chunk: part size for multipart uploads (default 8 MiB) or piece
                size for streamed writers.
            concurrent: parts uploaded at once (default 1). Memory held is at
                most ``chunk × (concurrent + 2)``.
            progress: ``progress(done, total)``; ``total`` is the size when
                ``data`` is bytes-like, else ``None`` until the end.

        Returns:
            The written object's metadata (at least ``content_length``).
        """
        p = self._file_path(path, "write")
        if (
            content_type is None
            and cache_control is None
            and content_disposition is None
            and content_encoding is None
            and user_metadata is None
            and if_not_exists is False
            and if_match is None
            and if_none_match is None
            and append is False
            and chunk is None
            and concurrent.__class__ is int
            and concurrent == 1
        ):  # the common call: no option to check
            self._require(self._info.capability.write, "write", p, "write")
            op = _WRITE_PLAIN
        else:
            op = self._options.write(p, **given(OpWrite, locals()))
        with self._context("write", p):
            return await write_data(self._accessor, p, data, op, progress)

    # open ------------------------------------------------------------------------
    @overload
    def open(self, path: str, mode: Literal["rb"] = "rb", **options: Any) -> AsyncReader: ...
    @overload
    def open(self, path: str, mode: Literal["wb", "ab"], **options: Any) -> AsyncWriter: ...
    @overload
    def open(self, path: str, mode: str, **options: Any) -> AsyncReader | AsyncWriter: ...
    def open(self, path: str, mode: str = "rb", **options: Any) -> AsyncReader | AsyncWriter:
        """Open a seekable reader (``"rb"``) or a streamed writer (``"wb"``, ``"ab"``).

        The result is awaitable and an async context manager. ``"rb"`` takes
        the ``read`` options except ``offset``/``size`` (seek instead; a
        ``TypeError`` if given); ``"wb"``/``"ab"`` take the ``write`` options.
        """
        if mode == "rb":
            for bad in ("offset", "size"):
                if bad in options:
                    raise TypeError(f"open(..., 'rb') takes no {bad!r}: seek instead")
            chunk = options.pop("chunk", None)
            concurrent = options.pop("concurrent", 1)
            prefetch = options.pop("prefetch", 0)
            progress = options.pop("progress", None)
            p = self._file_path(path, "read")
            self._options.reading(p, chunk, concurrent, prefetch)
            op = self._options.read(p, **options)
            return self._open_reader(
                p, op, chunk=chunk, concurrent=concurrent, prefetch=prefetch, progress=progress
            )
        if mode in ("wb", "ab"):
            if "append" in options:
                raise TypeError("use mode 'ab' to append, not append=")
            progress = options.pop("progress", None)
            p = self._file_path(path, "write")
            wop = self._options.write(p, append=mode == "ab", **options)
            accessor = self._accessor

            async def opener() -> Any:
                with self._context("write", p):
                    return await open_raw_writer(accessor, p, wop)

            return AsyncWriter(opener, path=p, progress=progress)
        raise ValueError(f"invalid mode {mode!r}: use 'rb', 'wb' or 'ab'")

    # listing -----------------------------------------------------------------------
    async def list(
        self,
        path: str = "/",
        *,
        recursive: bool = False,
        limit: int | None = None,
        start_after: str | None = None,
        versions: bool = False,
    ) -> AsyncIterator[Entry]:
        """Iterate the entries below directory ``path`` (not a coroutine:
        ``async for e in op.list("dir/")``).

        Never yields ``path`` itself; directories end with ``/``;
        ``Entry.path`` is relative to the root. A missing directory lists as
        empty. ``start_after`` is a path relative to the root; ``limit`` caps
        the number of entries yielded. A path without a trailing ``/`` is
        listed as a directory.
        """
        p = normalize_path(path)
        if not p.endswith("/"):
            p += "/"
        cap = self.capability()
        self._require(cap.list, "list", p, "list")
        if recursive:
            self._require(cap.list_with_recursive, "list", p, "list with recursive")
        if versions:
            self._require(cap.list_with_versions, "list", p, "list with versions")
        positive("limit", limit, minimum=0)
        after = None
        if start_after is not None:
            after = normalize_path(start_after)
            self._require(cap.list_with_start_after, "list", p, "list with start_after")
        if limit == 0:
            return
        op = OpList(recursive=recursive, limit=limit, start_after=after, versions=versions)
        count = 0
        with self._context("list", p):
            pages = self._accessor.list_pages(p, op)
            try:
                if after is None and limit is None:  # every entry of every page, unchecked
                    async for page in pages:
                        for entry in page:
                            yield entry
                    return
                async for page in pages:
                    for entry in page:
                        if after is not None and entry.path <= after:
                            continue  # services differ on prefixes holding start_after
                        yield entry
                        count += 1
                        if limit is not None and count >= limit:
                            return
            finally:
                await aclose_iterator(pages)

    # deletes -----------------------------------------------------------------------
    async def delete(self, path: str, *, version: str | None = None) -> None:
        """Delete a file (or an empty directory marker); a missing path succeeds."""
        p = quick_normalize(path)
        cap = self._info.capability
        self._require(cap.delete, "delete", p, "delete")
        if version is None:
            op = _DELETE_PLAIN
        else:
            self._require(cap.delete_with_version, "delete", p, "delete with version")
            op = OpDelete(version=version)
        if p == "/":
            return
        with self._context("delete", p):
            await self._accessor.delete(p, op)

    async def delete_many(self, paths: Iterable[str] | AsyncIterable[str]) -> None:
        """Delete many paths (any iterable or async iterable), batched where
        the service can (S3 DeleteObjects). Missing paths succeed."""
        self._require(self.capability().delete, "delete", "", "delete")
        await delete_paths(self._accessor, paths, self._context)

    async def remove_all(self, path: str) -> None:
        """Delete ``path`` and everything below it (recursive). A path
        without a trailing ``/`` removes that file and the directory of that
        name, if any."""
        p = normalize_path(path)
        if not p.endswith("/"):
            await self.delete(p)
            p += "/"
        self._require(self.capability().list_with_recursive, "remove_all", p, "remove_all (recursive list)")
        await remove_tree(self, p)

    # many ranges ------------------------------------------------------------------------
    async def read_ranges(
        self,
        path: str,
        ranges: Iterable[tuple[int, int | None]],
        *,
        coalesce: int = RANGES_COALESCE,
        concurrent: int = RANGES_CONCURRENT,
        version: str | None = None,
    ) -> builtins.list[bytes]:
        """Many byte ranges of one object in one call (Parquet footers and
        column chunks, fsspec ``cat_ranges``): one ``bytes`` per range, in order.

        Each range ``(offset, size)`` follows :meth:`read`'s rules: bytes
        ``[offset, min(offset + size, length))``, ``size=None`` reads to the
        end, ``offset == length`` gives ``b""``, ``offset > length`` raises
        ``RangeNotSatisfied``. Ranges at most ``coalesce`` bytes apart (and
        overlapping ones) are fetched by one request; requests run
        ``concurrent`` at a time, at most 16 MiB each. The object is stat'ed
        once and every request is pinned to the etag (or version) seen, so a
        change in between raises ``ConditionNotMatch``, never mixed bytes — on
        services that can (``read_with_if_match`` or ``read_with_version``;
        not fs).

        Args:
            ranges: ``(offset, size)`` pairs, in any order; overlaps allowed.
            coalesce: bytes of gap merged over (default 1 MiB; 0 merges only
                touching or overlapping ranges).
            concurrent: requests in flight (default 8).
            version: read this version (``read_with_version``).

        Raises:
            NotFound: nothing at ``path``.
            RangeNotSatisfied: a range starts past the end.
            ConditionNotMatch: the object changed while the ranges were read.
        """
        p = self._file_path(path, "read")
        self._require(self.capability().read, "read", p, "read")
        wanted: list[tuple[int, int | None]] = []
        for item in ranges:
            if not isinstance(item, tuple) or len(item) != 2:
                raise TypeError(f"ranges must be (offset, size) pairs, got {item!r}")
            wanted.append(item)
        positive("coalesce", coalesce, allow_none=False, minimum=0)
        positive("concurrent", concurrent, allow_none=False)
        op = self._options.read(p, version=version)
        with self._context("read", p):
            return await read_ranges(
                self._accessor,
                p,
                op,
                wanted,
                coalesce=coalesce,
                concurrent=concurrent,
                max_request=RANGES_MAX_REQUEST,
            )


def _rebuild(scheme: str, config: dict[str, Any], layers: tuple[Layer, ...]) -> Operator:
    """Unpickle an :class:`Operator` (see :meth:`Operator.__reduce__`)."""
    op = Operator(scheme, **config)
    return op.layer(*layers) if layers else op
