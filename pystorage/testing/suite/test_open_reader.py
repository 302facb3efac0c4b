"""``open(path, "rb")``: the AsyncReader."""

from __future__ import annotations

import inspect
import random

import pytest

from pystorage import Operator, errors

from .helpers import KiB, MiB, payload

pytestmark = pytest.mark.anyio

DATA = payload(10_000, seed=31)


async def test_open_awaitable(op: Operator) -> None:
    await op.write("file", DATA)
    reader = await op.open("file", "rb")
    try:
        assert await reader.read() == DATA
    finally:
        await reader.close()


async def test_open_async_with(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        assert await reader.read() == DATA


async def test_read_n(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        first = await reader.read(100)
        assert first == DATA[:100]
        second = await reader.read(250)
        assert second == DATA[100:350]
        assert await reader.tell() == 350
        assert await reader.read(-1) == DATA[350:]
        assert await reader.read(10) == b""
        assert await reader.read() == b""


async def test_read_zero(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        assert await reader.read(0) == b""
        assert await reader.tell() == 0


async def test_read_more_than_left(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        await reader.seek(9_990)
        assert await reader.read(1000) == DATA[9_990:]


async def test_readinto(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        buf = bytearray(64)
        n = await reader.readinto(buf)
        assert n == 64
        assert bytes(buf) == DATA[:64]
        view = memoryview(bytearray(20_000))
        n = await reader.readinto(view)
        assert 0 < n <= len(DATA) - 64
        assert bytes(view[:n]) == DATA[64 : 64 + n]
        assert await reader.tell() == 64 + n


async def test_readinto_at_end(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        await reader.seek(0, 2)
        assert await reader.readinto(bytearray(10)) == 0


async def test_tell_starts_at_zero(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        assert await reader.tell() == 0


async def test_seek_whence(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        assert await reader.seek(500) == 500
        assert await reader.tell() == 500
        assert await reader.read(10) == DATA[500:510]
        assert await reader.seek(-20, 1) == 490
        assert await reader.read(5) == DATA[490:495]
        assert await reader.seek(100, 1) == 595
        assert await reader.read(5) == DATA[595:600]
        assert await reader.seek(-10, 2) == len(DATA) - 10
        assert await reader.read() == DATA[-10:]
        assert await reader.seek(0, 2) == len(DATA)
        assert await reader.read() == b""
        assert await reader.seek(0) == 0
        assert await reader.read() == DATA


async def test_seek_os_constants(op: Operator) -> None:
    import os

    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        await reader.seek(-3, os.SEEK_END)
        assert await reader.read() == DATA[-3:]
        await reader.seek(1, os.SEEK_SET)
        await reader.seek(1, os.SEEK_CUR)
        assert await reader.read(2) == DATA[2:4]


async def test_async_for_chunks(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        chunks = [chunk async for chunk in reader]
    assert all(isinstance(c, bytes) and c for c in chunks)
    assert b"".join(chunks) == DATA


async def test_async_for_after_seek(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        await reader.seek(1234)
        assert b"".join([chunk async for chunk in reader]) == DATA[1234:]


async def test_readable_seekable_are_sync(op: Operator) -> None:
    await op.write("file", DATA)
    async with op.open("file", "rb") as reader:
        assert not inspect.iscoroutinefunction(reader.readable)
        assert not inspect.iscoroutinefunction(reader.seekable)
        assert reader.readable() is True
        assert reader.seekable() is True


@pytest.mark.parametrize("option", ["offset", "size"])
async def test_open_rejects_offset_size(op: Operator, option: str) -> None:
    await op.write("file", DATA)
    with pytest.raises(TypeError):
        async with op.open("file", "rb", **{option: 1}) as reader:
            await reader.read()


async def test_open_missing(op: Operator) -> None:
    with pytest.raises(errors.NotFound):
        async with op.open("missing", "rb") as reader:
            await reader.read()


async def test_open_empty_object(op: Operator) -> None:
    if not op.capability().write_can_empty:
        pytest.skip("no write_can_empty")
    await op.write("empty", b"")
    async with op.open("empty", "rb") as reader:
        assert await reader.read() == b""
        assert [c async for c in reader] == []


BIG = payload(3 * MiB + 777, seed=32)


async def test_large_reader_random_access(op: Operator) -> None:
    await op.write("big", BIG)
    rng = random.Random(5)
    async with op.open("big", "rb", chunk=256 * KiB, concurrent=2, prefetch=2) as reader:
        assert await reader.read(1000) == BIG[:1000]
        for _ in range(25):
            pos = rng.randrange(0, len(BIG))
            n = rng.randrange(0, 300 * KiB)
            assert await reader.seek(pos) == pos
            assert await reader.read(n) == BIG[pos : pos + n]
            assert await reader.tell() == min(len(BIG), pos + n)


async def test_large_reader_sequential(op: Operator) -> None:
    await op.write("big", BIG)
    async with op.open("big", "rb", chunk=256 * KiB, concurrent=4) as reader:
        parts = []
        while True:
            part = await reader.read(100_000)
            if not part:
                break
            parts.append(part)
    assert b"".join(parts) == BIG


async def test_large_reader_async_for(op: Operator) -> None:
    await op.write("big", BIG)
    async with op.open("big", "rb", chunk=256 * KiB, concurrent=3) as reader:
        assert b"".join([c async for c in reader]) == BIG


async def test_large_reader_backwards_seeks(op: Operator) -> None:
    await op.write("big", BIG)
    async with op.open("big", "rb", chunk=256 * KiB, concurrent=2) as reader:
        for pos in (3 * MiB, 2 * MiB + 5, MiB, 17, 0):
            await reader.seek(pos)
            assert await reader.read(4096) == BIG[pos : pos + 4096]


async def test_reader_close_twice(op: Operator) -> None:
    await op.write("file", DATA)
    reader = await op.open("file", "rb")
    assert await reader.read(10) == DATA[:10]
    await reader.close()
    await reader.close()
