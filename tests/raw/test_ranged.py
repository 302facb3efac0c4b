"""The ranged read engine, driven through a fake service."""

from __future__ import annotations

import os
import tracemalloc

import pytest

from pystorage import Operator, errors
from pystorage.raw.accessor import RawReader
from pystorage.raw.ops import OpRead
from pystorage.raw.ranged import RangeReader, read_all

from .fakes import FakeMultipart

pytestmark = pytest.mark.anyio

DATA = os.urandom(10_000)


def fake_with_data() -> FakeMultipart:
    fake = FakeMultipart()
    fake.objects["k"] = DATA
    return fake


async def drain(reader: RangeReader, limit: int = -1) -> bytes:
    out = bytearray()
    while piece := await reader.read_piece(limit):
        out += piece
    return bytes(out)


async def test_chunked_reads_are_ordered_and_complete() -> None:
    fake = fake_with_data()
    r = RangeReader(fake, "k", OpRead(), start=0, end=len(DATA), chunk=999, concurrent=4, prefetch=2)
    assert await drain(r, 300) == DATA
    offsets = sorted(o for o, _ in fake.read_calls)
    assert offsets == list(range(0, len(DATA), 999))
    assert all(size == 999 or o + size == len(DATA) for o, size in fake.read_calls if size is not None)


async def test_subrange() -> None:
    fake = fake_with_data()
    r = RangeReader(fake, "k", OpRead(), start=123, end=4567, chunk=1000, concurrent=2)
    assert await drain(r) == DATA[123:4567]


async def test_seek_inside_window_costs_no_request() -> None:
    fake = fake_with_data()
    r = RangeReader(fake, "k", OpRead(), start=0, end=len(DATA), chunk=1000, concurrent=2, prefetch=1)
    assert await r.read_piece(10) == DATA[:10]
    calls = len(fake.read_calls)
    assert calls == 3  # concurrent + prefetch chunks fetched in one wave
    r.seek(2500)
    assert await r.read_piece(100) == DATA[2500:2600]
    r.seek(2000)  # back inside the current chunk
    assert await r.read_piece(10) == DATA[2000:2010]
    assert len(fake.read_calls) == calls


async def test_window_memory_is_bounded() -> None:
    fake = fake_with_data()
    r = RangeReader(fake, "k", OpRead(), start=0, end=len(DATA), chunk=500, concurrent=2, prefetch=1)
    while await r.read_piece(100):
        assert len(r._window) <= 3


async def test_resume_after_failed_chunk() -> None:
    fake = fake_with_data()
    fake.fail_reads = {2000}
    r = RangeReader(fake, "k", OpRead(), start=0, end=len(DATA), chunk=1000, concurrent=1)
    got = bytearray()
    with pytest.raises(errors.Unexpected):
        while piece := await r.read_piece(700):
            got += piece
    assert bytes(got) == DATA[:2000]
    assert r.position == 2000
    got += await drain(r)
    assert bytes(got) == DATA


async def test_failed_read_ahead_chunk_does_not_fail_the_read() -> None:
    fake = fake_with_data()
    fake.fail_reads = {2000}
    r = RangeReader(fake, "k", OpRead(), start=0, end=len(DATA), chunk=1000, concurrent=4)
    assert await drain(r, 333) == DATA
    assert [o for o, _ in fake.read_calls].count(2000) == 2


async def test_stream_mode_forward_skip_and_reopen() -> None:
    fake = fake_with_data()
    r = RangeReader(fake, "k", OpRead(), start=0, end=len(DATA))
    assert await r.read_piece(10) == DATA[:10]
    r.seek(3000)  # short forward skip: same stream
    assert await r.read_piece(10) == DATA[3000:3010]
    assert len(fake.read_calls) == 1
    r.seek(5)  # backwards, outside the piece: reopen
    assert await drain(r) == DATA[5:]
    assert fake.read_calls[-1] == (5, len(DATA) - 5)


async def test_stream_mode_resumes_after_broken_stream() -> None:
    fake = fake_with_data()
    fake.fail_reads = {0}
    r = RangeReader(fake, "k", OpRead(), start=0, end=len(DATA))
    got = bytearray()
    with pytest.raises(errors.Unexpected):
        while piece := await r.read_piece(-1):
            got += piece
    got += await drain(r)
    assert bytes(got) == DATA


class _Pieces(RawReader):
    """Delivers ``data`` in ``piece``-byte pieces, announcing ``size``."""

    def __init__(self, data: bytes, piece: int, size: int | None) -> None:
        self._data = data
        self._piece = piece
        self._pos = 0
        self.size = size
        self.closed = False

    async def read(self) -> bytes:
        out = self._data[self._pos : self._pos + self._piece]
        self._pos += len(out)
        return out

    async def aclose(self) -> None:
        self.closed = True


class _Whole(_Pieces):
    """Also offers the optional ``read_rest`` fast path."""

    rest_calls = 0

    async def read_rest(self) -> bytes:
        self.rest_calls += 1
        out = self._data[self._pos :]
        self._pos = len(self._data)
        return out


@pytest.mark.parametrize("size", [len(DATA), None, len(DATA) + 500])
async def test_read_all_gathers_pieces(size: int | None) -> None:
    raw = _Pieces(DATA, 999, size)
    seen: list[int] = []
    assert await read_all(raw, seen.append) == DATA  # a longer announced size leaves no padding
    assert sum(seen) == len(DATA) and len(seen) == 11
    assert raw.closed


async def test_read_all_presized_buffer_is_handed_over_without_copy() -> None:
    big = os.urandom((4 << 20) + 65537)  # a size where a growing buffer ends 12% too large
    raw = _Pieces(big, 64 << 10, len(big))
    tracemalloc.start()
    try:
        data = await read_all(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == big
    assert peak < len(big) + 4 * (64 << 10)  # one buffer of exactly the size, plus a few pieces


async def test_read_all_uses_read_rest_when_offered() -> None:
    raw = _Whole(DATA, 100, len(DATA))
    seen: list[int] = []
    assert await read_all(raw, seen.append) == DATA
    assert raw.rest_calls == 1 and seen == [len(DATA)] and raw.closed
    empty = _Whole(b"", 100, 0)
    assert await read_all(empty, seen.append) == b""
    assert seen == [len(DATA)]


async def test_read_progress_is_reported_as_bytes_arrive() -> None:
    fake = fake_with_data()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int | None) -> None:
        assert total == len(DATA)
        assert fake.last_reader is not None
        seen.append((done, fake.last_reader._pos))

    assert await Operator.from_accessor(fake).read("k", progress=progress) == DATA
    assert [d for d, _ in seen] == list(range(1000, len(DATA) + 1, 1000))
    # each call came right after its piece, not after the whole body was read
    assert all(done == delivered for done, delivered in seen)
