"""``Operator.read_ranges``: many ranges of one object, coalesced, concurrent, pinned to one version."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pystorage import Operator, errors
from pystorage.raw.accessor import Accessor, RawReader
from pystorage.raw.coalesce import coalesce_ranges
from pystorage.raw.layer import Layer, LayeredAccessor
from pystorage.raw.ops import OpRead, OpWrite

pytestmark = pytest.mark.anyio

DATA = bytes(random.Random(13).randbytes(200_000))


class _Recording(Layer):
    """Records every ``read`` request ``(offset, size, if_match, version)``; with
    ``overwrite`` set, replaces the object right after the first request answered."""

    def __init__(self, overwrite: bytes | None = None) -> None:
        self.requests: list[tuple[int, int | None, str | None, str | None]] = []
        self.overwrite = overwrite

    def layer(self, inner: Accessor) -> Accessor:
        return _RecordingAccessor(inner, self)


class _RecordingAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, config: _Recording) -> None:
        super().__init__(inner)
        self.config = config

    async def read(self, path: str, op: OpRead) -> RawReader:
        self.config.requests.append((op.offset, op.size, op.if_match, op.version))
        reader = await self.inner.read(path, op)
        if self.config.overwrite is not None and len(self.config.requests) == 1:
            await self.inner.write_once(path, self.config.overwrite, OpWrite())
        return reader


def _expected(data: bytes, offset: int, size: int | None) -> bytes:
    return data[offset:] if size is None else data[offset : offset + size]


async def test_read_ranges_equals_read(op: Operator) -> None:
    await op.write("obj", DATA)
    rng = random.Random(5)
    ranges: list[tuple[int, int | None]] = [
        (rng.randrange(len(DATA)), rng.randrange(1, 9000)) for _ in range(40)
    ]
    ranges += [(0, 0), (len(DATA), 10), (len(DATA) - 5, 100), (100, None), (10, 50), (20, 50), (0, len(DATA))]
    got = await op.read_ranges("obj", ranges, coalesce=4096, concurrent=4)
    assert len(got) == len(ranges)
    for (offset, size), data in zip(ranges, got, strict=True):
        assert isinstance(data, bytes)
        assert data == _expected(DATA, offset, size), (offset, size)
        assert data == await op.read("obj", offset=offset, size=size)


async def test_read_ranges_rules(op: Operator) -> None:
    await op.write("obj", b"0123456789")
    assert await op.read_ranges("obj", []) == []
    assert await op.read_ranges("obj", [(10, 5), (8, 5), (3, 0)]) == [b"", b"89", b""]
    with pytest.raises(errors.RangeNotSatisfied):
        await op.read_ranges("obj", [(0, 2), (11, 1)])
    with pytest.raises(errors.NotFound):
        await op.read_ranges("missing", [(0, 1)])
    with pytest.raises(errors.IsADirectory):
        await op.read_ranges("dir/", [(0, 1)])
    with pytest.raises(ValueError):
        await op.read_ranges("obj", [(-1, 2)])
    with pytest.raises(TypeError):
        await op.read_ranges("obj", [0, 2])  # type: ignore[list-item]


async def test_read_ranges_coalesces_neighbours(op: Operator) -> None:
    await op.write("obj", DATA)
    ranges: list[tuple[int, int | None]] = [(0, 100), (150, 100), (100_000, 10), (100_020, 10), (90, 20)]

    async def count(coalesce: int) -> list[tuple[int, int | None]]:
        recording = _Recording()
        layered = Operator.from_accessor(recording.layer(op.accessor))
        got = await layered.read_ranges("obj", ranges, coalesce=coalesce, concurrent=2)
        assert got == [_expected(DATA, o, s) for o, s in ranges]
        return sorted((o, s) for o, s, _, _ in recording.requests)

    assert await count(0) == [(0, 110), (150, 100), (100_000, 10), (100_020, 10)]
    assert await count(50) == [(0, 250), (100_000, 30)]
    assert await count(1 << 20) == [(0, 100_030)]


async def test_read_ranges_pins_every_request(op: Operator) -> None:
    cap = op.capability()
    if not (cap.read_with_if_match or cap.read_with_version):
        pytest.skip("the service cannot pin a read to a version (no read_with_if_match / read_with_version)")
    await op.write("obj", DATA)
    recording = _Recording(overwrite=b"x" * len(DATA))
    layered = Operator.from_accessor(recording.layer(op.accessor))
    with pytest.raises(errors.ConditionNotMatch):
        await layered.read_ranges("obj", [(0, 10), (150_000, 10)], coalesce=0, concurrent=1)
    assert len(recording.requests) == 2
    assert all(if_match or version for _, _, if_match, version in recording.requests)
    # read again: consistent with the new object
    assert await op.read_ranges("obj", [(0, 3), (150_000, 2)]) == [b"xxx", b"xx"]


async def test_read_ranges_with_version(op: Operator) -> None:
    if not op.capability().read_with_version:
        with pytest.raises(errors.Unsupported):
            await op.read_ranges("obj", [(0, 1)], version="v1")
        return
    meta = await op.write("obj", b"first version")
    await op.write("obj", b"second")
    assert meta.version is not None
    assert await op.read_ranges("obj", [(0, 5), (6, 7)], version=meta.version) == [b"first", b"version"]


def test_blocking_read_ranges(blocking_op: Any) -> None:
    blocking_op.write("obj", b"0123456789")
    assert blocking_op.read_ranges("obj", iter([(0, 2), (5, None)])) == [b"01", b"56789"]


def test_coalesce_ranges() -> None:
    spans = coalesce_ranges([(50, 60), (0, 10), (10, 20), (5, 8), (30, 30), (100, 200)], 10)
    got = [(s.start, s.end, s.members) for s in spans]
    assert got == [(0, 20, (1, 3, 2)), (50, 60, (0,)), (100, 200, (5,))]
