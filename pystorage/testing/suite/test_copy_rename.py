"""``copy`` and ``rename`` (gated on the ``copy`` / ``rename`` capabilities)."""

from __future__ import annotations

import pytest

from pystorage import Operator, errors

from .helpers import need, paths, payload

pytestmark = pytest.mark.anyio

DATA = payload(3000, seed=21)


async def test_copy(op: Operator) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    await op.copy("src", "dst")
    assert await op.read("dst") == DATA
    assert await op.read("src") == DATA


async def test_copy_overwrites(op: Operator) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    await op.write("dst", b"old")
    await op.copy("src", "dst")
    assert await op.read("dst") == DATA


async def test_copy_into_new_dir(op: Operator) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    await op.copy("src", "a/b/dst")
    assert await op.read("a/b/dst") == DATA
    assert await paths(op, "a/b/") == {"a/b/dst"}


async def test_copy_is_independent(op: Operator) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    await op.copy("src", "dst")
    await op.write("src", b"changed")
    await op.delete("src")
    assert await op.read("dst") == DATA


async def test_copy_missing_source(op: Operator) -> None:
    need(op, "copy")
    with pytest.raises(errors.NotFound):
        await op.copy("missing", "dst")
    assert not await op.exists("dst")


async def test_copy_same_path(op: Operator) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    with pytest.raises(errors.IsSameFile):
        await op.copy("src", "src")
    assert await op.read("src") == DATA


async def test_copy_same_path_spelled_differently(op: Operator) -> None:
    need(op, "copy")
    await op.write("a/src", DATA)
    with pytest.raises(errors.IsSameFile):
        await op.copy("a/src", "/a//src")
    assert await op.read("a/src") == DATA


async def test_copy_dir_path_raises(op: Operator) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    with pytest.raises(errors.IsADirectory):
        await op.copy("src", "dst/")


async def test_rename(op: Operator) -> None:
    need(op, "rename")
    await op.write("src", DATA)
    await op.rename("src", "dst")
    assert await op.read("dst") == DATA
    assert not await op.exists("src")


async def test_rename_overwrites(op: Operator) -> None:
    need(op, "rename")
    await op.write("src", DATA)
    await op.write("dst", b"old")
    await op.rename("src", "dst")
    assert await op.read("dst") == DATA
    assert not await op.exists("src")


async def test_rename_into_new_dir(op: Operator) -> None:
    need(op, "rename")
    await op.write("dir/src", DATA)
    await op.rename("dir/src", "other/deep/dst")
    assert await op.read("other/deep/dst") == DATA
    assert not await op.exists("dir/src")


async def test_rename_missing_source(op: Operator) -> None:
    need(op, "rename")
    with pytest.raises(errors.NotFound):
        await op.rename("missing", "dst")
    assert not await op.exists("dst")


async def test_rename_same_path(op: Operator) -> None:
    need(op, "rename")
    await op.write("src", DATA)
    with pytest.raises(errors.IsSameFile):
        await op.rename("src", "src")
    assert await op.read("src") == DATA


@pytest.mark.parametrize("operation", ["copy", "rename"])
async def test_copy_rename_unsupported(op: Operator, operation: str) -> None:
    if getattr(op.capability(), operation):
        pytest.skip(f"has {operation}")
    await op.write("src", DATA)
    with pytest.raises(errors.Unsupported):
        await getattr(op, operation)("src", "dst")
    assert not await op.exists("dst")
    assert await op.read("src") == DATA
