"""Writes: temp file + atomic rename, abort, append, if_not_exists, cancellation."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from pystorage import errors
from pystorage.raw.ops import OpWrite
from pystorage.services.fs import writer as fs_writer

pytestmark = pytest.mark.anyio


def exists(path: str) -> bool:
    """Whether ``path`` exists on disk."""
    return os.path.exists(path)


async def test_nothing_is_visible_until_close(fs, root: Path, temps) -> None:
    writer = await fs.acc.write("d/f", OpWrite())
    await writer.write(b"hello ")
    await writer.write(memoryview(b"world"))
    assert not (root / "d" / "f").exists()
    staged = temps(root)
    assert len(staged) == 1 and staged[0].startswith("d/.f.")  # next to the target
    assert await fs.ls("d/") == []  # and hidden from listings
    meta = await writer.close()
    assert meta.content_length == 11 and meta.is_file
    assert (root / "d" / "f").read_bytes() == b"hello world"
    assert temps(root) == []


async def test_each_write_is_one_thread_hand_off(fs, thread_calls: list[str]) -> None:
    writer = await fs.acc.write("f", OpWrite())
    await writer.write(b"a" * 300_000)
    await writer.write(b"b" * 300_000)
    await writer.close()
    assert thread_calls == ["open", "write", "write", "commit"]
    thread_calls.clear()
    await fs.put("g", b"one shot")
    assert thread_calls == ["write_once"]


async def test_overwrite_replaces_the_file(fs, root: Path) -> None:
    await fs.put("f", b"old content")
    meta = await fs.put("f", b"new")
    assert (root / "f").read_bytes() == b"new"
    assert meta.content_length == 3


async def test_empty_write(fs, root: Path) -> None:
    writer = await fs.acc.write("e", OpWrite())
    meta = await writer.close()
    assert meta.content_length == 0
    assert (root / "e").read_bytes() == b""


async def test_non_byte_memoryview(fs, root: Path) -> None:
    import array

    data = array.array("i", [1, 2, 3])
    await fs.put("ints", memoryview(data))
    assert (root / "ints").read_bytes() == data.tobytes()


async def test_abort_removes_the_temp_file_and_keeps_the_target(fs, root: Path, temps) -> None:
    await fs.put("f", b"original")
    writer = await fs.acc.write("f", OpWrite())
    await writer.write(b"discarded")
    await writer.abort()
    assert (root / "f").read_bytes() == b"original"
    assert temps(root) == []
    await writer.abort()  # twice is fine
    with pytest.raises(errors.Unexpected, match="closed"):
        await writer.write(b"more")


async def test_abort_after_close_is_harmless(fs, root: Path) -> None:
    writer = await fs.acc.write("f", OpWrite())
    await writer.write(b"kept")
    await writer.close()
    await writer.abort()
    assert (root / "f").read_bytes() == b"kept"


async def test_abort_in_a_cancelled_scope_still_cleans_up(fs, root: Path, temps) -> None:
    writer = await fs.acc.write("f", OpWrite())
    await writer.write(b"x")
    with anyio.CancelScope() as scope:
        scope.cancel()
        await writer.abort()
    assert temps(root) == []
    assert not (root / "f").exists()


async def test_cancelled_write_then_abort_leaves_nothing(fs, root: Path, temps) -> None:
    writer = await fs.acc.write("f", OpWrite())
    big = b"z" * (32 * 1024 * 1024)

    async def write_big() -> None:
        await writer.write(big)

    async with anyio.create_task_group() as tg:
        tg.start_soon(write_big)
        await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()  # lands while the write runs (or before it starts)
    await writer.abort()
    assert temps(root) == []
    assert not (root / "f").exists()


async def test_abort_waits_for_a_write_still_running(fs, root: Path, temps) -> None:
    writer = await fs.acc.write("f", OpWrite())
    temp = writer._temp
    staged = temp.temp_path
    assert staged is not None and exists(staged)
    temp._lock.acquire()  # a write "still running" in another thread holds the lock
    done = anyio.Event()

    async def abort() -> None:
        await writer.abort()
        done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(abort)
        await anyio.sleep(0.05)
        assert not done.is_set() and exists(staged)  # abort waits ...
        temp._lock.release()
    assert done.is_set() and temps(root) == []  # ... then removes the temp file


async def test_parents_are_created(fs, root: Path) -> None:
    await fs.put("a/b/c/d", b"deep")
    assert (root / "a" / "b" / "c" / "d").read_bytes() == b"deep"


async def test_a_file_in_the_way_of_a_parent(fs) -> None:
    await fs.put("a", b"file")
    with pytest.raises(errors.NotADirectory) as info:
        await fs.put("a/b", b"x")
    assert (info.value.operation, info.value.path) == ("write", "a/b")


async def test_writing_a_directory_path(fs) -> None:
    with pytest.raises(errors.IsADirectory):
        await fs.acc.write("d/", OpWrite())


async def test_writing_over_a_directory(fs, root: Path, temps) -> None:
    (root / "d").mkdir()
    (root / "d" / "x").write_bytes(b"x")
    with pytest.raises(errors.IsADirectory):
        await fs.put("d", b"x")
    assert temps(root) == []
    assert (root / "d" / "x").read_bytes() == b"x"


async def test_long_names_keep_temp_names_short(fs, root: Path) -> None:
    name = "n" * 250
    await fs.put(name, b"ok")
    assert (root / name).read_bytes() == b"ok"


# if_not_exists -------------------------------------------------------------
async def test_if_not_exists_creates(fs, root: Path) -> None:
    meta = await fs.put("f", b"first", if_not_exists=True)
    assert meta.content_length == 5
    assert (root / "f").read_bytes() == b"first"


async def test_if_not_exists_refuses_an_existing_target(fs, root: Path, temps) -> None:
    await fs.put("f", b"first")
    with pytest.raises(errors.ConditionNotMatch) as info:
        await fs.put("f", b"second", if_not_exists=True)
    assert (info.value.operation, info.value.path, info.value.service) == ("write", "f", "fs")
    assert (root / "f").read_bytes() == b"first"
    assert temps(root) == []


async def test_if_not_exists_is_checked_again_at_close(fs, root: Path, temps) -> None:
    writer = await fs.acc.write("f", OpWrite(if_not_exists=True))
    await writer.write(b"late")
    await fs.put("f", b"raced ahead")
    with pytest.raises(errors.ConditionNotMatch):
        await writer.close()
    assert (root / "f").read_bytes() == b"raced ahead"
    assert temps(root) == []
    await writer.abort()


async def test_if_not_exists_without_hard_links(fs, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(fs_writer.os, "link", no_links)
    await fs.put("f", b"first", if_not_exists=True)
    assert (root / "f").read_bytes() == b"first"
    writer = await fs.acc.write("g", OpWrite(if_not_exists=True))
    await writer.write(b"late")
    (root / "g").write_bytes(b"raced ahead")
    with pytest.raises(errors.ConditionNotMatch):
        await writer.close()
    assert (root / "g").read_bytes() == b"raced ahead"


# append --------------------------------------------------------------------
async def test_append_to_an_existing_file(fs, root: Path, temps) -> None:
    await fs.put("log", b"one\n")
    writer = await fs.acc.write("log", OpWrite(append=True))
    await writer.write(b"two\n")
    await writer.write(b"three\n")
    assert (root / "log").read_bytes() == b"one\n"  # nothing visible until close
    meta = await writer.close()
    assert meta.content_length == len(b"one\ntwo\nthree\n")  # the whole file
    assert (root / "log").read_bytes() == b"one\ntwo\nthree\n"
    assert temps(root) == []


async def test_append_creates_a_missing_file(fs, root: Path) -> None:
    meta = await fs.put("new/log", b"first", append=True)
    assert meta.content_length == 5
    await fs.put("new/log", b" second", append=True)
    assert (root / "new" / "log").read_bytes() == b"first second"


async def test_aborted_append_leaves_the_target_untouched(fs, root: Path, temps) -> None:
    await fs.put("log", b"kept")
    writer = await fs.acc.write("log", OpWrite(append=True))
    await writer.write(b"lost")
    await writer.abort()
    assert (root / "log").read_bytes() == b"kept"
    assert temps(root) == []


async def test_empty_append(fs, root: Path) -> None:
    await fs.put("log", b"kept")
    assert (await fs.put("log", b"", append=True)).content_length == 4
    assert (await fs.put("missing", b"", append=True)).content_length == 0
    assert (root / "missing").read_bytes() == b""


async def test_append_with_if_not_exists(fs, root: Path) -> None:
    await fs.put("log", b"x", append=True, if_not_exists=True)
    with pytest.raises(errors.ConditionNotMatch):
        await fs.put("log", b"y", append=True, if_not_exists=True)
    assert (root / "log").read_bytes() == b"x"


async def test_append_in_large_blocks_without_hard_links(
    fs, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "hard links not supported")

    monkeypatch.setattr(fs_writer.os, "link", no_links)
    monkeypatch.setattr(fs_writer, "COPY_BLOCK", 1000)
    data = os.urandom(3500)
    await fs.put("log", data, append=True)  # missing target: created by the append open
    await fs.put("log", data, append=True)
    assert (root / "log").read_bytes() == data + data


async def test_failed_append_is_rolled_back(fs, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await fs.put("log", b"original")
    monkeypatch.setattr(fs_writer, "COPY_BLOCK", 4)
    real_write = fs_writer.os.write
    calls = 0

    def failing_write(fd: int, data: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:  # the third block of the append copy
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)  # type: ignore[arg-type]

    writer = await fs.acc.write("log", OpWrite(append=True))
    await writer.write(b"0123456789")
    monkeypatch.setattr(fs_writer.os, "write", failing_write)
    with pytest.raises(errors.Unexpected, match="No space"):
        await writer.close()  # two blocks land on the target, the third fails
    assert (root / "log").read_bytes() == b"original"
