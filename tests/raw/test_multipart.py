"""The multipart write engine, driven through a fake service."""

from __future__ import annotations

import os

import anyio
import pytest

from pystorage import errors
from pystorage.raw.multipart import MultipartWriter
from pystorage.raw.ops import OpWrite

from .fakes import FakeMultipart

pytestmark = pytest.mark.anyio


async def test_small_object_is_one_request() -> None:
    fake = FakeMultipart()
    w = MultipartWriter(fake, "k", OpWrite(chunk=100))
    await w.write(b"x" * 60)
    await w.write(b"y" * 40)
    meta = await w.close()
    assert fake.calls == [("write_once", 100)]
    assert fake.objects["k"] == b"x" * 60 + b"y" * 40
    assert meta.content_length == 100


async def test_parts_equal_except_last_and_completed_in_order() -> None:
    fake = FakeMultipart()
    data = os.urandom(1050)
    w = MultipartWriter(fake, "k", OpWrite(chunk=100, concurrent=3))
    for i in range(0, len(data), 37):  # odd-sized writes
        await w.write(data[i : i + 37])
    await w.close()
    assert fake.objects["k"] == data
    assert sorted(fake.part_sizes) == [50] + [100] * 10
    complete = [c for c in fake.calls if c[0] == "complete"]
    assert complete == [("complete", list(range(1, 12)))]
    assert fake.max_in_flight == 3
    assert not fake.uploads


async def test_exactly_one_chunk_still_one_request() -> None:
    fake = FakeMultipart()
    w = MultipartWriter(fake, "k", OpWrite(chunk=100, concurrent=2))
    await w.write(b"z" * 100)
    await w.close()
    assert [c[0] for c in fake.calls] == ["write_once"]


async def test_failed_part_aborts_upload() -> None:
    fake = FakeMultipart(fail_part=3)
    w = MultipartWriter(fake, "k", OpWrite(chunk=10, concurrent=2))
    with pytest.raises(errors.Unexpected, match="part 3 failed"):
        for _ in range(10):
            await w.write(b"a" * 10)
        await w.close()
    assert ("abort", "u1") in fake.calls
    assert not fake.uploads
    assert "k" not in fake.objects
    with pytest.raises(ValueError):
        await w.write(b"more")


async def test_cancellation_aborts_upload() -> None:
    fake = FakeMultipart(block_part=2)
    w = MultipartWriter(fake, "k", OpWrite(chunk=10, concurrent=2))
    with anyio.move_on_after(0.2) as scope:
        for _ in range(10):
            await w.write(b"a" * 10)
    assert scope.cancelled_caught
    assert ("abort", "u1") in fake.calls
    assert not fake.uploads and "k" not in fake.objects


async def test_part_size_below_minimum_is_refused_before_any_request() -> None:
    fake = FakeMultipart(min_part=5 * 1024 * 1024)
    with pytest.raises(errors.ConfigInvalid, match="write_multi_min_size"):
        MultipartWriter(fake, "k", OpWrite(chunk=1024))
    assert fake.calls == []


async def test_zero_copy_slices_and_bounded_buffering() -> None:
    """Large bytes are cut into views (no copies) and at most concurrent + 1
    full parts wait at any time."""
    fake = FakeMultipart()
    w = MultipartWriter(fake, "k", OpWrite(chunk=100, concurrent=2))
    await w.write(b"q" * 1000)
    assert len(w._ready) <= 3
    await w.close()
    assert fake.objects["k"] == b"q" * 1000
