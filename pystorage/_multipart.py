"""Explicit, resumable multipart uploads: the :class:`MultipartUpload` handle
and the Operator's calls that make and clean them up (:class:`MultipartCalls`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from . import errors
from ._operator_base import OperatorBase
from ._writer import check_bytes
from .raw.accessor import Accessor
from .raw.buffered import as_view
from .raw.multipart import check_part_size
from .raw.ops import OpWrite
from .raw.path import normalize_path
from .types import Metadata, Part, UploadInfo

__all__ = ["MultipartCalls", "MultipartUpload"]


class MultipartUpload:
    """A multipart upload that survives restarts.

    Made by ``await op.create_multipart(path)`` or, after a restart,
    ``op.resume_multipart(path, upload_id)``. Parts may be written in any
    order and concurrently; :meth:`complete` assembles them in number order.

    Warning:
        An upload neither completed nor aborted keeps its parts, and most
        services bill them until they are cleaned up: save ``upload_id`` to
        resume, and use ``op.abort_multipart_uploads(prefix, older_than=...)``
        to clean up stale ones.

    Attributes:
        path: the target path (relative to the root).
        upload_id: the service's id of the upload.
    """

    def __init__(self, accessor: Accessor, path: str, upload_id: str, op: OpWrite) -> None:
        self._accessor = accessor
        self._op = op
        self.path = path
        self.upload_id = upload_id

    def __repr__(self) -> str:
        return f"MultipartUpload(path={self.path!r}, upload_id={self.upload_id!r})"

    def _context(self, exc: errors.Error, operation: str) -> errors.Error:
        return exc.with_context(operation=operation, path=self.path, service=self._accessor.info().scheme)

    async def write_part(self, number: int, data: bytes | bytearray | memoryview) -> Part:
        """Upload part ``number`` (1-based). Every part but the last must be
        at least ``write_multi_min_size`` bytes (checked at :meth:`complete`).

        Raises:
            ConfigInvalid: ``number`` outside ``1..write_multi_max_parts`` or
                ``data`` larger than ``write_multi_max_size`` (before any request).
        """
        check_bytes(data)
        cap = self._accessor.info().capability
        limit = cap.write_multi_max_parts
        if not isinstance(number, int) or number < 1 or (limit is not None and number > limit):
            raise errors.ConfigInvalid(
                f"part number {number!r} is outside 1..{limit} (write_multi_max_parts)",
                operation="write_part",
                path=self.path,
            )
        view = as_view(data)
        check_part_size(self._accessor, len(view), last=True)
        try:
            return await self._accessor.write_part(
                self.path, self.upload_id, number, data if isinstance(data, bytes) else bytes(view), self._op
            )
        except errors.Error as exc:
            raise self._context(exc, "write_part") from exc.__cause__

    async def complete(self, parts: Sequence[Part]) -> Metadata:
        """Assemble ``parts`` (sorted by number) into the object.

        Raises:
            ConfigInvalid: no parts, a duplicate number, or a part other than
                the last smaller than ``write_multi_min_size`` (before any request).
        """
        ordered = sorted(parts, key=lambda p: p.number)
        if not ordered:
            raise errors.ConfigInvalid("complete needs at least one part", path=self.path)
        numbers = [p.number for p in ordered]
        if len(set(numbers)) != len(numbers):
            raise errors.ConfigInvalid("complete was given a part number twice", path=self.path)
        for part in ordered[:-1]:
            check_part_size(self._accessor, part.size)
        try:
            meta = await self._accessor.complete_multipart(self.path, self.upload_id, ordered, self._op)
        except errors.Error as exc:
            raise self._context(exc, "complete_multipart") from exc.__cause__
        if meta.content_length is None:
            meta.content_length = sum(p.size for p in ordered)
        return meta

    async def abort(self) -> None:
        """Abort the upload and free its parts."""
        try:
            await self._accessor.abort_multipart(self.path, self.upload_id)
        except errors.Error as exc:
            raise self._context(exc, "abort_multipart") from exc.__cause__

    async def list_parts(self) -> AsyncIterator[Part]:
        """The parts the service already holds, by number."""
        async for part in self._accessor.list_parts(self.path, self.upload_id):
            yield part


class MultipartCalls(OperatorBase):
    """The Operator's explicit multipart calls (capability ``multipart``)."""

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
