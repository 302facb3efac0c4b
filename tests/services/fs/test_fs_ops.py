"""stat, create_dir, delete, copy, rename."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from pystorage import errors
from pystorage.raw.ops import OpCopy, OpCreateDir, OpDelete, OpRename, OpStat
from pystorage.types import EntryMode

pytestmark = pytest.mark.anyio


# stat ----------------------------------------------------------------------
async def test_stat_file(fs, thread_calls: list[str]) -> None:
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    await fs.put("d/f", b"12345")
    thread_calls.clear()
    meta = await fs.acc.stat("d/f", OpStat())
    assert thread_calls == ["stat"]
    assert meta.mode is EntryMode.FILE
    assert meta.content_length == 5
    assert meta.last_modified is not None and meta.last_modified.tzinfo is dt.timezone.utc
    assert before <= meta.last_modified <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    assert meta.etag is not None and re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+-5"', meta.etag)


async def test_etag_follows_the_content(fs, root: Path) -> None:
    await fs.put("f", b"one")
    first = (await fs.acc.stat("f", OpStat())).etag
    assert (await fs.acc.stat("f", OpStat())).etag == first
    await fs.put("f", b"three")
    assert (await fs.acc.stat("f", OpStat())).etag != first
    os.utime(root / "f", ns=(1_000_000_000, 1_000_000_000))
    meta = await fs.acc.stat("f", OpStat())
    assert meta.etag == f'"{os.stat(root / "f").st_ino:x}-{1_000_000_000:x}-5"'
    assert meta.last_modified == dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)


async def test_stat_directory(fs, root: Path) -> None:
    (root / "d").mkdir()
    for path in ("d/", "d", "/"):
        meta = await fs.acc.stat(path, OpStat())
        assert meta.mode is EntryMode.DIR, path
        assert meta.last_modified is not None


async def test_stat_missing(fs) -> None:
    await fs.put("f", b"x")
    for path in ("missing", "missing/", "f/", "f/x"):
        with pytest.raises(errors.NotFound) as info:
            await fs.acc.stat(path, OpStat())
        assert (info.value.operation, info.value.path, info.value.service) == ("stat", path, "fs")


# create_dir -----------------------------------------------------------------
async def test_create_dir(fs, root: Path) -> None:
    await fs.acc.create_dir("a/b/c/", OpCreateDir())
    assert (root / "a" / "b" / "c").is_dir()
    await fs.acc.create_dir("a/b/c/", OpCreateDir())  # existing is fine
    assert (await fs.acc.stat("a/b/", OpStat())).is_dir


async def test_create_dir_over_a_file(fs) -> None:
    await fs.put("f", b"x")
    with pytest.raises(errors.NotADirectory):
        await fs.acc.create_dir("f/", OpCreateDir())
    with pytest.raises(errors.NotADirectory):
        await fs.acc.create_dir("f/sub/", OpCreateDir())


# delete ----------------------------------------------------------------------
async def test_delete_file(fs, root: Path) -> None:
    await fs.put("d/f", b"x")
    await fs.acc.delete("d/f", OpDelete())
    assert not (root / "d" / "f").exists()
    await fs.acc.delete("d/f", OpDelete())  # missing is fine
    await fs.acc.delete("nope/nope", OpDelete())


async def test_delete_empty_directory(fs, root: Path) -> None:
    (root / "d").mkdir()
    await fs.acc.delete("d/", OpDelete())
    assert not (root / "d").exists()
    await fs.acc.delete("d/", OpDelete())


async def test_delete_keeps_a_non_empty_directory(fs, root: Path) -> None:
    await fs.put("d/f", b"x")
    await fs.acc.delete("d/", OpDelete())  # no error, like a prefix on an object store
    assert (root / "d" / "f").read_bytes() == b"x"
    await fs.acc.delete("d/f", OpDelete())
    await fs.acc.delete("d/", OpDelete())
    assert not (root / "d").exists()


async def test_delete_a_directory_path_naming_a_file_deletes_nothing(fs, root: Path) -> None:
    await fs.put("f", b"x")
    await fs.acc.delete("f/", OpDelete())
    assert (root / "f").exists()
    await fs.acc.delete("f/x", OpDelete())  # below a file: missing


async def test_delete_never_removes_the_root(fs, root: Path) -> None:
    await fs.acc.delete("/", OpDelete())
    assert (root / ".").is_dir()


async def test_delete_a_symlink_removes_the_link_only(fs, root: Path) -> None:
    await fs.put("target", b"kept")
    (root / "link").symlink_to(root / "target")
    (root / "dirlink").symlink_to(root)
    await fs.acc.delete("link", OpDelete())
    await fs.acc.delete("dirlink/", OpDelete())
    assert not (root / "link").is_symlink() and not (root / "dirlink").is_symlink()
    assert (root / "target").read_bytes() == b"kept"


# copy ----------------------------------------------------------------------------
async def test_copy(fs, root: Path, temps, thread_calls: list[str]) -> None:
    await fs.put("src", b"payload")
    thread_calls.clear()
    await fs.acc.copy("src", "x/y/dst", OpCopy())
    assert thread_calls == ["copy"]
    assert (root / "x" / "y" / "dst").read_bytes() == b"payload"
    await fs.put("src", b"changed")
    await fs.acc.copy("src", "x/y/dst", OpCopy())  # overwrites
    assert (root / "x" / "y" / "dst").read_bytes() == b"changed"
    assert temps(root) == []


async def test_copy_errors(fs, root: Path) -> None:
    await fs.put("f", b"x")
    (root / "d").mkdir()
    with pytest.raises(errors.NotFound) as info:
        await fs.acc.copy("missing", "dst", OpCopy())
    assert (info.value.operation, info.value.path) == ("copy", "missing")
    with pytest.raises(errors.IsADirectory):
        await fs.acc.copy("d", "dst", OpCopy())
    with pytest.raises(errors.IsSameFile):
        await fs.acc.copy("f", "f", OpCopy())
    with pytest.raises(errors.IsADirectory):
        await fs.acc.copy("f", "d", OpCopy())
    assert not (root / "dst").exists()


# rename --------------------------------------------------------------------------
async def test_rename(fs, root: Path) -> None:
    await fs.put("src", b"payload")
    await fs.acc.rename("src", "new/dir/dst", OpRename())
    assert not (root / "src").exists()
    assert (root / "new" / "dir" / "dst").read_bytes() == b"payload"
    await fs.put("other", b"other")
    await fs.acc.rename("other", "new/dir/dst", OpRename())  # replaces
    assert (root / "new" / "dir" / "dst").read_bytes() == b"other"


async def test_rename_missing_source(fs) -> None:
    with pytest.raises(errors.NotFound) as info:
        await fs.acc.rename("missing", "dst", OpRename())
    assert (info.value.operation, info.value.path, info.value.service) == ("rename", "missing", "fs")
    await fs.put("f", b"x")
    with pytest.raises(errors.NotFound):
        await fs.acc.rename("f/x", "dst", OpRename())


async def test_rename_onto_a_directory(fs, root: Path) -> None:
    await fs.put("f", b"x")
    await fs.put("d/inner", b"y")
    with pytest.raises(errors.IsADirectory):
        await fs.acc.rename("f", "d", OpRename())
    assert (root / "f").exists()


async def test_rename_below_a_file(fs) -> None:
    await fs.put("f", b"x")
    await fs.put("g", b"y")
    with pytest.raises(errors.NotADirectory):
        await fs.acc.rename("g", "f/g", OpRename())
