"""The memory accessor: a sorted view over a dict of immutable objects."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import itertools
from collections.abc import AsyncIterator, Sequence

import anyio.lowlevel

from ...errors import ConditionNotMatch, NotFound, RangeNotSatisfied
from ...raw import capabilities as caps
from ...raw.accessor import Accessor, AccessorInfo, Buffer, RawReader, RawWriter
from ...raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpRead, OpRename, OpStat, OpWrite
from ...raw.path import normalize_root, parent_dirs
from ...types import Capability, Entry, EntryMode, Metadata

__all__ = ["MemoryAccessor", "MemoryConfig"]

CAPABILITY = Capability(
    **caps.BASICS,
    **caps.CONDITIONAL_READS,
    **caps.CONTENT_HEADERS,
    **caps.WRITE_PRECONDITIONS,
    **caps.LISTING,
    shared=False,
)


@dataclasses.dataclass(frozen=True)
class MemoryConfig:
    """Config of the memory service."""

    root: str | None = None
    name: str = "memory"


@dataclasses.dataclass(frozen=True, slots=True)
class _Object:
    data: bytes
    meta: Metadata


def _check_conditions(meta: Metadata, op: OpStat | OpRead, path: str) -> None:
    if op.if_match is not None and op.if_match not in ("*", meta.etag):
        raise ConditionNotMatch("if_match does not match the current etag", path=path)
    if op.if_none_match is not None and op.if_none_match in ("*", meta.etag):
        raise ConditionNotMatch("if_none_match matches the current etag", path=path)
    modified = meta.last_modified
    if modified is not None:
        if op.if_modified_since is not None and modified <= op.if_modified_since:
            raise ConditionNotMatch("not modified since if_modified_since", path=path)
        if op.if_unmodified_since is not None and modified > op.if_unmodified_since:
            raise ConditionNotMatch("modified since if_unmodified_since", path=path)


class _BytesReader(RawReader):
    def __init__(self, data: bytes, meta: Metadata) -> None:
        self._data: bytes | None = data
        self.size = len(data)
        self.metadata = meta

    async def read(self) -> bytes:
        data, self._data = self._data, None
        return data or b""


class _MemoryWriter(RawWriter):
    def __init__(self, accessor: MemoryAccessor, path: str, op: OpWrite) -> None:
        self._accessor = accessor
        self._path = path
        self._op = op
        self._parts: list[bytes] = []

    async def write(self, data: Buffer) -> None:
        self._parts.append(bytes(data))

    async def close(self) -> Metadata:
        # the commit point: a write cancelled before it (even one that never
        # reached another checkpoint) raises here and commits nothing
        await anyio.lowlevel.checkpoint()
        data = b"".join(self._parts)
        self._parts = []
        return self._accessor.put(self._path, data, self._op)

    async def abort(self) -> None:
        self._parts = []


class MemoryAccessor(Accessor):
    """Keeps objects in a dict keyed by their full path under the root."""

    def __init__(self, config: MemoryConfig) -> None:
        self._config = config
        self._root = normalize_root(config.root)
        self._info = AccessorInfo("memory", self._root, config.name, CAPABILITY)
        self._objects: dict[str, _Object] = {}
        self._sorted: list[str] = []
        self._versions = itertools.count(1)

    def info(self) -> AccessorInfo:
        return self._info

    def __repr__(self) -> str:
        return f"MemoryAccessor(root={self._root!r})"

    # store -------------------------------------------------------------------
    def _key(self, path: str) -> str:
        return self._root + ("" if path == "/" else path)

    def _rel(self, key: str) -> str:
        return key[len(self._root) :]

    def _set(self, key: str, obj: _Object) -> None:
        if key not in self._objects:
            bisect.insort(self._sorted, key)
        self._objects[key] = obj

    def _pop(self, key: str) -> _Object | None:
        obj = self._objects.pop(key, None)
        if obj is not None:
            del self._sorted[bisect.bisect_left(self._sorted, key)]
        return obj

    def _has_children(self, key: str) -> bool:
        i = bisect.bisect_left(self._sorted, key)
        return i < len(self._sorted) and self._sorted[i].startswith(key)

    def put(self, path: str, data: bytes, op: OpWrite) -> Metadata:
        """Store ``data`` at ``path`` after checking ``op``'s conditions."""
        key = self._key(path)
        current = self._objects.get(key)
        if (op.if_not_exists or op.if_none_match == "*") and current is not None:
            raise ConditionNotMatch("object already exists", operation="write", path=path)
        if (
            op.if_none_match not in (None, "*")
            and current is not None
            and current.meta.etag == op.if_none_match
        ):
            raise ConditionNotMatch("if_none_match matches the current etag", operation="write", path=path)
        if op.if_match is not None and (current is None or op.if_match not in ("*", current.meta.etag)):
            raise ConditionNotMatch("if_match does not match the current etag", operation="write", path=path)
        meta = Metadata(
            mode=EntryMode.FILE,
            content_length=len(data),
            content_type=op.content_type,
            cache_control=op.cache_control,
            content_disposition=op.content_disposition,
            content_encoding=op.content_encoding,
            user_metadata=dict(op.user_metadata) if op.user_metadata else None,
            etag='"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"',
            content_md5=None,
            last_modified=dt.datetime.now(dt.timezone.utc),
            version=str(next(self._versions)),
        )
        self._set(key, _Object(data, meta))
        return dataclasses.replace(meta)

    def _get(self, path: str, operation: str) -> _Object:
        obj = self._objects.get(self._key(path))
        if obj is None:
            raise NotFound("object not found", operation=operation, path=path)
        return obj

    # primitives ----------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        if path.endswith("/"):
            key = self._key(path)
            if path == "/" or key in self._objects or self._has_children(key):
                return Metadata(mode=EntryMode.DIR, content_length=0)
            raise NotFound("directory not found", operation="stat", path=path)
        obj = self._get(path, "stat")
        _check_conditions(obj.meta, op, path)
        return dataclasses.replace(obj.meta)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        for d in [*parent_dirs(path), path]:
            key = self._key(d)
            if key not in self._objects:
                self._set(key, _Object(b"", Metadata(mode=EntryMode.DIR, content_length=0)))

    async def read(self, path: str, op: OpRead) -> RawReader:
        obj = self._get(path, "read")
        _check_conditions(obj.meta, op, path)
        if op.offset > len(obj.data):  # what an HTTP service answers 416 for
            raise RangeNotSatisfied("the offset is past the end", operation="read", path=path)
        end = None if op.size is None else op.offset + op.size
        return _BytesReader(obj.data[op.offset : end], dataclasses.replace(obj.meta))

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        return _MemoryWriter(self, path, op)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        await anyio.lowlevel.checkpoint()  # a cancelled write never commits (see _MemoryWriter.close)
        return self.put(path, bytes(data), op)

    async def delete(self, path: str, op: OpDelete) -> None:
        self._pop(self._key(path))

    async def delete_batch(self, paths: Sequence[str]) -> None:
        for path in paths:
            self._pop(self._key(path))

    async def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        prefix = self._key(path) if path != "/" else self._root
        start = prefix
        if op.start_after is not None:
            start = max(start, self._key(op.start_after) + "\x00")
        # walk by key, not by index, so deletes during the listing skip nothing
        cursor, inclusive = start, True
        last_dir = None
        while True:
            find = bisect.bisect_left if inclusive else bisect.bisect_right
            i = find(self._sorted, cursor)
            if i >= len(self._sorted):
                break
            key = cursor = self._sorted[i]
            inclusive = False
            if not key.startswith(prefix):
                break
            rest = key[len(prefix) :]
            if not rest:
                continue
            if op.recursive:
                obj = self._objects[key]
                yield Entry(self._rel(key), dataclasses.replace(obj.meta))
                continue
            slash = rest.find("/")
            if slash == -1 or slash == len(rest) - 1:
                if slash != -1 and last_dir == rest:
                    continue
                obj = self._objects[key]
                if slash != -1:
                    last_dir = rest
                    yield Entry(self._rel(key), Metadata(mode=EntryMode.DIR, content_length=0))
                else:
                    yield Entry(self._rel(key), dataclasses.replace(obj.meta))
            else:
                child = rest[: slash + 1]
                if child == last_dir:
                    continue
                last_dir = child
                if op.start_after is not None and self._rel(prefix + child) <= op.start_after:
                    continue  # a directory holding start_after, or start_after itself
                yield Entry(self._rel(prefix + child), Metadata(mode=EntryMode.DIR))

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        obj = self._get(src, "copy")
        meta = dataclasses.replace(
            obj.meta,
            last_modified=dt.datetime.now(dt.timezone.utc),
            version=str(next(self._versions)),
        )
        self._set(self._key(dst), _Object(obj.data, meta))

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self.copy(src, dst, OpCopy())
        self._pop(self._key(src))
