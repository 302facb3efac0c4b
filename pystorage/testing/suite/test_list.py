"""``list``: what is yielded, relative paths, directories, start_after, limit, recursive."""

from __future__ import annotations

import inspect

import pytest

from pystorage import Entry, Operator, errors

from .helpers import collect, need, paths

pytestmark = pytest.mark.anyio


async def _tree(op: Operator) -> None:
    for path in ("dir/a", "dir/b", "dir/sub/c", "dir/sub/d", "dir/sub/deeper/e", "other/f", "top"):
        await op.write(path, path.encode())


def test_list_is_not_a_coroutine_function() -> None:
    from pystorage import Operator as Op

    assert not inspect.iscoroutinefunction(Op.list)


async def test_list_returns_async_iterator(op: Operator) -> None:
    await op.write("dir/a", b"a")
    listing = op.list("dir/")
    assert not inspect.iscoroutine(listing)
    assert hasattr(listing, "__aiter__")
    assert [e.path async for e in listing] == ["dir/a"]


async def test_list_yields_children_not_itself(op: Operator) -> None:
    await _tree(op)
    assert await paths(op, "dir/") == {"dir/a", "dir/b", "dir/sub/"}


async def test_list_entry_types(op: Operator) -> None:
    await _tree(op)
    entries = {e.path: e for e in await collect(op, "dir/")}
    assert all(isinstance(e, Entry) for e in entries.values())
    assert entries["dir/a"].metadata.is_file
    assert entries["dir/sub/"].metadata.is_dir
    assert entries["dir/a"].name == "a"
    assert entries["dir/sub/"].name == "sub/"


async def test_list_dirs_end_with_slash(op: Operator) -> None:
    await _tree(op)
    for entry in await collect(op, "dir/"):
        assert entry.path.endswith("/") == entry.metadata.is_dir


async def test_list_subdir(op: Operator) -> None:
    await _tree(op)
    assert await paths(op, "dir/sub/") == {"dir/sub/c", "dir/sub/d", "dir/sub/deeper/"}


async def test_list_root(op: Operator) -> None:
    await _tree(op)
    assert await paths(op, "/") == {"dir/", "other/", "top"}


async def test_list_root_spelled_empty(op: Operator) -> None:
    await _tree(op)
    assert await paths(op, "") == {"dir/", "other/", "top"}


async def test_list_dir_yielded_once(op: Operator) -> None:
    await _tree(op)
    entries = [e.path for e in await collect(op, "dir/")]
    assert entries.count("dir/sub/") == 1
    assert len(entries) == len(set(entries))


async def test_list_missing_dir_is_empty(op: Operator) -> None:
    await _tree(op)
    assert await collect(op, "nothing-here/") == []


async def test_list_empty_root(op: Operator) -> None:
    assert await collect(op, "/") == []


async def test_list_prefix_is_not_sibling(op: Operator) -> None:
    await op.write("dir/a", b"a")
    await op.write("dir2/b", b"b")
    await op.write("dirx", b"c")
    assert await paths(op, "dir/") == {"dir/a"}


async def test_list_created_empty_dir(op: Operator) -> None:
    need(op, "create_dir")
    await op.create_dir("dir/empty/")
    await op.write("dir/file", b"x")
    assert await paths(op, "dir/") == {"dir/empty/", "dir/file"}
    assert await collect(op, "dir/empty/") == []


async def test_list_entry_metadata_of_file(op: Operator) -> None:
    await op.write("dir/file", b"12345")
    (entry,) = await collect(op, "dir/")
    assert entry.path == "dir/file"
    assert entry.metadata.is_file
    if entry.metadata.content_length is not None:
        assert entry.metadata.content_length == 5


async def test_list_start_after(op: Operator) -> None:
    need(op, "list_with_start_after")
    for name in ("a", "b", "c", "d", "e"):
        await op.write(f"dir/{name}", b"x")
    assert await paths(op, "dir/", start_after="dir/b") == {"dir/c", "dir/d", "dir/e"}


async def test_list_start_after_between_keys(op: Operator) -> None:
    need(op, "list_with_start_after")
    for name in ("a", "c", "e"):
        await op.write(f"dir/{name}", b"x")
    assert await paths(op, "dir/", start_after="dir/b") == {"dir/c", "dir/e"}


async def test_list_start_after_recursive(op: Operator) -> None:
    need(op, "list_with_start_after", "list_with_recursive")
    await _tree(op)
    found = await paths(op, "dir/", recursive=True, start_after="dir/sub/c")
    files = {p for p in found if not p.endswith("/")}
    assert files == {"dir/sub/d", "dir/sub/deeper/e"}


async def test_list_limit_caps_total(op: Operator) -> None:
    for i in range(7):
        await op.write(f"dir/{i}", b"x")
    entries = await collect(op, "dir/", limit=3)
    assert len(entries) == 3
    assert {e.path for e in entries} <= {f"dir/{i}" for i in range(7)}


async def test_list_limit_larger_than_count(op: Operator) -> None:
    for i in range(3):
        await op.write(f"dir/{i}", b"x")
    assert len(await collect(op, "dir/", limit=100)) == 3


async def test_list_limit_with_start_after(op: Operator) -> None:
    need(op, "list_with_start_after")
    for name in ("a", "b", "c", "d", "e"):
        await op.write(f"dir/{name}", b"x")
    entries = await collect(op, "dir/", start_after="dir/a", limit=2)
    assert len(entries) == 2
    assert {e.path for e in entries} <= {"dir/b", "dir/c", "dir/d", "dir/e"}


async def test_list_recursive(op: Operator) -> None:
    need(op, "list_with_recursive")
    await _tree(op)
    entries = await collect(op, "dir/", recursive=True)
    files = {e.path for e in entries if not e.path.endswith("/")}
    assert files == {"dir/a", "dir/b", "dir/sub/c", "dir/sub/d", "dir/sub/deeper/e"}
    assert "dir/" not in {e.path for e in entries}
    for entry in entries:
        assert entry.path.startswith("dir/")
        assert entry.path.endswith("/") == entry.metadata.is_dir


async def test_list_recursive_root(op: Operator) -> None:
    need(op, "list_with_recursive")
    await _tree(op)
    files = {p for p in await paths(op, "/", recursive=True) if not p.endswith("/")}
    assert files == {"dir/a", "dir/b", "dir/sub/c", "dir/sub/d", "dir/sub/deeper/e", "other/f", "top"}


async def test_list_recursive_limit(op: Operator) -> None:
    need(op, "list_with_recursive")
    await _tree(op)
    assert len(await collect(op, "dir/", recursive=True, limit=2)) == 2


async def test_list_many(op: Operator) -> None:
    names = {f"many/{i:04d}" for i in range(250)}
    for name in names:
        await op.write(name, b"x")
    assert await paths(op, "many/") == names


async def test_list_versions_unsupported(op: Operator) -> None:
    if op.capability().list_with_versions:
        pytest.skip("has list_with_versions")
    await op.write("dir/a", b"x")
    with pytest.raises(errors.Unsupported):
        await collect(op, "dir/", versions=True)
