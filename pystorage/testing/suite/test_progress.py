"""``progress(done, total)`` callbacks on read, write, open and copy, sync and async callables."""

from __future__ import annotations

import pytest

from pystorage import Operator

from .helpers import KiB, MiB, Progress, agen, chunk_size, need, payload, split

pytestmark = pytest.mark.anyio

KINDS = ["sync", "async"]
DATA = payload(300 * KiB + 7, seed=51)


@pytest.mark.parametrize("kind", KINDS)
async def test_write_bytes_progress(op: Operator, kind: str) -> None:
    progress = Progress()
    await op.write("file", DATA, progress=progress.callback(kind))
    progress.check(len(DATA), total=len(DATA))
    assert await op.read("file") == DATA


@pytest.mark.parametrize("kind", KINDS)
async def test_write_stream_progress_total_unknown(op: Operator, kind: str) -> None:
    progress = Progress()
    await op.write("file", agen(*split(DATA, 50_000)), progress=progress.callback(kind))
    progress.check(len(DATA), total=None)


@pytest.mark.parametrize("kind", KINDS)
async def test_write_chunked_progress(op: Operator, kind: str) -> None:
    chunk = chunk_size(op, MiB)
    data = payload(2 * chunk + 11, seed=52)
    progress = Progress()
    await op.write("big", data, chunk=chunk, concurrent=2, progress=progress.callback(kind))
    progress.check(len(data), total=len(data))


@pytest.mark.parametrize("kind", KINDS)
async def test_read_progress(op: Operator, kind: str) -> None:
    await op.write("file", DATA)
    progress = Progress()
    assert await op.read("file", progress=progress.callback(kind)) == DATA
    progress.check(len(DATA), total=len(DATA))


@pytest.mark.parametrize("kind", KINDS)
async def test_read_chunked_progress(op: Operator, kind: str) -> None:
    await op.write("file", DATA)
    progress = Progress()
    got = await op.read("file", chunk=64 * KiB, concurrent=3, progress=progress.callback(kind))
    assert got == DATA
    progress.check(len(DATA), total=len(DATA))
    assert len(progress.calls) >= 2


@pytest.mark.parametrize("kind", KINDS)
async def test_open_read_progress(op: Operator, kind: str) -> None:
    await op.write("file", DATA)
    progress = Progress()
    async with op.open("file", "rb", progress=progress.callback(kind)) as reader:
        assert await reader.read() == DATA
    progress.check(len(DATA), total=len(DATA))


@pytest.mark.parametrize("kind", KINDS)
async def test_open_write_progress(op: Operator, kind: str) -> None:
    progress = Progress()
    async with op.open("file", "wb", progress=progress.callback(kind)) as writer:
        for piece in split(DATA, 100_000):
            await writer.write(piece)
    progress.check(len(DATA), total=None)


@pytest.mark.parametrize("kind", KINDS)
async def test_copy_progress(op: Operator, kind: str) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    progress = Progress()
    await op.copy("src", "dst", progress=progress.callback(kind))
    progress.check(len(DATA))
    assert {t for _, t in progress.calls} <= {len(DATA), None}
    assert await op.read("dst") == DATA
