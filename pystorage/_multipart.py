"""Explicit, resumable multipart uploads (:class:`MultipartUpload`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from . import errors
from ._writer import check_bytes
from .raw.accessor import Accessor
from .raw.buffered import as_view
from .raw.multipart import check_part_size
from .raw.ops import OpWrite
from .types import Metadata, Part

__all__ = ["MultipartUpload"]


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
