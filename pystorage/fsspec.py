"""pystorage as an fsspec filesystem: pandas, pyarrow, dask, duckdb, polars,
zarr and xarray reach every pystorage service through it.

Two ways in::

    import fsspec
    from pystorage import Operator
    from pystorage.fsspec import PyStorageFileSystem

    fs = PyStorageFileSystem(Operator("s3", bucket="b", region="eu-west-1").layer(RetryLayer()))
    fs = fsspec.filesystem("pystorage", scheme="s3", bucket="b", region="eu-west-1")
    pd.read_parquet("pystorage://data/x.parquet", storage_options={"scheme": "s3", "bucket": "b"})

Paths of protocol ``pystorage`` are relative to the operator's root
(``"data/x.parquet"``). :func:`register` makes ``s3://``, ``gs://``,
``file://`` and ``memory://`` URLs go through pystorage too, with the usual
fsspec path shapes (``bucket/key``, absolute local paths).

Directory semantics follow s3fs/gcsfs on object stores: directories are
prefixes, ``mkdir`` creates nothing, and an empty directory does not exist;
on ``fs`` and ``memory`` directories are real. Nothing is cached between
calls (no listing cache): every answer reflects the store.

The filesystem is an ``AsyncFileSystem``: every ``_method`` runs natively on
pystorage's async API, and fsspec's sync mirror runs them on its IO thread.
It pickles (dask and Ray ship it to workers) as its operator's recipe; after
``os.fork()`` a child uses fresh connections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import pickle
import threading
import weakref
from collections.abc import Iterable
from typing import Any, ClassVar

import fsspec
import fsspec.asyn
from fsspec.asyn import AsyncFileSystem
from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.spec import AbstractBufferedFile, _Cached
from fsspec.utils import tokenize

from . import errors
from ._operator import Operator
from .types import Entry, Metadata

__all__ = [
    "PyStorageFileSystem",
    "PyStorageFile",
    "PyStorageGcsFileSystem",
    "PyStorageLocalFileSystem",
    "PyStorageMemoryFileSystem",
    "PyStorageS3FileSystem",
    "register",
]

#: bytes per piece streamed by ``get_file``/``put_file`` and per ranged request of large reads
CHUNK = 8 * 1024 * 1024
#: ranged requests (or multipart parts) in flight for one large transfer
CONCURRENT = 4
#: services whose directories exist on their own (elsewhere a directory is a key prefix)
_REAL_DIRECTORY_SCHEMES = frozenset({"fs", "memory"})
#: appended to ``name``: sorts after every key that sorts before ``name/`` (``"."`` is just below ``"/"``)
_BEFORE_SLASH = ".\U0010ffff"


class _Cache(_Cached):  # type: ignore[misc]
    """fsspec caches instances by the ``repr`` of their arguments, which for an
    operator does not include its endpoint or credentials: an instance built
    from an operator is cached by the operator's pickled recipe instead (or
    not at all, for an operator without one)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        operator = kwargs.get("operator", args[0] if args else None)
        if not isinstance(operator, Operator):
            return super().__call__(*args, **kwargs)
        if operator._origin is None or kwargs.pop("skip_instance_cache", False) or not cls.cachable:
            return super().__call__(*args, skip_instance_cache=True, **kwargs)
        try:
            recipe = hashlib.sha256(pickle.dumps(operator._origin)).hexdigest()
        except Exception:
            return super().__call__(*args, skip_instance_cache=True, **kwargs)
        rest = {k: v for k, v in kwargs.items() if k != "operator"}
        thread = threading.get_ident() if kwargs.get("asynchronous") else None
        token = tokenize(cls, os.getpid(), thread, recipe, args[1:], rest)
        with cls._instantiation_lock:
            if cls.__dict__.get("_pid") != os.getpid():
                cls._cache.clear()
                cls._pid = os.getpid()
            inst = cls._cache.get(token)
            if inst is None:
                inst = super().__call__(*args, skip_instance_cache=True, **kwargs)
                cls._cache[token] = inst
        return inst


