"""The public :class:`Operator`: path rules, capability checks, one-shot
operations, layering, and the engines behind ``open``."""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from . import errors
from ._deletes import delete_paths, remove_tree
from ._multipart import MultipartUpload
from ._options import Options, positive, seconds
from ._reader import AsyncReader
from ._writer import AsyncWriter, open_raw_writer
from .raw.accessor import Accessor, AccessorInfo, Buffer, RawReader
from .raw.coalesce import read_ranges
from .raw.layer import Layer
from .raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from .raw.path import normalize_path
from .raw.ranged import RangeReader, open_reader, read_all
from .raw.read import open_range
from .raw.tasks import aclose_iterator, call_progress
from .raw.write import write_data
from .services import build_accessor, config_from_uri
from .types import Capability, Entry, Metadata, OperatorInfo, PresignedRequest, UploadInfo

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


class Operator:
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

    _accessor: Accessor
    _info: AccessorInfo
    #: what the operator was built from, for pickling: (scheme, config, layers outermost first)
    _origin: tuple[str, dict[str, Any], tuple[Layer, ...]] | None

    def __init__(self, scheme: str, /, **config: Any) -> None:
        self._set_accessor(build_accessor(scheme, config))
        self._origin = (scheme, dict(config), ())

    def _set_accessor(self, accessor: Accessor) -> None:
        self._accessor = accessor
        self._info = info = accessor.info()  # static: read once, not per call
        self._options = Options(info.scheme, info.capability)

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

    # facts -------------------------------------------------------------------
    def capability(self) -> Capability:
        """What this service, as configured, can do (frozen)."""
        return self._info.capability

    @property
    def info(self) -> OperatorInfo:
        """Scheme, root and name of the service."""
        info = self._info
        return OperatorInfo(info.scheme, info.root, info.name)

    def blocking(self) -> BlockingOperator:
        """A synchronous twin of this operator, for code without an event loop."""
        from ._blocking import BlockingOperator

        return BlockingOperator(self)

    # helpers -------------------------------------------------------------------
    @contextlib.contextmanager
    def _context(self, operation: str, path: str) -> Iterator[None]:
        try:
            yield
        except errors.Error as exc:
            exc.with_context(operation=operation, path=path, service=self._info.scheme)
            raise

    def _require(self, ok: object, operation: str, path: str, what: str) -> None:
        self._options.require(ok, operation, path, what)

    def _file_path(self, path: str, operation: str) -> str:
        p = normalize_path(path)
        if p.endswith("/"):
            raise errors.IsADirectory(
                "a path ending with '/' names a directory",
                operation=operation,
                path=p,
                service=self._info.scheme,
            )
        return p

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
        op = self._options.stat(
            p,
            version=version,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
        )
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
        self._options.reading(p, chunk, concurrent, prefetch)
        op = self._options.read(
            p,
            offset=offset,
            size=size,
            version=version,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
        )
        with self._context("read", p):
            if chunk is None:  # one request, whatever the range
                return await _read_once(await open_range(self._accessor, p, op), progress)
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
        op = self._options.write(
            p,
            content_type=content_type,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            user_metadata=user_metadata,
            if_not_exists=if_not_exists,
            if_match=if_match,
            if_none_match=if_none_match,
            append=append,
            chunk=chunk,
            concurrent=concurrent,
        )
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

    # explicit multipart ----------------------------------------------------------------
    async def create_multipart(self, path: str, **write_options: Any) -> MultipartUpload:
        """Start a resumable multipart upload of ``path`` (``multipart``
        capability); takes the ``write`` options except ``append``, ``chunk``,
        ``concurrent`` and ``progress``. Save ``upload_id`` to resume later."""
        p = self._file_path(path, "create_multipart")
        self._require(self.capability().multipart, "create_multipart", p, "multipart upload")
        for bad in ("append", "chunk", "concurrent", "progress"):
            if bad in write_options:
                raise TypeError(f"create_multipart takes no {bad!r}")
        op = self._options.write(p, "create_multipart", **write_options)
        with self._context("create_multipart", p):
            upload_id = await self._accessor.initiate_multipart(p, op)
        return MultipartUpload(self._accessor, p, upload_id, op)

    def resume_multipart(self, path: str, upload_id: str, **write_options: Any) -> MultipartUpload:
        """The upload ``upload_id`` of ``path`` again, after a restart (no
        request is sent). Pass the same write options as at creation (SSE
        customer keys in particular)."""
        p = self._file_path(path, "resume_multipart")
        self._require(self.capability().multipart, "resume_multipart", p, "multipart upload")
        if not isinstance(upload_id, str) or not upload_id:
            raise errors.ConfigInvalid(f"invalid upload_id {upload_id!r}", path=p)
        op = self._options.write(p, "resume_multipart", **write_options)
        return MultipartUpload(self._accessor, p, upload_id, op)

    async def list_multipart_uploads(self, prefix: str = "") -> AsyncIterator[UploadInfo]:
        """Multipart uploads in progress whose path starts with ``prefix``."""
        p = normalize_path(prefix) if prefix else ""
        p = "" if p == "/" else p
        self._require(self.capability().multipart, "list_multipart_uploads", p, "multipart upload")
        with self._context("list_multipart_uploads", p):
            async for upload in self._accessor.list_multipart_uploads(p):
                yield upload

    async def abort_multipart_uploads(
        self, prefix: str = "", *, older_than: dt.timedelta | float | None = None
    ) -> int:
        """Abort the uploads under ``prefix`` started more than ``older_than``
        ago (seconds or timedelta; ``None`` aborts all). Returns how many."""
        age = None
        if older_than is not None:
            age = older_than if isinstance(older_than, dt.timedelta) else dt.timedelta(seconds=older_than)
        now = dt.datetime.now(dt.timezone.utc)
        stale = [
            u
            async for u in self.list_multipart_uploads(prefix)
            if age is None or u.initiated is None or now - u.initiated >= age
        ]
        for upload in stale:
            with self._context("abort_multipart", upload.path):
                await self._accessor.abort_multipart(upload.path, upload.upload_id)
        return len(stale)

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
            lister = self._accessor.list(p, op)
            try:
                async for entry in lister:
                    if after is not None and entry.path <= after:
                        continue  # services differ on prefixes holding start_after
                    yield entry
                    count += 1
                    if limit is not None and count >= limit:
                        return
            finally:
                await aclose_iterator(lister)

    # deletes -----------------------------------------------------------------------
    async def delete(self, path: str, *, version: str | None = None) -> None:
        """Delete a file (or an empty directory marker); a missing path succeeds."""
        p = normalize_path(path)
        cap = self.capability()
        self._require(cap.delete, "delete", p, "delete")
        if version is not None:
            self._require(cap.delete_with_version, "delete", p, "delete with version")
        if p == "/":
            return
        with self._context("delete", p):
            await self._accessor.delete(p, OpDelete(version=version))

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

    # server-side ------------------------------------------------------------------------
    async def copy(self, src: str, dst: str, *, progress: Progress | None = None) -> None:
        """Copy file ``src`` to ``dst``: server-side where the service can,
        else streamed through this process."""
        s, d = self._file_path(src, "copy"), self._file_path(dst, "copy")
        if s == d:
            raise errors.IsSameFile("source and destination are the same", operation="copy", path=s)
        cap = self.capability()
        with self._context("copy", s):
            if cap.copy:
                total = None
                if progress is not None:
                    total = (await self._accessor.stat(s, OpStat())).content_length
                await self._accessor.copy(s, d, OpCopy())
                await call_progress(progress, total or 0, total)
                return
            self._require(cap.read and cap.write, "copy", s, "copy")
            reader = self._open_reader(s, OpRead(), progress=progress)
            async with (
                reader,
                AsyncWriter(lambda: open_raw_writer(self._accessor, d, OpWrite()), path=d) as w,
            ):
                async for piece in reader:
                    await w.write(piece)

    async def rename(self, src: str, dst: str) -> None:
        """Move file ``src`` to ``dst`` (copy then delete where the service
        has no native rename)."""
        s, d = self._file_path(src, "rename"), self._file_path(dst, "rename")
        if s == d:
            raise errors.IsSameFile("source and destination are the same", operation="rename", path=s)
        cap = self.capability()
        with self._context("rename", s):
            if cap.rename:
                await self._accessor.rename(s, d, OpRename())
                return
            await self.copy(s, d)
            await self.delete(s)

    # presign ----------------------------------------------------------------------------
    async def _presign(
        self, path: str, method: str, flag: str, expire: float | dt.timedelta
    ) -> PresignedRequest:
        p = self._file_path(path, f"presign_{flag}")
        cap = self.capability()
        self._require(
            cap.presign and getattr(cap, f"presign_{flag}"), f"presign_{flag}", p, f"presign_{flag}"
        )
        op = OpPresign(method=method, expire=seconds(expire))
        with self._context(f"presign_{flag}", p):
            return await self._accessor.presign(p, op)

    async def presign_read(self, path: str, expire: float | dt.timedelta) -> PresignedRequest:
        """A signed GET request for ``path`` valid for ``expire`` (seconds or timedelta)."""
        return await self._presign(path, "GET", "read", expire)

    async def presign_write(self, path: str, expire: float | dt.timedelta) -> PresignedRequest:
        """A signed PUT request for ``path`` valid for ``expire``."""
        return await self._presign(path, "PUT", "write", expire)

    async def presign_stat(self, path: str, expire: float | dt.timedelta) -> PresignedRequest:
        """A signed HEAD request for ``path`` valid for ``expire``."""
        return await self._presign(path, "HEAD", "stat", expire)

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


async def _read_once(raw: RawReader, progress: Progress | None) -> bytes:
    """Drain one read's stream, reporting ``progress`` as the bytes arrive."""
    if progress is None:
        return await read_all(raw)
    total = raw.size
    done = 0

    async def arrived(n: int) -> None:
        nonlocal done
        done += n
        await call_progress(progress, done, total)

    data = await read_all(raw, arrived)
    if not done:
        await call_progress(progress, 0, total)
    return data


def _rebuild(scheme: str, config: dict[str, Any], layers: tuple[Layer, ...]) -> Operator:
    """Unpickle an :class:`Operator` (see :meth:`Operator.__reduce__`)."""
    op = Operator(scheme, **config)
    return op.layer(*layers) if layers else op
