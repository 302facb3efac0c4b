"""The fsspec ``AsyncFileSystem`` over one pystorage :class:`~pystorage.Operator`."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import weakref
from collections.abc import Iterable
from typing import Any, ClassVar

import fsspec
import fsspec.asyn
from fsspec.asyn import AsyncFileSystem
from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.utils import tokenize

from .. import errors
from .._operator import Operator
from ..types import Entry, Metadata
from ._file import PyStorageFile, _write_options
from ._instances import _Cache, _close_quietly

__all__ = ["CHUNK", "CONCURRENT", "PyStorageFileSystem"]

#: bytes per piece streamed by ``get_file``/``put_file`` and per ranged request of large reads
CHUNK = 8 * 1024 * 1024
#: ranged requests (or multipart parts) in flight for one large transfer
CONCURRENT = 4
#: services whose directories exist on their own (elsewhere a directory is a key prefix)
_REAL_DIRECTORY_SCHEMES = frozenset({"fs", "memory"})
#: appended to ``name``: sorts after every key that sorts before ``name/`` (``"."`` is just below ``"/"``)
_BEFORE_SLASH = ".\U0010ffff"


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
        self.chunk = chunk
        self.concurrent = concurrent
        self.operator = self._operator_from(operator, scheme, config)
        if not asynchronous and self.operator is not None:
            weakref.finalize(self, _close_quietly, self._loop, self.operator, os.getpid())

    def _operator_from(
        self, operator: Operator | None, scheme: str | None, config: dict[str, Any]
    ) -> Operator:
        """The operator of the constructor's arguments (subclasses that route
        paths to several operators take config keys instead)."""
        if operator is None:
            if scheme is None:
                raise ValueError("PyStorageFileSystem needs an operator or scheme= (plus config keys)")
            return Operator(scheme, **config)
        if scheme is not None or config:
            raise TypeError("give an operator or scheme= and config keys, not both")
        if not isinstance(operator, Operator):
            raise TypeError(f"expected a pystorage Operator, got {type(operator).__name__}")
        return operator

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
        return cls._normalise(path)

    @classmethod
    def _normalise(cls, path: str) -> str:
        """A path without its protocol, in this filesystem's shape (relative; ``root_marker`` first)."""
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
        """Ranged-engine options of a read of ``length`` bytes: one request up to
        ``2 × chunk``; above, pieces of at most ``chunk`` in whole rounds of
        ``concurrent`` (40 MiB: 8 × 5 MiB, not 5 × 8 MiB whose last piece runs
        alone: Parquet readers ask for ~32 MiB at a time)."""
        if length is None or length <= 2 * self.chunk:
            return {}
        rounds = -(-length // (self.chunk * self.concurrent))
        return {"chunk": -(-length // (rounds * self.concurrent)), "concurrent": self.concurrent}

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
            await self._rm_dir(op, d)

    async def _rm_dir(self, op: Operator, d: str) -> None:
        """Delete directory ``d`` (``dir/``): a real one, or an object store's marker.

        On an object store a refused marker delete whose prefix no longer lists
        anything is done as far as any client can tell: ``rclone serve s3``
        answers 500 "directory not empty" to the rmdir of a folder that still
        holds its own hidden ``.rclone_temp_*`` files (a PUT that raced, see
        docs/services/s3.md). Anything still listed there is a real failure.
        """
        try:
            await op.delete(d)
        except errors.Unexpected:  # a server error (never a refusal such as PermissionDenied)
            if self._real_dirs(op) or not op.capability().list:
                raise
            async for _ in op.list(d, recursive=True, limit=1):
                raise

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


async def _gather_limited(coros: list[Any], limit: int) -> None:
    semaphore = asyncio.Semaphore(max(1, limit))

    async def run(coro: Any) -> None:
        async with semaphore:
            await coro

    await asyncio.gather(*(run(c) for c in coros))
