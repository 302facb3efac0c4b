"""``open(path, "wb")`` / ``open(path, "ab")``: the AsyncWriter, commit, abort, cancellation, append."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from pystorage import Metadata, Operator, errors

from .helpers import MiB, chunk_size, fs_dir, need, payload, split

pytestmark = pytest.mark.anyio


class Boom(Exception):
    """Raised by the tests inside a writer."""


async def _only_keep_left(op: Operator, path: str) -> None:
    """Assert that ``path`` does not exist and (fs) that ``dir/`` holds ``keep`` alone, no temp file."""
    assert not await op.exists(path)
    assert fs_dir(op, "dir") in (None, ["keep"])


async def test_writer_write_returns_count(op: Operator) -> None:
    async with op.open("file", "wb") as writer:
        assert await writer.write(b"hello ") == 6
        assert await writer.write(bytearray(b"big ")) == 4
        assert await writer.write(memoryview(b"world!")[:5]) == 5
    assert await op.read("file") == b"hello big world"


async def test_writer_close_returns_metadata(op: Operator) -> None:
    writer = await op.open("file", "wb")
    await writer.write(b"abc")
    await writer.write(b"defg")
    meta = await writer.close()
    assert isinstance(meta, Metadata)
    assert meta.content_length == 7
    assert await op.read("file") == b"abcdefg"


async def test_writer_many_small_writes(op: Operator) -> None:
    data = payload(100_000, seed=41)
    async with op.open("file", "wb") as writer:
        for piece in split(data, 333):
            await writer.write(piece)
    assert await op.read("file") == data


async def test_writer_large_chunked(op: Operator) -> None:
    chunk = chunk_size(op, MiB)
    data = payload(3 * chunk + 99, seed=42)
    writer = await op.open("big", "wb", chunk=chunk, concurrent=2)
    for piece in split(data, 300_000):
        await writer.write(piece)
    meta = await writer.close()
    assert meta.content_length == len(data)
    assert await op.read("big") == data


async def test_writer_empty(op: Operator) -> None:
    need(op, "write_can_empty")
    writer = await op.open("empty", "wb")
    meta = await writer.close()
    assert meta.content_length == 0
    assert await op.read("empty") == b""


async def test_writer_rejects_str(op: Operator) -> None:
    writer = await op.open("file", "wb")
    try:
        with pytest.raises(TypeError, match="str"):
            await writer.write("text")  # type: ignore[arg-type]
    finally:
        await writer.abort()
    assert not await op.exists("file")


async def test_nothing_visible_before_close(op: Operator) -> None:
    chunk = chunk_size(op, MiB)
    writer = await op.open("file", "wb", chunk=chunk)
    await writer.write(payload(2 * chunk + 1, seed=43))
    assert not await op.exists("file")
    assert await op.exists("file") is False
    await writer.close()
    assert await op.exists("file")


async def test_old_content_visible_until_close(op: Operator) -> None:
    await op.write("file", b"old")
    writer = await op.open("file", "wb")
    await writer.write(b"new content")
    assert await op.read("file") == b"old"
    await writer.close()
    assert await op.read("file") == b"new content"


async def test_abort(op: Operator) -> None:
    await op.write("dir/keep", b"k")
    writer = await op.open("dir/file", "wb")
    await writer.write(b"discard me")
    await writer.abort()
    await _only_keep_left(op, "dir/file")


async def test_exception_inside_leaves_nothing(op: Operator) -> None:
    await op.write("dir/keep", b"k")
    with pytest.raises(Boom):
        async with op.open("dir/file", "wb") as writer:
            await writer.write(b"partial data" * 1000)
            raise Boom
    await _only_keep_left(op, "dir/file")


async def test_exception_inside_keeps_old_content(op: Operator) -> None:
    await op.write("file", b"old")
    with pytest.raises(Boom):
        async with op.open("file", "wb") as writer:
            await writer.write(b"new")
            raise Boom
    assert await op.read("file") == b"old"


async def test_exception_inside_large_leaves_nothing(op: Operator) -> None:
    chunk = chunk_size(op, MiB)
    await op.write("dir/keep", b"k")
    with pytest.raises(Boom):
        async with op.open("dir/big", "wb", chunk=chunk, concurrent=2) as writer:
            for piece in split(payload(3 * chunk, seed=44), 500_000):
                await writer.write(piece)
            raise Boom
    await _only_keep_left(op, "dir/big")


async def test_cancel_inside_leaves_nothing(op: Operator) -> None:
    await op.write("dir/keep", b"k")
    with anyio.CancelScope() as scope:
        async with op.open("dir/file", "wb") as writer:
            await writer.write(b"partial data" * 1000)
            scope.cancel()
            await anyio.sleep(5)
    assert scope.cancelled_caught
    await _only_keep_left(op, "dir/file")


async def test_cancel_inside_large_leaves_nothing(op: Operator) -> None:
    chunk = chunk_size(op, MiB)
    await op.write("dir/keep", b"k")
    with anyio.CancelScope() as scope:
        async with op.open("dir/big", "wb", chunk=chunk, concurrent=2) as writer:
            await writer.write(payload(2 * chunk + 10, seed=45))
            scope.cancel()
            await writer.write(b"more")
            await anyio.sleep(5)
    assert scope.cancelled_caught
    await _only_keep_left(op, "dir/big")


async def test_cancel_one_shot_stream_leaves_nothing(op: Operator) -> None:
    await op.write("dir/keep", b"k")

    async def slow() -> AsyncIterator[bytes]:
        yield b"x" * 10_000
        await anyio.sleep(30)
        yield b"never"

    with anyio.move_on_after(0.3) as scope:
        await op.write("dir/file", slow())
    assert scope.cancelled_caught
    await _only_keep_left(op, "dir/file")


async def test_writer_to_dir_path(op: Operator) -> None:
    with pytest.raises(errors.IsADirectory):
        async with op.open("dir/", "wb") as writer:
            await writer.write(b"x")


# -- append ---------------------------------------------------------------------------------------

async def test_append_mode(op: Operator) -> None:
    need(op, "write_can_append")
    await op.write("file", b"abc")
    async with op.open("file", "ab") as writer:
        assert await writer.write(b"def") == 3
        await writer.write(b"gh")
    assert await op.read("file") == b"abcdefgh"


async def test_append_mode_creates_missing(op: Operator) -> None:
    need(op, "write_can_append")
    writer = await op.open("file", "ab")
    await writer.write(b"first")
    meta = await writer.close()
    assert meta.content_length == 5
    assert await op.read("file") == b"first"


async def test_append_option(op: Operator) -> None:
    need(op, "write_can_append")
    await op.write("file", b"one,", append=True)
    await op.write("file", b"two,", append=True)
    await op.write("file", [b"thr", b"ee"], append=True)
    assert await op.read("file") == b"one,two,three"


async def test_append_exception_keeps_existing(op: Operator) -> None:
    need(op, "write_can_append")
    await op.write("file", b"abc")
    with pytest.raises(Boom):
        async with op.open("file", "ab") as writer:
            await writer.write(b"lost")
            raise Boom
    data = await op.read("file")
    assert data.startswith(b"abc")
    assert data in (b"abc", b"abclost")


async def test_append_mode_unsupported(op: Operator) -> None:
    if op.capability().write_can_append:
        pytest.skip("has write_can_append")
    await op.write("file", b"abc")
    with pytest.raises(errors.Unsupported):
        async with op.open("file", "ab") as writer:
            await writer.write(b"def")
    assert await op.read("file") == b"abc"


async def test_append_mode_unsupported_missing(op: Operator) -> None:
    if op.capability().write_can_append:
        pytest.skip("has write_can_append")
    with pytest.raises(errors.Unsupported):
        writer = await op.open("file", "ab")
        await writer.write(b"def")
        await writer.close()
    assert not await op.exists("file")
