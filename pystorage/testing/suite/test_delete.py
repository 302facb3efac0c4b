"""``delete``, ``delete_many``, ``remove_all`` and ``create_dir``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from pystorage import Operator, errors

from .helpers import need, paths

pytestmark = pytest.mark.anyio


async def test_delete_file(op: Operator) -> None:
    await op.write("file", b"x")
    await op.delete("file")
    assert not await op.exists("file")
    with pytest.raises(errors.NotFound):
        await op.read("file")


async def test_delete_missing_succeeds(op: Operator) -> None:
    await op.delete("never-existed")
    await op.delete("missing/deep/file")
    assert not await op.exists("never-existed")


async def test_delete_twice(op: Operator) -> None:
    await op.write("file", b"x")
    await op.delete("file")
    await op.delete("file")
    assert not await op.exists("file")


async def test_delete_keeps_siblings(op: Operator) -> None:
    await op.write("dir/a", b"a")
    await op.write("dir/b", b"b")
    await op.delete("dir/a")
    assert await op.read("dir/b") == b"b"
    assert await paths(op, "dir/") == {"dir/b"}


async def test_delete_empty_dir(op: Operator) -> None:
    need(op, "create_dir")
    await op.create_dir("empty/")
    await op.delete("empty/")
    assert not await op.exists("empty/")


async def test_delete_version_unsupported(op: Operator) -> None:
    if op.capability().delete_with_version:
        pytest.skip("has delete_with_version")
    await op.write("file", b"x")
    with pytest.raises(errors.Unsupported):
        await op.delete("file", version="1")
    assert await op.exists("file")


async def _written(op: Operator, n: int) -> list[str]:
    names = [f"many/{i}" for i in range(n)]
    for name in names:
        await op.write(name, b"x")
    await op.write("keep", b"k")
    return names


async def test_delete_many_list(op: Operator) -> None:
    names = await _written(op, 5)
    await op.delete_many([*names, "missing"])
    assert await paths(op, "many/") == set()
    assert await op.exists("keep")


async def test_delete_many_generator(op: Operator) -> None:
    names = await _written(op, 5)

    def gen() -> Iterator[str]:
        yield from names[:3]

    await op.delete_many(gen())
    assert await paths(op, "many/") == {"many/3", "many/4"}


async def test_delete_many_async_generator(op: Operator) -> None:
    names = await _written(op, 5)

    async def agen() -> AsyncIterator[str]:
        for name in names:
            yield name

    await op.delete_many(agen())
    assert await paths(op, "many/") == set()
    assert await op.exists("keep")


async def test_delete_many_more_than_a_batch(op: Operator) -> None:
    n = max(5, min(op.capability().delete_max_size or 1, 1000) + 3)
    names = await _written(op, min(n, 1003))
    await op.delete_many(names)
    assert await paths(op, "many/") == set()


async def test_delete_many_empty(op: Operator) -> None:
    await op.write("keep", b"k")
    await op.delete_many([])
    assert await op.exists("keep")


async def test_delete_many_invalid_path_raises(op: Operator) -> None:
    with pytest.raises(errors.InvalidPath):
        await op.delete_many(["a", "../escape"])


async def test_remove_all(op: Operator) -> None:
    for path in ("dir/a", "dir/sub/b", "dir/sub/deeper/c", "dir2/d", "dirx"):
        await op.write(path, b"x")
    await op.remove_all("dir/")
    assert not await op.exists("dir/a")
    assert not await op.exists("dir/sub/deeper/c")
    assert not await op.exists("dir/")
    assert await op.read("dir2/d") == b"x"
    assert await op.read("dirx") == b"x"
    assert await paths(op, "/") == {"dir2/", "dirx"}


async def test_remove_all_with_created_dirs(op: Operator) -> None:
    need(op, "create_dir")
    await op.create_dir("dir/empty/")
    await op.write("dir/sub/a", b"x")
    await op.remove_all("dir/")
    assert await paths(op, "/") == set()


async def test_remove_all_missing_succeeds(op: Operator) -> None:
    await op.remove_all("missing/")
    assert await paths(op, "/") == set()


async def test_remove_all_root_contents(op: Operator) -> None:
    for path in ("a", "b/c", "d/e/f"):
        await op.write(path, b"x")
    await op.remove_all("/")
    assert await paths(op, "/") == set()
    await op.write("after", b"y")
    assert await op.read("after") == b"y"


async def test_create_dir(op: Operator) -> None:
    need(op, "create_dir")
    await op.create_dir("a/b/")
    assert (await op.stat("a/b/")).is_dir
    assert await paths(op, "a/") == {"a/b/"}


async def test_create_dir_idempotent(op: Operator) -> None:
    need(op, "create_dir")
    await op.create_dir("a/")
    await op.create_dir("a/")
    await op.write("a/file", b"x")
    await op.create_dir("a/")
    assert await op.read("a/file") == b"x"


async def test_create_dir_unsupported(op: Operator) -> None:
    if op.capability().create_dir:
        pytest.skip("has create_dir")
    with pytest.raises(errors.Unsupported):
        await op.create_dir("a/")
    assert not await op.exists("a/")
