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
  ``copy``, ``rename``, ``presign``, ``create_dir``, and the first page of
  ``list``, ``list_parts`` and ``list_multipart_uploads``) it fails with
  probability ``error_ratio``.
* In the middle of read streams: each ``RawReader.read()`` fails with
  probability ``error_ratio``; half of those failures first return a part
  of the piece read (at least one byte, never all of it) and fail on the next
  call, so that a retrying reader must resume mid-piece. A reader's
  ``read_rest`` fast path fails whole, with the same probability.
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
from ..raw.accessor import Accessor, RawReader
from ..raw.layer import Call, Item, Layer, LayeredAccessor, WrappingReader
from ..raw.ops import Operation
from ..raw.tasks import aclose_iterator

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

    def failure(self, op: Operation, path: str) -> Unexpected:
        """The injected error."""
        return Unexpected(
            MESSAGE, operation=str(op), path=path, service=self.inner.info().scheme, temporary=True
        )

    async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
        if self.strikes():
            raise self.failure(op, path)
        return await fn()

    def _wrap_reader(self, op: Operation, path: str, reader: RawReader) -> RawReader:
        return _ChaosReader(self, path, reader)

    def _wrap_lister(
        self, op: Operation, path: str, pages: AsyncIterator[Sequence[Item]]
    ) -> AsyncIterator[Sequence[Item]]:
        return _fail_first(self.failure(op, path), pages) if self.strikes() else pages


async def _fail_first(failure: Unexpected, it: AsyncIterator[T]) -> AsyncIterator[T]:
    """An iterator failing on its first step (the listing request); closes ``it``."""
    await aclose_iterator(it)
    raise failure
    yield  # pragma: no cover - makes this an async generator


class _ChaosReader(WrappingReader):
    def __init__(self, accessor: _ChaosAccessor, path: str, inner: RawReader) -> None:
        super().__init__(inner)
        self._accessor = accessor
        self._path = path
        self._fail_next = False

    async def read(self) -> bytes:
        accessor = self._accessor
        if self._fail_next or accessor.strikes():
            if self._fail_next or accessor.rng.random() < 0.5:
                self._fail_next = False
                raise accessor.failure(Operation.READ, self._path)
            data = await self.inner.read()
            if len(data) < 2:
                raise accessor.failure(Operation.READ, self._path)
            self._fail_next = True
            return data[: accessor.rng.randint(1, len(data) - 1)]
        return await self.inner.read()

    async def _read_rest(self) -> bytes:
        if self._fail_next or self._accessor.strikes():
            self._fail_next = False
            raise self._accessor.failure(Operation.READ, self._path)
        return await super()._read_rest()
