"""One object, one version: a read of several requests never splices two versions.

DESIGN "Semantics, decided": a read that takes several requests (a chunked
``read``, a reader re-requesting after ``seek``, a copy) is pinned to the
etag or version seen first; a change in between raises ``ConditionNotMatch``.
The overwrite is made between two requests of the read by a small layer that
runs a callback once, after the first ranged request it forwards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from pystorage import Operator, errors
from pystorage.raw.accessor import Accessor, RawReader
from pystorage.raw.layer import Layer, LayeredAccessor
from pystorage.raw.ops import OpRead

from .helpers import KiB, MiB, payload

pytestmark = pytest.mark.anyio

CHUNK = 64 * KiB
V1 = payload(4 * CHUNK, seed=1)
V2 = payload(4 * CHUNK, seed=2)  # same size: only the content tells them apart


class _AfterFirstRead(Layer):
    """Runs ``callback`` once, right after the first ``read`` request returns."""

    def __init__(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.callback = callback

    def layer(self, inner: Accessor) -> Accessor:
        return _AfterFirstReadAccessor(inner, self.callback)


class _AfterFirstReadAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, callback: Callable[[], Awaitable[None]]) -> None:
        super().__init__(inner)
        self._callback: Callable[[], Awaitable[None]] | None = callback

    async def read(self, path: str, op: OpRead) -> RawReader:
        raw = await self.inner.read(path, op)
        callback, self._callback = self._callback, None
        if callback is not None:
            await callback()
        return raw


def _overwriting(op: Operator) -> Operator:
    async def overwrite() -> None:
        await op.write("obj", V2)

    return op.layer(_AfterFirstRead(overwrite))


async def test_chunked_read_overwritten_midway_raises(op: Operator) -> None:
    await op.write("obj", V1)
    with pytest.raises(errors.ConditionNotMatch):
        await _overwriting(op).read("obj", chunk=CHUNK)
    assert await op.read("obj") == V2


async def test_chunked_range_overwritten_midway_raises(op: Operator) -> None:
    await op.write("obj", V1)
    with pytest.raises(errors.ConditionNotMatch):
        await _overwriting(op).read("obj", offset=10, size=3 * CHUNK, chunk=CHUNK, concurrent=1)


async def test_reader_rerequest_after_seek_raises(op: Operator) -> None:
    await op.write("obj", V1)
    async with _overwriting(op).open("obj", "rb", chunk=CHUNK) as reader:
        assert await reader.read(100) == V1[:100]
        await reader.seek(3 * CHUNK)
        with pytest.raises(errors.ConditionNotMatch):
            await reader.read(100)


async def test_stream_reader_reopened_after_seek_never_mixes(op: Operator) -> None:
    big1, big2 = payload(3 * MiB, seed=3), payload(3 * MiB, seed=4)
    await op.write("big", big1)

    async def overwrite() -> None:
        await op.write("big", big2)

    reads = 0
    async with op.layer(_AfterFirstRead(overwrite)).open("big", "rb") as reader:
        try:
            for pos in (0, 2 * MiB, 50):  # the last one backwards, out of the buffered piece
                await reader.seek(pos)
                # a service whose first answer is still being served may go on
                # serving it; a new request must fail: never the new bytes
                assert await reader.read(100) == big1[pos : pos + 100]
                reads += 1
        except errors.ConditionNotMatch:
            assert reads >= 1


async def test_unchanged_object_reads_whole_in_chunks(op: Operator) -> None:
    # the pin costs nothing when nothing changes
    await op.write("obj", V1)
    assert await op.read("obj", chunk=CHUNK, concurrent=3) == V1
    async with op.open("obj", "rb", chunk=CHUNK) as reader:
        await reader.seek(2 * CHUNK + 5)
        assert await reader.read(10) == V1[2 * CHUNK + 5 : 2 * CHUNK + 15]
        await reader.seek(1)
        assert await reader.read(10) == V1[1:11]


async def test_callers_own_version_is_not_replaced(op: Operator) -> None:
    await op.write("obj", V1)
    meta = await op.stat("obj")
    if meta.etag is None or not op.capability().read_with_if_match:
        pytest.skip("no etag condition on reads")
    assert await op.read("obj", chunk=CHUNK, if_match=meta.etag) == V1
