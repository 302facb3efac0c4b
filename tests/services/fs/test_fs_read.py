"""Reads: ranges, blocks, errors, and one thread hand-off per read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pystorage import errors
from pystorage.raw.ops import OpRead
from pystorage.services.fs import core

pytestmark = pytest.mark.anyio

DATA = bytes(range(256)) * 40  # 10240 bytes


async def test_round_trip(fs, root: Path) -> None:
    meta = await fs.put("a/b/c.bin", DATA)
    assert meta.content_length == len(DATA)
    assert (root / "a" / "b" / "c.bin").read_bytes() == DATA
    assert await fs.get("a/b/c.bin") == DATA


async def test_empty_file(fs) -> None:
    await fs.put("empty", b"")
    assert await fs.get("empty") == b""
    assert await fs.get("empty", offset=0, size=10) == b""


@pytest.mark.parametrize(
    ("offset", "size", "expected"),
    [
        (0, None, DATA),
        (100, None, DATA[100:]),
        (100, 50, DATA[100:150]),
        (10000, 1000, DATA[10000:]),  # clamped to the end
        (0, 0, b""),
        (len(DATA), None, b""),  # offset == length: empty
        (len(DATA), 10, b""),
    ],
)
async def test_ranges(fs, offset: int, size: int | None, expected: bytes) -> None:
    await fs.put("f", DATA)
    reader = await fs.acc.read("f", OpRead(offset=offset, size=size))
    assert reader.size == len(expected)
    assert reader.metadata is not None and reader.metadata.content_length == len(DATA)
    assert await fs.get("f", offset=offset, size=size) == expected
    await reader.aclose()


async def test_offset_past_the_end(fs) -> None:
    await fs.put("f", DATA)
    with pytest.raises(errors.RangeNotSatisfied) as info:
        await fs.acc.read("f", OpRead(offset=len(DATA) + 1))
    assert (info.value.operation, info.value.path, info.value.service) == ("read", "f", "fs")


async def test_missing_file(fs) -> None:
    with pytest.raises(errors.NotFound) as info:
        await fs.acc.read("nope/x", OpRead())
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert (info.value.operation, info.value.path, info.value.service) == ("read", "nope/x", "fs")
    assert "/" + "nope" not in info.value.message  # no absolute path on disk in the message


async def test_below_a_file_is_not_found(fs) -> None:
    await fs.put("f", b"x")
    with pytest.raises(errors.NotFound):
        await fs.acc.read("f/x", OpRead())


async def test_reading_a_directory(fs, root: Path) -> None:
    (root / "d").mkdir()
    with pytest.raises(errors.IsADirectory) as info:
        await fs.acc.read("d", OpRead())
    assert info.value.path == "d"
    with pytest.raises(errors.IsADirectory):
        await fs.acc.read("d/", OpRead())


async def test_reading_a_fifo_does_not_hang(fs, root: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(root / "pipe")
    with pytest.raises(errors.PermissionDenied, match="regular file"):
        await fs.acc.read("pipe", OpRead())


async def test_one_read_is_one_thread_hand_off(fs, thread_calls: list[str]) -> None:
    await fs.put("f", DATA)
    thread_calls.clear()
    reader = await fs.acc.read("f", OpRead(offset=5, size=100))
    assert await reader.read() == DATA[5:105]
    assert await reader.read() == b""
    await reader.aclose()
    assert thread_calls == ["open_read"]


async def test_large_range_is_read_in_blocks(
    fs, monkeypatch: pytest.MonkeyPatch, thread_calls: list[str]
) -> None:
    monkeypatch.setattr(core, "READ_BLOCK", 1000)
    monkeypatch.setattr(core, "STREAM_BLOCK", 1000)
    await fs.put("f", DATA)
    thread_calls.clear()
    reader = await fs.acc.read("f", OpRead(offset=10, size=3500))
    assert reader.size == 3500
    blocks = []
    while block := await reader.read():
        blocks.append(block)
    assert [len(b) for b in blocks] == [1000, 1000, 1000, 500]
    assert b"".join(blocks) == DATA[10:3510]
    # the open call opens the file, then one call per block; the last one closes the file
    assert thread_calls == ["open_read", "read_block", "read_block", "read_block", "read_block"]
    await reader.aclose()
    assert thread_calls == ["open_read", "read_block", "read_block", "read_block", "read_block"]


async def test_large_range_read_whole_is_one_more_hand_off(
    fs, monkeypatch: pytest.MonkeyPatch, thread_calls: list[str]
) -> None:
    monkeypatch.setattr(core, "READ_BLOCK", 1000)
    monkeypatch.setattr(core, "STREAM_BLOCK", 1000)
    await fs.put("f", DATA)
    thread_calls.clear()
    reader = await fs.acc.read("f", OpRead(offset=10, size=3500))
    handle = reader._handle
    assert await reader.read_rest() == DATA[10:3510]
    assert thread_calls == ["open_read", "read_rest"]
    assert handle is not None and handle.done  # the file is closed
    assert await reader.read_rest() == b""
    assert await reader.read() == b""
    await reader.aclose()
    assert thread_calls == ["open_read", "read_rest"]


async def test_read_rest_after_some_blocks(fs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "READ_BLOCK", 1000)
    monkeypatch.setattr(core, "STREAM_BLOCK", 1000)
    await fs.put("f", DATA)
    reader = await fs.acc.read("f", OpRead())
    first = await reader.read()
    assert first == DATA[:1000]
    assert await reader.read_rest() == DATA[1000:]
    await reader.aclose()


async def test_small_range_read_rest_is_the_open_call_only(fs, thread_calls: list[str]) -> None:
    await fs.put("f", DATA)
    thread_calls.clear()
    reader = await fs.acc.read("f", OpRead(offset=5, size=100))
    assert await reader.read_rest() == DATA[5:105]
    assert await reader.read_rest() == b""
    await reader.aclose()
    assert thread_calls == ["open_read"]


async def test_large_read_sees_one_version_of_the_file(fs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "READ_BLOCK", 1000)
    monkeypatch.setattr(core, "STREAM_BLOCK", 1000)
    await fs.put("f", DATA)
    reader = await fs.acc.read("f", OpRead())
    first = await reader.read()
    await fs.put("f", b"new version" * 2000)  # atomically replaced meanwhile
    rest = []
    while block := await reader.read():
        rest.append(block)
    assert first + b"".join(rest) == DATA
    assert await fs.get("f") == b"new version" * 2000


async def test_closing_a_large_reader_early_closes_the_file(fs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "READ_BLOCK", 1000)
    monkeypatch.setattr(core, "STREAM_BLOCK", 1000)
    await fs.put("f", DATA)
    reader = await fs.acc.read("f", OpRead())
    handle = reader._handle  # the open file behind the reader
    assert handle is not None and not handle.done
    assert len(await reader.read()) == 1000
    await reader.aclose()
    assert handle.done
    assert await reader.read() == b""
    await reader.aclose()  # twice is fine


async def test_file_shrinking_under_a_large_read_is_a_temporary_error(
    fs, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "READ_BLOCK", 1000)
    monkeypatch.setattr(core, "STREAM_BLOCK", 1000)
    await fs.put("f", DATA)
    reader = await fs.acc.read("f", OpRead())
    await reader.read()
    os.truncate(root / "f", 1500)  # in place: the open file sees it
    with pytest.raises(errors.Unexpected) as info:  # the block at 1000..2000 comes up short
        await reader.read()
    assert info.value.temporary
    assert (info.value.operation, info.value.path) == ("read", "f")
    await reader.aclose()
