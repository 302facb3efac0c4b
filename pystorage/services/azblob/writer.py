"""Appends on azblob (``write(append=True)``, ``open(path, "ab")``).

:class:`AzblobAppendWriter` looks at the blob once, on first use:

* missing: it is created as an **append blob** (Put Blob
  ``x-ms-blob-type: AppendBlob`` with ``If-None-Match: *``);
* an append blob: every piece is an Append Block sent with
  ``x-ms-blob-condition-appendpos: <length the writer expects>``, so a
  second appender that got in between makes the service answer 412 and
  the write fails with ``ConditionNotMatch`` — two appenders never
  interleave silently. Appended blocks are visible at once (an append
  blob cannot hold back committed blocks), so an aborted append may leave
  the pieces already sent;
* a block blob (written by ``write``): the new bytes are staged as blocks
  and committed after the blob's committed blocks by Put Block List with
  ``If-Match: <etag seen>`` (nothing is visible until ``close``). A blob
  written by Put Blob has no committed block list: its bytes are first
  re-staged as blocks (read back and uploaded once; later appends need
  not). The blob's content headers and metadata are kept.

Page blobs cannot be appended to (``Unsupported``).
"""

from __future__ import annotations

import uuid

from ...errors import ConditionNotMatch, NotFound, Unsupported
from ...raw.accessor import Buffer, RawWriter
from ...raw.buffered import as_view
from ...raw.ops import OpRead, OpStat, OpWrite
from ...types import Metadata
from .answers import metadata_from_headers
from .core import AzblobCore, block_id
from .errors import SCHEME, map_errors

__all__ = ["MAX_APPEND_BLOCK", "AzblobAppendWriter"]

#: the largest Append Block (4 MiB for the API version used)
MAX_APPEND_BLOCK = 4 * 1024 * 1024
#: pieces of a Put Blob blob re-staged as blocks before a block-blob append
RESTAGE_PIECE = 8 * 1024 * 1024


class AzblobAppendWriter(RawWriter):
    """An append to one blob (see the module docs).

    Args:
        core: the Blob service calls.
        path: the target path.
        op: the write options (``op.append`` is set).
    """

    def __init__(self, core: AzblobCore, path: str, op: OpWrite) -> None:
        self._core = core
        self._path = path
        self._key = core.key(path)
        self._op = op
        self._kind: str | None = None  # "append" or "blocks" once prepared
        self._position = 0
        self._etag: str | None = None
        self._upload = uuid.uuid4().hex
        self._blocks: list[tuple[str, str]] = []
        self._base: Metadata | None = None
        self._done = False

    async def _prepare(self) -> None:
        core, op = self._core, self._op
        try:
            with map_errors("write", self._path, container=core.container):
                headers = await core.get_blob_properties(self._key, OpStat(sse=op.sse))
        except NotFound:
            if op.if_match is not None:
                raise ConditionNotMatch(
                    "if_match: the blob does not exist", operation="write", path=self._path, service=SCHEME
                ) from None
            with map_errors("write", self._path, container=core.container):
                created = await core.create_append_blob(self._key, op, if_none_match=True)
            self._kind, self._position, self._etag = "append", 0, created.get("etag")
            return
        meta = metadata_from_headers(headers)
        if op.if_not_exists:
            raise ConditionNotMatch(
                "if_not_exists: the blob exists", operation="write", path=self._path, service=SCHEME
            )
        if op.if_match is not None and op.if_match != meta.etag:
            raise ConditionNotMatch(
                "if_match: the etag differs", operation="write", path=self._path, service=SCHEME
            )
        if op.if_none_match is not None and op.if_none_match == meta.etag:
            raise ConditionNotMatch(
                "if_none_match: the etag matches", operation="write", path=self._path, service=SCHEME
            )
        kind = headers.get("x-ms-blob-type", "BlockBlob")
        self._position = meta.content_length or 0
        self._etag = meta.etag
        self._base = meta
        if kind == "AppendBlob":
            self._kind = "append"
        elif kind == "BlockBlob":
            self._kind = "blocks"
            await self._adopt_blocks(meta)
        else:
            raise Unsupported(
                f"cannot append to a {kind}", operation="write", path=self._path, service=SCHEME
            )

    async def _adopt_blocks(self, meta: Metadata) -> None:
        core = self._core
        with map_errors("write", self._path, container=core.container):
            committed = await core.get_block_list(self._key, etag=self._etag)
        ours = len(block_id(self._upload, 1))
        if committed and all(len(name) == ours for name, _ in committed):
            self._blocks = [("Committed", name) for name, _ in committed]
            return
        # a Put Blob blob (no block list) or foreign block ids: re-stage its bytes once
        offset, length = 0, meta.content_length or 0
        while offset < length:
            size = min(RESTAGE_PIECE, length - offset)
            read = OpRead(offset=offset, size=size, if_match=self._etag, sse=self._op.sse)
            with map_errors("write", self._path, container=core.container):
                response = await core.get_blob(
                    self._key, read, range_header=f"bytes={offset}-{offset + size - 1}"
                )
                try:
                    data = await response.read()
                finally:
                    response.release()
            if len(data) != size:
                raise ConditionNotMatch(
                    "the blob changed while its blocks were re-staged",
                    operation="write",
                    path=self._path,
                    service=SCHEME,
                )
            await self._stage(data)
            offset += size

    async def _stage(self, data: Buffer) -> None:
        name = block_id(self._upload, len(self._blocks) + 1)
        with map_errors("write", self._path, container=self._core.container):
            await self._core.put_block(self._key, name, data, self._op)
        self._blocks.append(("Uncommitted", name))

    async def write(self, data: Buffer) -> None:
        if self._done:
            raise ValueError("the writer is closed")
        if self._kind is None:
            await self._prepare()
        view = as_view(data)
        if self._kind == "blocks":
            if len(view):
                await self._stage(view)
            self._position += len(view)
            return
        for start in range(0, len(view), MAX_APPEND_BLOCK):
            piece = view[start : start + MAX_APPEND_BLOCK]
            with map_errors("write", self._path, container=self._core.container):
                answer = await self._core.append_block(self._key, piece, self._op, position=self._position)
            self._position += len(piece)
            self._etag = answer.get("etag", self._etag)

    async def close(self) -> Metadata:
        if self._done:
            raise ValueError("the writer is closed")
        if self._kind is None:
            await self._prepare()
        self._done = True
        if self._kind == "blocks":
            base = self._base or Metadata()
            op = self._op
            kept = OpWrite(
                content_type=op.content_type or base.content_type,
                cache_control=op.cache_control or base.cache_control,
                content_disposition=op.content_disposition or base.content_disposition,
                content_encoding=op.content_encoding or base.content_encoding,
                user_metadata=op.user_metadata if op.user_metadata is not None else base.user_metadata,
                sse=op.sse,
            )
            with map_errors("write", self._path, container=self._core.container):
                answer = await self._core.put_block_list(self._key, self._blocks, kept, etag=self._etag)
            meta = metadata_from_headers(answer)
        else:
            meta = Metadata(etag=self._etag)
        meta.content_length = self._position
        return meta

    async def abort(self) -> None:
        # staged blocks are dropped by the service (uncommitted blocks expire after 7 days);
        # appended blocks of an append blob are already part of it
        self._done = True
