"""Inject temporary failures, to prove that retries and resumption work.

:class:`ChaosLayer` fails calls at random with a temporary
:class:`~pystorage.errors.Unexpected` (``"chaos: injected failure"``)::

    op = Operator("memory").layer(
        RetryLayer(max_times=50, min_delay=0),   # outside: must hide every failure
        ChaosLayer(error_ratio=0.3, seed=42),
    )
    await op.write("a", data)
    assert await op.read("a") == data

* Before each call reaches the inner accessor (``stat``, ``read``, ``write``,
  ``write_once``, ``initiate_multipart``, ``write_part``,
  ``complete_multipart``, ``abort_multipart``, ``delete``, ``delete_batch``,
  ``copy``, ``rename``, ``presign``, ``create_dir``, and the start of
  ``list``, ``list_parts`` and ``list_multipart_uploads``) it fails with
  probability ``error_ratio``.
* In the middle of read streams: each ``RawReader.read()`` fails with
  probability ``error_ratio``; half of those failures first return a part
  of the piece read (at least one byte, never all of it) and fail on the next
  call, so that a retrying reader must resume mid-piece.
* Nothing is injected into a streamed writer's ``write``/``close``/``abort``
  (a stream cannot be replayed, so no layer could recover), nor into
  ``open``/``close`` of the accessor.

With a ``seed`` the failures are reproducible for a given sequence of calls
(each layered accessor has its own generator, seeded alike; concurrent tasks
make the sequence depend on scheduling).

Ordering caveat: put it inside (after) :class:`~pystorage.layers.RetryLayer`;
outside, nothing can recover from the injected failures.

Warning:
    For tests and drills only: it makes an operator fail on purpose.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

from ..errors import ConfigInvalid, Unexpected
from ..raw.accessor import Accessor, Buffer, RawReader, RawWriter
from ..raw.layer import Layer, LayeredAccessor
from ..raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ..raw.tasks import aclose_iterator
from ..types import Entry, Metadata, Part, PresignedRequest, UploadInfo

__all__ = ["ChaosLayer"]

T = TypeVar("T")

#: the message of every injected error
MESSAGE = "chaos: injected failure"


@dataclasses.dataclass(frozen=True)
class ChaosLayer(Layer):
    """Fail calls and read streams at random with temporary errors.

    Args:
        error_ratio: probability of a failure at each injection point, from
            0 (never) to 1 (always); no default.
        seed: seed of the random generator (default ``None``: unpredictable).

    Raises:
        errors.ConfigInvalid: ``error_ratio`` is not within ``[0, 1]`` or
            ``seed`` is not an int (the message names the field).
    """

    error_ratio: float
    seed: int | None = None

    def __post_init__(self) -> None:
        ratio = self.error_ratio
        if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not 0 <= ratio <= 1:
            raise ConfigInvalid(f"ChaosLayer: error_ratio must be a number within [0, 1], got {ratio!r}")
        if self.seed is not None and (not isinstance(self.seed, int) or isinstance(self.seed, bool)):
            raise ConfigInvalid(f"ChaosLayer: seed must be an int or None, got {self.seed!r}")

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in a failure-injecting accessor."""
        return _ChaosAccessor(inner, float(self.error_ratio), random.Random(self.seed))


class _ChaosAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, ratio: float, rng: random.Random) -> None:
        super().__init__(inner)
        self.ratio = ratio
        self.rng = rng

    def strikes(self) -> bool:
        """Whether to inject a failure now."""
        return self.ratio > 0 and self.rng.random() < self.ratio

    def failure(self, operation: str, path: str) -> Unexpected:
        """The injected error."""
        return Unexpected(
            MESSAGE, operation=operation, path=path, service=self.inner.info().scheme, temporary=True
        )

    def maybe_fail(self, operation: str, path: str) -> None:
        """Raise the injected error with probability ``error_ratio``."""
        if self.strikes():
            raise self.failure(operation, path)

    # one-shot calls ----------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        self.maybe_fail("stat", path)
        return await self.inner.stat(path, op)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        self.maybe_fail("create_dir", path)
        await self.inner.create_dir(path, op)

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        self.maybe_fail("write", path)
        return await self.inner.write(path, op)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        self.maybe_fail("write", path)
        return await self.inner.write_once(path, data, op)

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        self.maybe_fail("create_multipart", path)
        return await self.inner.initiate_multipart(path, op)

    async def write_part(
        self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite
    ) -> Part:
        self.maybe_fail("write_part", path)
        return await self.inner.write_part(path, upload_id, number, data, op)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        self.maybe_fail("complete_multipart", path)
        return await self.inner.complete_multipart(path, upload_id, parts, op)

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        self.maybe_fail("abort_multipart", path)
        await self.inner.abort_multipart(path, upload_id)

    async def delete(self, path: str, op: OpDelete) -> None:
        self.maybe_fail("delete", path)
        await self.inner.delete(path, op)

    async def delete_batch(self, paths: Sequence[str]) -> None:
        self.maybe_fail("delete_many", "")
        await self.inner.delete_batch(paths)

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        self.maybe_fail("copy", src)
        await self.inner.copy(src, dst, op)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        self.maybe_fail("rename", src)
        await self.inner.rename(src, dst, op)

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        self.maybe_fail("presign", path)
        return await self.inner.presign(path, op)

    # streams -----------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        self.maybe_fail("read", path)
        return _ChaosReader(self, path, await self.inner.read(path, op))

    def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        it = self.inner.list(path, op)
        return _fail_first(self, "list", path, it) if self.strikes() else it

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        it = self.inner.list_parts(path, upload_id)
        return _fail_first(self, "list_parts", path, it) if self.strikes() else it

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        it = self.inner.list_multipart_uploads(prefix)
        return _fail_first(self, "list_multipart_uploads", prefix, it) if self.strikes() else it


async def _fail_first(
    accessor: _ChaosAccessor, operation: str, path: str, it: AsyncIterator[T]
) -> AsyncIterator[T]:
    """An iterator failing on its first step (the listing request); closes ``it``."""
    await aclose_iterator(it)
    raise accessor.failure(operation, path)
    yield  # pragma: no cover - makes this an async generator


class _ChaosReader(RawReader):
    def __init__(self, accessor: _ChaosAccessor, path: str, inner: RawReader) -> None:
        self._accessor = accessor
        self._path = path
        self._inner = inner
        self._fail_next = False
        self.size = inner.size
        self.metadata = inner.metadata

    async def read(self) -> bytes:
        accessor = self._accessor
        if self._fail_next or accessor.strikes():
            if self._fail_next or accessor.rng.random() < 0.5:
                self._fail_next = False
                raise accessor.failure("read", self._path)
            data = await self._inner.read()
            if len(data) < 2:
                raise accessor.failure("read", self._path)
            self._fail_next = True
            return data[: accessor.rng.randint(1, len(data) - 1)]
        return await self._inner.read()

    async def aclose(self) -> None:
        await self._inner.aclose()
