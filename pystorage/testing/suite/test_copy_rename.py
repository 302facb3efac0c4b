"""``copy`` and ``rename`` (gated on the ``copy`` / ``rename`` capabilities)."""

from __future__ import annotations

import pytest

from pystorage import Operator, errors

from .helpers import lacking, need, paths, payload

pytestmark = pytest.mark.anyio

DATA = payload(3000, seed=21)

# the tests that hold for both operations run once per operation
both = pytest.mark.parametrize("operation", ["copy", "rename"])


async def move(op: Operator, operation: str, src: str, dst: str) -> None:
    """``op.copy(src, dst)`` or ``op.rename(src, dst)``, as ``operation`` names."""
    await getattr(op, operation)(src, dst)


@both
async def test_copy_rename(op: Operator, operation: str) -> None:
    need(op, operation)
    await op.write("src", DATA)
    await move(op, operation, "src", "dst")
    assert await op.read("dst") == DATA
    if operation == "copy":
        assert await op.read("src") == DATA
    else:
        assert not await op.exists("src")


@both
async def test_copy_rename_overwrites(op: Operator, operation: str) -> None:
    need(op, operation)
    await op.write("src", DATA)
    await op.write("dst", b"old")
    await move(op, operation, "src", "dst")
    assert await op.read("dst") == DATA
    if operation == "rename":
        assert not await op.exists("src")


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


@both
async def test_copy_rename_missing_source(op: Operator, operation: str) -> None:
    need(op, operation)
    with pytest.raises(errors.NotFound):
        await move(op, operation, "missing", "dst")
    assert not await op.exists("dst")


@pytest.mark.parametrize(
    ("operation", "path", "same"),
    [("copy", "src", "src"), ("copy", "a/src", "/a//src"), ("rename", "src", "src")],
    ids=["copy", "copy-spelled-differently", "rename"],
)
async def test_copy_rename_same_path(op: Operator, operation: str, path: str, same: str) -> None:
    need(op, operation)
    await op.write(path, DATA)
    with pytest.raises(errors.IsSameFile):
        await move(op, operation, path, same)
    assert await op.read(path) == DATA


async def test_copy_dir_path_raises(op: Operator) -> None:
    need(op, "copy")
    await op.write("src", DATA)
    with pytest.raises(errors.IsADirectory):
        await op.copy("src", "dst/")


async def test_rename_into_new_dir(op: Operator) -> None:
    need(op, "rename")
    await op.write("dir/src", DATA)
    await op.rename("dir/src", "other/deep/dst")
    assert await op.read("other/deep/dst") == DATA
    assert not await op.exists("dir/src")


@both
async def test_copy_rename_unsupported(op: Operator, operation: str) -> None:
    lacking(op, operation)
    await op.write("src", DATA)
    with pytest.raises(errors.Unsupported):
        await move(op, operation, "src", "dst")
    assert not await op.exists("dst")
    assert await op.read("src") == DATA
