"""Path rules: leading ``/``, ``//``, directories, ``..`` and NUL refused before any I/O."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pystorage import Operator, errors

from .helpers import collect, paths

pytestmark = pytest.mark.anyio


async def test_leading_slash_ignored(op: Operator) -> None:
    await op.write("/lead", b"x")
    assert await op.read("lead") == b"x"
    assert await op.read("/lead") == b"x"
    assert await paths(op, "/") == {"lead"}


async def test_double_slash_collapses(op: Operator) -> None:
    await op.write("a//b///c", b"x")
    assert await op.read("a/b/c") == b"x"
    assert await paths(op, "a//") == {"a/b/"}
    assert await paths(op, "a/b/") == {"a/b/c"}


async def test_stat_and_exists_normalise(op: Operator) -> None:
    await op.write("a/b", b"xyz")
    assert (await op.stat("//a//b")).content_length == 3
    assert await op.exists("/a/b")


async def test_delete_normalises(op: Operator) -> None:
    await op.write("a/b", b"x")
    await op.delete("/a//b")
    assert not await op.exists("a/b")


async def test_entry_path_relative_to_root(op: Operator) -> None:
    await op.write("x/y/z", b"x")
    entries = await collect(op, "x/y/")
    assert [e.path for e in entries] == ["x/y/z"]
    root = op.info.root.strip("/")
    assert root and not entries[0].path.startswith(root)


async def test_unusual_names_round_trip(op: Operator) -> None:
    names = ["with space", "ünïcödé-€", "plus+sign", "percent%20", "eq=amp&", "semi;colon", "tilde~"]
    for name in names:
        await op.write(f"dir/{name}", name.encode())
    for name in names:
        assert await op.read(f"dir/{name}") == name.encode()
    assert await paths(op, "dir/") == {f"dir/{n}" for n in names}


async def test_read_dir_path_raises(op: Operator) -> None:
    await op.write("a/file", b"x")
    with pytest.raises(errors.IsADirectory):
        await op.read("a/")
    with pytest.raises(IsADirectoryError):
        await op.read("missing-dir/")


async def test_write_dir_path_raises(op: Operator) -> None:
    with pytest.raises(errors.IsADirectory) as info:
        await op.write("a/", b"x")
    assert info.value.kind is errors.ErrorKind.IS_A_DIRECTORY
    assert not await op.exists("a/")
    assert await paths(op, "/") == set()


async def test_open_dir_path_for_reading_raises(op: Operator) -> None:
    await op.write("a/file", b"x")
    with pytest.raises(errors.IsADirectory):
        async with op.open("a/", "rb") as reader:
            await reader.read()


BAD_PATHS = ["../escape", "a/../../b", "a/..", "..", "a/\x00b", "\x00"]

OPERATIONS: dict[str, Callable[[Operator, str], Awaitable[Any]]] = {
    "read": lambda op, p: op.read(p),
    "write": lambda op, p: op.write(p, b"x"),
    "stat": lambda op, p: op.stat(p),
    "exists": lambda op, p: op.exists(p),
    "delete": lambda op, p: op.delete(p),
    "remove_all": lambda op, p: op.remove_all(p),
    "list": lambda op, p: collect(op, p + "/"),
    "copy-src": lambda op, p: op.copy(p, "dst"),
    "copy-dst": lambda op, p: op.copy("src", p),
    "rename-dst": lambda op, p: op.rename("src", p),
}


async def _open_read(op: Operator, p: str) -> None:
    async with op.open(p, "rb") as reader:
        await reader.read()


async def _open_write(op: Operator, p: str) -> None:
    async with op.open(p, "wb") as writer:
        await writer.write(b"x")


OPERATIONS["open-rb"] = _open_read
OPERATIONS["open-wb"] = _open_write


BAD_IDS = ["dotdot", "dotdot-deep", "dotdot-end", "dotdot-only", "nul", "nul-only"]


@pytest.mark.parametrize("bad", BAD_PATHS, ids=BAD_IDS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_invalid_path(op: Operator, operation: str, bad: str) -> None:
    if operation.startswith(("copy", "rename")) and not getattr(op.capability(), operation.split("-")[0]):
        pytest.skip(f"no {operation.split('-')[0]}")
    await op.write("src", b"source")
    with pytest.raises(errors.InvalidPath) as info:
        await OPERATIONS[operation](op, bad)
    assert isinstance(info.value, errors.Error)
    assert info.value.kind is errors.ErrorKind.INVALID_PATH
    assert await paths(op, "/") == {"src"}
    assert await op.read("src") == b"source"


async def test_invalid_path_is_not_config_invalid(op: Operator) -> None:
    with pytest.raises(errors.Error) as info:
        await op.read("../x")
    assert type(info.value) is errors.InvalidPath
    assert not isinstance(info.value, errors.NotFound)


async def test_dot_dot_inside_name_is_fine(op: Operator) -> None:
    await op.write("a..b/c..", b"x")
    assert await op.read("a..b/c..") == b"x"