def _close_quietly(loop: asyncio.AbstractEventLoop | None, operator: Operator, pid: int) -> None:
    """Finaliser: schedule closing the operator's clients on fsspec's loop, never
    waiting (it may run in a garbage-collection pass on any thread), and never in
    a forked child, where the parent's loop has no thread and its connections are
    not the child's to close."""
    if pid != os.getpid() or loop is None or loop.is_closed() or not loop.is_running():
        return
    closing = operator.close()
    try:
        asyncio.run_coroutine_threadsafe(closing, loop)
    except RuntimeError:
        closing.close()  # the loop stopped meanwhile: nothing to release


class PyStorageFileSystem(AsyncFileSystem, metaclass=_Cache):  # type: ignore[misc]
    """An fsspec ``AsyncFileSystem`` over a pystorage :class:`~pystorage.Operator`.

    Args:
        operator: the operator (with its layers) to use. Without it,
            ``scheme`` and the config keys build one.
        scheme: the service (``"s3"``, ``"gcs"``, ``"fs"``, ``"memory"`` …)
            when no operator is given.
        chunk: bytes per ranged request of large reads and per part of
            streamed writes (default 8 MiB).
        concurrent: ranged requests or parts in flight for one transfer (default 4).
        asynchronous: ``True`` to call the ``_methods`` from your own event loop
            (zarr's ``FsspecStore`` wants this); default ``False``: the sync
            methods run them on fsspec's IO thread.
        loop: the event loop of the sync methods (default: fsspec's).
        batch_size: coroutines run at once by bulk calls (fsspec's default).
        **config: the service's config keys (``bucket``, ``root``,
            ``endpoint``, ``access_key_id`` …) when no operator is given.

    Paths are relative to the operator's root; ``pystorage://`` prefixes
    are accepted. ``open`` returns a :class:`PyStorageFile`.
    """

    protocol: ClassVar[tuple[str, ...]] = ("pystorage",)
    root_marker = ""
    async_impl = True

    def __init__(
        self,
        operator: Operator | None = None,
        *,
        scheme: str | None = None,
        chunk: int = CHUNK,
        concurrent: int = CONCURRENT,
        asynchronous: bool = False,
        loop: Any = None,
        batch_size: int | None = None,
        **config: Any,
    ) -> None:
        super().__init__(asynchronous=asynchronous, loop=loop, batch_size=batch_size)
        if operator is None:
            if scheme is None:
                raise ValueError("PyStorageFileSystem needs an operator or scheme= (plus config keys)")
            operator = Operator(scheme, **config)
        elif scheme is not None or config:
            raise TypeError("give an operator or scheme= and config keys, not both")
        if not isinstance(operator, Operator):
            raise TypeError(f"expected a pystorage Operator, got {type(operator).__name__}")
        self.operator = operator
        self.chunk = chunk
        self.concurrent = concurrent
        if not asynchronous:
            weakref.finalize(self, _close_quietly, self._loop, operator, os.getpid())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.operator!r})"

    # fork safety: fsspec's own IO loop is restarted in a forked child; use the new one
    @property
    def loop(self) -> Any:
        pid = os.getpid()
        if self.__dict__.get("_pid") != pid:
            self._pid = pid
            self._loop = None if self.asynchronous else fsspec.asyn.get_loop()
        return self.__dict__.get("_loop")

    # paths ---------------------------------------------------------------------------
    def _route(self, path: str) -> tuple[Operator, str, str]:
        """``(operator, path relative to its root, prefix of names)`` of an fsspec path."""
        return self.operator, self._strip_protocol(path).strip("/"), ""

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        for proto in cls._protocols():
            if path.startswith(proto + "://"):
                path = path[len(proto) + 3 :]
                break
        return path.strip("/") if cls.root_marker == "" else cls.root_marker + path.strip("/")

    @classmethod
    def _protocols(cls) -> tuple[str, ...]:
        return (cls.protocol,) if isinstance(cls.protocol, str) else tuple(cls.protocol)

    def _real_dirs(self, op: Operator) -> bool:
        return op.info.scheme in _REAL_DIRECTORY_SCHEMES

    # metadata ------------------------------------------------------------------------
    @staticmethod
    def _file_info(name: str, meta: Metadata) -> dict[str, Any]:
        info: dict[str, Any] = {"name": name, "size": meta.content_length or 0, "type": "file"}
        if meta.etag is not None:
            info["etag"] = meta.etag
            info["ETag"] = meta.etag
        if meta.last_modified is not None:
            info["mtime"] = meta.last_modified
            info["LastModified"] = meta.last_modified
        if meta.version is not None:
            info["version"] = meta.version
        if meta.content_type is not None:
            info["content_type"] = meta.content_type
        return info

    @staticmethod
    def _dir_info(name: str) -> dict[str, Any]:
        return {"name": name, "size": 0, "type": "directory"}

    def _entry_info(self, prefix: str, entry: Entry) -> dict[str, Any]:
        if entry.path.endswith("/"):
            return self._dir_info(prefix + entry.path.rstrip("/"))
        return self._file_info(prefix + entry.path, entry.metadata)

    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        op, rel, prefix = self._route(path)
        if rel == "":
            return self._dir_info(prefix.rstrip("/") or self.root_marker)
        try:  # a file is the common case: one request
            meta = await op.stat(rel)
            return self._dir_info(prefix + rel) if meta.is_dir else self._file_info(prefix + rel, meta)
        except errors.NotFound:
            pass
        try:  # a directory marker, or any object below the prefix
            await op.stat(rel + "/")
        except errors.NotFound:
            raise FileNotFoundError(path) from None
        return self._dir_info(prefix + rel)

    async def _ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        op, rel, prefix = self._route(path)
        infos = [self._entry_info(prefix, e) async for e in op.list(rel + "/" if rel else "/")]
        if not infos:
            info = await self._info(path)  # FileNotFoundError when nothing is there
            infos = [] if info["type"] == "directory" else [info]
        infos.sort(key=lambda i: i["name"])
        return infos if detail else [i["name"] for i in infos]

    async def _find(
        self, path: str, maxdepth: int | None = None, withdirs: bool = False, **kwargs: Any
    ) -> Any:
        """One recursive listing (not a walk) when ``maxdepth`` is ``None``."""
        detail = kwargs.pop("detail", False)
        op, rel, prefix = self._route(path)
        if maxdepth is not None or not op.capability().list_with_recursive:
            return await super()._find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        out: dict[str, dict[str, Any]] = {}
        base = rel + "/" if rel else "/"
        async for entry in op.list(base, recursive=True):
            info = self._entry_info(prefix, entry)
            if info["type"] == "file" or withdirs:
                out[info["name"]] = info
            if withdirs:  # the directories implied by the key, below ``path``
                parts = entry.path.rstrip("/").split("/")[:-1]
                for depth in range(len(base.strip("/").split("/")) if rel else 0, len(parts)):
                    name = prefix + "/".join(parts[: depth + 1])
                    out.setdefault(name, self._dir_info(name))
        if out and withdirs and rel:
            out.setdefault(prefix + rel, self._dir_info(prefix + rel))
        if not out:
            found: dict[str, Any] | None = None
            try:
                found = await self._info(path)
            except FileNotFoundError:
                pass
            if found is not None and (found["type"] == "file" or withdirs):
                out[found["name"]] = found
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    async def _modified(self, path: str) -> dt.datetime:
        info = await self._info(path)
        if info["type"] != "file" or info.get("mtime") is None:
            raise IsADirectoryError(path) if info["type"] != "file" else FileNotFoundError(path)
        modified: dt.datetime = info["mtime"]
        return modified

    def modified(self, path: str) -> dt.datetime:
        """Last modification time (timezone-aware UTC) of a file."""
        result: dt.datetime = fsspec.asyn.sync(self.loop, self._modified, path)
        return result

    def checksum(self, path: str) -> int:
        """An int that changes when the file does: from its etag (its mtime and size without one)."""
        info = self.info(path)
        key = info.get("etag") or f"{info.get('mtime')}-{info['size']}"
        return int(hashlib.md5(str(key).encode(), usedforsecurity=False).hexdigest(), 16)

    def ukey(self, path: str) -> str:
        """A unique key of the file's current content: its etag (else mtime and size)."""
        info = self.info(path)
        return str(info.get("etag") or tokenize(info.get("mtime"), info["size"]))

    def sign(self, path: str, expiration: int = 100, **kwargs: Any) -> str:
        """A presigned GET URL of ``path`` valid for ``expiration`` seconds (``presign_read``)."""
        op, rel, _ = self._route(path)
        request = fsspec.asyn.sync(self.loop, op.presign_read, rel, expiration)
        url: str = request.url
        return url

    # reads -----------------------------------------------------------------------------
    async def _cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        op, rel, _ = self._route(path)
        if (start is None or start == 0) and end is None:
            return await op.read(rel)
        if (start is not None and start < 0) or (end is not None and end < 0):
            size = (await op.stat(rel)).content_length or 0
            start = max(0, size + start) if start is not None and start < 0 else start
            end = max(0, size + end) if end is not None and end < 0 else end
        offset = start or 0
        length = None if end is None else max(0, end - offset)
        if length == 0:
            return b""
        try:
            return await op.read(rel, offset=offset, size=length, **self._chunking(length))
        except errors.RangeNotSatisfied:
            return b""  # fsspec: a range past the end is empty

    def _part_size(self, op: Operator) -> int:
        """``chunk``, raised to the service's smallest multipart part if need be."""
        return max(self.chunk, op.capability().write_multi_min_size or 0)

    def _chunking(self, length: int | None) -> dict[str, Any]:
        if length is not None and length > 2 * self.chunk:
            return {"chunk": self.chunk, "concurrent": self.concurrent}
        return {}

    async def _cat_ranges(
        self,
        paths: list[str],
        starts: Any,
        ends: Any,
        max_gap: int | None = None,
        batch_size: int | None = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[Any]:
        """Ranges grouped by file and fetched with :meth:`Operator.read_ranges`
        (coalesced, concurrent, pinned to one version per file)."""
        if not isinstance(paths, list):
            raise TypeError("paths must be a list")
        if not isinstance(starts, Iterable):
            starts = [starts] * len(paths)
        if not isinstance(ends, Iterable):
            ends = [ends] * len(paths)
        starts, ends = list(starts), list(ends)
        if len(starts) != len(paths) or len(ends) != len(paths):
            raise ValueError("paths, starts and ends must have the same length")
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(paths):
            groups.setdefault(self._strip_protocol(p), []).append(i)
        out: list[Any] = [None] * len(paths)
        coalesce = max_gap if max_gap is not None else None

        async def one_file(path: str, indices: list[int]) -> None:
            op, rel, _ = self._route(path)
            try:
                wanted = [(starts[i], ends[i]) for i in indices]
                if any((s is not None and s < 0) or (e is not None and e < 0) for s, e in wanted):
                    size = (await op.stat(rel)).content_length or 0
                    wanted = [(_from_end(s, size), _from_end(e, size)) for s, e in wanted]
                ranges = [(max(0, s or 0), None if e is None else max(0, e - (s or 0))) for s, e in wanted]
                options: dict[str, Any] = {} if coalesce is None else {"coalesce": coalesce}
                datas = await op.read_ranges(rel, ranges, **options)
            except Exception as exc:  # NotFound is a FileNotFoundError, as fsspec callers expect
                for i in indices:
                    out[i] = exc
                return
            for i, data in zip(indices, datas, strict=True):
                out[i] = data

        await _gather_limited([one_file(p, ix) for p, ix in groups.items()], batch_size or 16)
        if on_error != "return":
            for item in out:
                if isinstance(item, BaseException):
                    raise item
        return out

    async def _get_file(
        self, rpath: str, lpath: str, callback: Any = DEFAULT_CALLBACK, **kwargs: Any
    ) -> None:
        """Stream a file to local disk (bounded memory: ``chunk × concurrent``)."""
        if await asyncio.to_thread(os.path.isdir, lpath):
            return
        op, rel, _ = self._route(rpath)
        reader = await op.open(rel, "rb", chunk=self.chunk, concurrent=self.concurrent)
        try:
            size = reader.metadata.content_length if reader.metadata else None
            callback.set_size(size)
            done = 0
            out = await asyncio.to_thread(open, lpath, "wb")
            try:
                async for piece in reader:
                    await asyncio.to_thread(out.write, piece)
                    done += len(piece)
                    callback.absolute_update(done)
            finally:
                await asyncio.to_thread(out.close)
        except BaseException:
            await asyncio.to_thread(_unlink_quietly, lpath)
            raise
        finally:
            await reader.close()

    # writes ----------------------------------------------------------------------------
    async def _pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        op, rel, _ = self._route(path)
        try:
            await op.write(rel, value, if_not_exists=mode == "create", **_write_options(kwargs))
        except errors.ConditionNotMatch as exc:
            raise FileExistsError(path) from exc

    async def _put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Any = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        """Stream a local file up (multipart where the service has it; bounded memory)."""
        op, rel, _ = self._route(rpath)
        if await asyncio.to_thread(os.path.isdir, lpath):
            if rel and self._real_dirs(op):
                await op.create_dir(rel + "/")
            return
        callback.set_size(await asyncio.to_thread(os.path.getsize, lpath))

        async def pieces() -> Any:
            src = await asyncio.to_thread(open, lpath, "rb")
            try:
                while True:
                    piece = await asyncio.to_thread(src.read, self.chunk)
                    if not piece:
                        return
                    yield piece
            finally:
                await asyncio.to_thread(src.close)

        def progress(done: int, total: int | None) -> None:
            callback.absolute_update(done)

        try:
            await op.write(
                rel,
                pieces(),
                if_not_exists=mode == "create",
                chunk=self._part_size(op),
                concurrent=self.concurrent,
                progress=progress,
                **_write_options(kwargs),
            )
        except errors.ConditionNotMatch as exc:
            raise FileExistsError(rpath) from exc

    async def _cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Server-side copy where the service can (streamed otherwise, and across buckets)."""
        op1, rel1, _ = self._route(path1)
        op2, rel2, _ = self._route(path2)
        try:
            if op1 is op2:
                await op1.copy(rel1, rel2)
                return
            async with op1.open(rel1, "rb", chunk=self.chunk) as reader, op2.open(rel2, "wb") as writer:
                async for piece in reader:
                    await writer.write(piece)
        except (errors.NotFound, errors.IsADirectory):
            if (await self._info(path1))["type"] != "directory":
                raise
            await self._mkdir(path2)

    async def _mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Create a directory on ``fs``/``memory``; nothing on object stores (a prefix exists
        once an object is under it, as in s3fs and gcsfs)."""
        op, rel, _ = self._route(path)
        if rel and self._real_dirs(op):
            if not create_parents and "/" in rel and not await self._isdir(path.rsplit("/", 1)[0]):
                raise FileNotFoundError(path)
            await op.create_dir(rel + "/")

    async def _makedirs(self, path: str, exist_ok: bool = False) -> None:
        if not exist_ok and await self._exists(path):
            raise FileExistsError(path)
        await self._mkdir(path, create_parents=True)

    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        op, rel, _ = self._route(path)
        await op.delete(rel)

    async def _rm(
        self,
        path: Any,
        recursive: bool = False,
        batch_size: int | None = None,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Delete files with batched ``delete_many`` (S3 DeleteObjects), then
        directories deepest first. A recursive delete lists each tree once
        instead of stat'ing every path.

        On object stores the only directories deleted are marker objects
        (``dir/`` keys) that exist on their own; the prefixes implied by file
        keys vanish with their files, as in s3fs. (Deleting an implied ``dir/``
        is an rmdir on ``rclone serve s3``, which races with rclone's own
        removal of emptied parents and answers 500 "directory not empty".)"""
        files: dict[int, tuple[Operator, list[str]]] = {}
        dirs: list[tuple[Operator, str]] = []
        for p in await self._expand_path(path, recursive=False, maxdepth=None if recursive else maxdepth):
            op, rel, _ = self._route(p)
            if recursive and not self._real_dirs(op) and op.capability().list_with_recursive:
                found = await self._tree_keys(op, rel, maxdepth)
            elif recursive:
                infos = await self._find(p, maxdepth=maxdepth, withdirs=True, detail=True)
                found = [self._route(n)[1] + ("/" * (i["type"] == "directory")) for n, i in infos.items()]
            else:
                found = []
            if not found:  # nothing below it: a file, an empty directory or a marker on its own
                found = [rel + "/" if (await self._info(p))["type"] == "directory" else rel]
            for key in found:
                if key.rstrip("/"):
                    if key.endswith("/"):
                        dirs.append((op, key))
                    else:
                        files.setdefault(id(op), (op, []))[1].append(key)
        for op, rels in files.values():
            await op.delete_many(rels)
        for op, d in sorted(dirs, key=lambda od: od[1].count("/"), reverse=True):
            await op.delete(d)

    async def _tree_keys(self, op: Operator, rel: str, maxdepth: int | None) -> list[str]:
        """The keys of an object store below ``rel`` (one recursive listing), to
        ``maxdepth`` levels: files, the marker objects listed as entries of their
        own, and ``rel/`` itself if it is one."""
        base = rel + "/" if rel else "/"
        keys = []
        async for entry in op.list(base, recursive=True):
            depth = entry.path[len(base) if rel else 0 :].rstrip("/").count("/") + 1
            if maxdepth is None or depth <= maxdepth:
                keys.append(entry.path)
        if keys and rel and await self._is_marker(op, rel):
            keys.append(base)
        return keys

    @staticmethod
    async def _is_marker(op: Operator, rel: str) -> bool:
        """Whether the object store holds a ``rel/`` marker object. A listing never
        yields the directory listed, so the parent is listed from just before ``rel/``:
        the first key there is ``rel/`` when the marker exists."""
        parent = rel.rsplit("/", 1)[0] + "/" if "/" in rel else "/"
        if not op.capability().list_with_start_after:
            return True  # cannot tell: try the delete, as a missing key deletes quietly
        async for entry in op.list(parent, recursive=True, start_after=rel + _BEFORE_SLASH, limit=1):
            return entry.path == rel + "/"
        return False

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PyStorageFile:
        return PyStorageFile(
            self,
            path,
            mode=mode,
            block_size=block_size or self.chunk,
            autocommit=autocommit,
            cache_options=cache_options,
            **kwargs,
        )


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _from_end(offset: int | None, size: int) -> int | None:
    """A negative fsspec offset counts from the end."""
    return size + offset if offset is not None and offset < 0 else offset


def _write_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The pystorage write options among fsspec's keyword arguments (others are ignored, as fsspec does)."""
    names = ("content_type", "cache_control", "content_disposition", "content_encoding", "user_metadata")
    options = {k: kwargs[k] for k in names if kwargs.get(k) is not None}
    if "ContentType" in kwargs and "content_type" not in options:
        options["content_type"] = kwargs["ContentType"]
    return options


async def _gather_limited(coros: list[Any], limit: int) -> None:
    semaphore = asyncio.Semaphore(max(1, limit))

    async def run(coro: Any) -> None:
        async with semaphore:
            await coro

    await asyncio.gather(*(run(c) for c in coros))


class PyStorageFile(AbstractBufferedFile):  # type: ignore[misc]
    """A file of a :class:`PyStorageFileSystem` (``fs.open(path, mode)``).

    Reads (``"rb"``) are seekable and cached by fsspec's block cache
    (``cache_type``, default ``"readahead"``); each miss is one ranged read
    through pystorage's ranged engine (split into ``chunk``-sized concurrent
    requests when large), pinned to the etag seen at open, so a file that
    changes while open raises ``ConditionNotMatch`` instead of mixing bytes.

    Writes stream through pystorage's writer (multipart on object stores):
    ``"wb"`` replaces the file on a clean close, ``"xb"`` fails with
    ``FileExistsError`` if it exists (``if_not_exists``), ``"ab"`` appends
    where the service can (``write_can_append``: fs, gcs; elsewhere
    ``Unsupported`` before any request, never an overwrite). Nothing is
    visible until ``close()``; leaving a ``with`` block by an exception aborts
    the upload. Memory held: ``block_size`` plus the writer's bound.
    """

    fs: PyStorageFileSystem

    def __init__(self, fs: PyStorageFileSystem, path: str, mode: str = "rb", **kwargs: Any) -> None:
        self._writer: Any = None
        op, rel, _ = fs._route(path)
        self._op, self._rel = op, rel
        if mode == "ab" and not op.capability().write_can_append:
            self._unclosable = True  # never initialised: nothing to close
            raise errors.Unsupported(
                f"append is not supported by service {op.info.scheme!r}", operation="write", path=rel
            )
        if mode == "xb" and fs.exists(path):  # fail early; the write is still conditional
            self._unclosable = True
            raise FileExistsError(path)
        super().__init__(fs, path, mode=mode, **kwargs)
        if mode == "rb":
            self.etag: str | None = self.details.get("etag")
            if self.details.get("type") == "directory":
                raise IsADirectoryError(path)

    def _fetch_range(self, start: int, end: int) -> bytes:
        if start >= end:
            return b""
        return self._sync(self._fetch_range_async(start, end))  # type: ignore[no-any-return]

    async def _fetch_range_async(self, start: int, end: int) -> bytes:
        cap = self._op.capability()
        pin = self.etag if self.etag and cap.read_with_if_match else None
        try:
            return await self._op.read(
                self._rel, offset=start, size=end - start, if_match=pin, **self.fs._chunking(end - start)
            )
        except errors.RangeNotSatisfied:
            return b""

    def _sync(self, coro: Any) -> Any:
        return fsspec.asyn.sync(self.fs.loop, lambda: coro)

    def _initiate_upload(self) -> None:
        mode = {"wb": "wb", "xb": "wb", "ab": "ab"}[self.mode]
        options: dict[str, Any] = _write_options(self.kwargs)
        if self.mode == "xb":
            options["if_not_exists"] = True
        if mode == "wb":
            options.update(chunk=self.fs._part_size(self._op), concurrent=self.fs.concurrent)

        async def opened() -> Any:
            return await self._op.open(self._rel, mode, **options)

        self._writer = self._sync(opened())

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        if self._writer is None:
            self._initiate_upload()
        try:
            if data:
                self._sync(self._writer.write(data))
            if final:
                self._sync(self._writer.close())
        except errors.ConditionNotMatch as exc:
            self._abort()
            raise FileExistsError(self.path) from exc
        except BaseException:
            self._abort()
            raise
        return True

    def _abort(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                self._sync(writer.abort())
            except Exception:
                pass  # the original error matters more

    def discard(self) -> None:
        """Abort the upload: nothing is written."""
        self._abort()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and self.writable() and not self.__dict__.get("closed", False):
            self._abort()
            self.closed = True
            return
        self.close()


#: s3fs ``client_kwargs`` keys and their pystorage names
_CLIENT_KWARGS = {"region_name": "region", "endpoint_url": "endpoint"}


class PyStorageBucketFileSystem(PyStorageFileSystem):
    """Base of the filesystems :func:`register` installs for ``s3://`` and
    ``gs://`` URLs: the first path segment is the bucket, the config keys
    are shared by all buckets (one operator per bucket, built on first use)."""

    _scheme: ClassVar[str] = ""
    #: s3fs/gcsfs storage_options accepted and renamed to pystorage's keys
    _aliases: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        chunk: int = CHUNK,
        concurrent: int = CONCURRENT,
        asynchronous: bool = False,
        loop: Any = None,
        batch_size: int | None = None,
        **config: Any,
    ) -> None:
        AsyncFileSystem.__init__(self, asynchronous=asynchronous, loop=loop, batch_size=batch_size)
        self.chunk, self.concurrent = chunk, concurrent
        self._config = self._translate(config)
        self._operators: dict[str, Operator] = {}
        self._lock = threading.Lock()
        Operator(self._scheme, bucket="config-check", **self._config)  # invalid config fails now
        self.operator = None  # type: ignore[assignment]  # one operator per bucket, see _route

    def __repr__(self) -> str:
        return f"{type(self).__name__}(buckets={sorted(self._operators)!r})"

    @classmethod
    def _translate(cls, config: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in config.items():
            if key == "client_kwargs" and isinstance(value, dict):
                for k, v in value.items():
                    out[_CLIENT_KWARGS.get(str(k), str(k))] = v
            elif key == "anon":
                out["allow_anonymous"] = bool(value)
            else:
                out[cls._aliases.get(key, key)] = value
        return out

    def _route(self, path: str) -> tuple[Operator, str, str]:
        stripped = self._strip_protocol(path).strip("/")
        bucket, _, rel = stripped.partition("/")
        if not bucket:
            raise ValueError(f"{path!r} names no bucket: use {self._protocols()[0]}://bucket/key")
        with self._lock:
            op = self._operators.get(bucket)
            if op is None:
                op = self._operators[bucket] = Operator(self._scheme, bucket=bucket, **self._config)
        return op, rel, bucket + "/"

    def _real_dirs(self, op: Operator) -> bool:
        return False

    @classmethod
    def _get_kwargs_from_urls(cls, path: str) -> dict[str, Any]:
        return {}


class PyStorageS3FileSystem(PyStorageBucketFileSystem):
    """``s3://bucket/key`` through pystorage's s3 service (see :func:`register`).
    Takes pystorage's s3 config keys, or s3fs's ``key``, ``secret``, ``token``,
    ``endpoint_url``, ``anon`` and ``client_kwargs={"region_name": ...}``."""

    protocol = ("s3", "s3a")
    _scheme = "s3"
    _aliases: ClassVar[dict[str, str]] = {
        "key": "access_key_id",
        "secret": "secret_access_key",
        "token": "session_token",
        "endpoint_url": "endpoint",
    }


class PyStorageGcsFileSystem(PyStorageBucketFileSystem):
    """``gs://bucket/key`` (and ``gcs://``) through pystorage's gcs service (see :func:`register`)."""

    protocol = ("gs", "gcs")
    _scheme = "gcs"
    _aliases: ClassVar[dict[str, str]] = {"endpoint_url": "endpoint"}


class PyStorageLocalFileSystem(PyStorageFileSystem):
    """``file://`` and local absolute paths through pystorage's fs service, rooted at ``/``."""

    protocol = ("file", "local")
    root_marker = "/"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Operator("fs", root="/"), **kwargs)

    def _route(self, path: str) -> tuple[Operator, str, str]:
        stripped = self._strip_protocol(path)
        return self.operator, stripped.strip("/"), "/"

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        for proto in cls._protocols():
            if path.startswith(proto + "://"):
                path = path[len(proto) + 3 :]
                break
        return "/" + os.path.abspath(path).strip("/") if path else "/"


#: the store every ``memory://`` URL shares once registered, as in fsspec's own memory filesystem
_MEMORY: Operator | None = None


class PyStorageMemoryFileSystem(PyStorageFileSystem):
    """``memory://`` through pystorage's memory service: one store per process."""

    protocol = ("memory",)
    root_marker = "/"

    def __init__(self, **kwargs: Any) -> None:
        global _MEMORY
        if _MEMORY is None:
            _MEMORY = Operator("memory")
        super().__init__(_MEMORY, **kwargs)

    def _route(self, path: str) -> tuple[Operator, str, str]:
        return self.operator, self._strip_protocol(path).strip("/"), "/"


_BY_PROTOCOL: dict[str, type[PyStorageFileSystem]] = {
    "s3": PyStorageS3FileSystem,
    "s3a": PyStorageS3FileSystem,
    "gs": PyStorageGcsFileSystem,
    "gcs": PyStorageGcsFileSystem,
    "file": PyStorageLocalFileSystem,
    "local": PyStorageLocalFileSystem,
    "memory": PyStorageMemoryFileSystem,
}


def register(*protocols: str) -> None:
    """Make fsspec serve ``protocols`` (default ``"s3"``, ``"s3a"``, ``"gs"``,
    ``"gcs"``) with pystorage, replacing s3fs/gcsfs for this process::

        pystorage.fsspec.register("s3")
        pd.read_parquet("s3://bucket/x.parquet", storage_options={"endpoint": "http://…"})

    Also ``"file"``, ``"local"`` and ``"memory"``. The protocol
    ``pystorage`` is always available (an entry point) and needs no call.

    Raises:
        ValueError: a protocol pystorage does not serve.
    """
    for proto in protocols or ("s3", "s3a", "gs", "gcs"):
        cls = _BY_PROTOCOL.get(proto)
        if cls is None:
            raise ValueError(f"pystorage serves no fsspec protocol {proto!r} (known: {sorted(_BY_PROTOCOL)})")
        fsspec.register_implementation(proto, cls, clobber=True)
