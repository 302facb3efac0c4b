"""Listing: order, recursion, start_after, pages, missing directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pystorage.raw.ops import OpCreateDir, OpList, OpWrite
from pystorage.types import EntryMode

pytestmark = pytest.mark.anyio


def open_fds() -> int:
    """How many file descriptors this process has open (``-1`` where unknown)."""
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1

# names chosen so that "name/" sorts between siblings: "a-b" < "a.txt" < "a/" < "a0"
FILES = ["a-b", "a.txt", "a/x", "a/y/z", "a/y/zz", "a0", "b/", "b/c"]


async def _tree(fs) -> None:
    for path in FILES:
        if path.endswith("/"):
            await fs.acc.create_dir(path, OpCreateDir())
        else:
            await fs.put(path, path.encode())


async def test_direct_children(fs) -> None:
    await _tree(fs)
    entries = await fs.entries("/")
    assert [e.path for e in entries] == ["a-b", "a.txt", "a/", "a0", "b/"]
    modes = {e.path: e.metadata.mode for e in entries}
    assert modes["a/"] is EntryMode.DIR and modes["a0"] is EntryMode.FILE
    sizes = {e.path: e.metadata.content_length for e in entries}
    assert sizes["a.txt"] == len(b"a.txt")
    assert all(e.metadata.last_modified is not None for e in entries)
    assert await fs.ls("a/") == ["a/x", "a/y/"]
    assert await fs.ls("a/y/") == ["a/y/z", "a/y/zz"]


async def test_recursive(fs) -> None:
    await _tree(fs)
    paths = await fs.ls("/", recursive=True)
    expected = ["a-b", "a.txt", "a/", "a/x", "a/y/", "a/y/z", "a/y/zz", "a0", "b/", "b/c"]
    assert paths == expected == sorted(expected)
    assert await fs.ls("a/", recursive=True) == ["a/x", "a/y/", "a/y/z", "a/y/zz"]


async def test_start_after(fs) -> None:
    await _tree(fs)
    assert await fs.ls("/", start_after="a.txt") == ["a/", "a0", "b/"]
    assert await fs.ls("/", start_after="a/") == ["a0", "b/"]
    assert await fs.ls("/", start_after="a/y/z") == ["a0", "b/"]
    assert await fs.ls("/", start_after="zzz") == []
    assert await fs.ls("a/", start_after="a/x") == ["a/y/"]


@pytest.mark.parametrize("start_after", ["", "a", "a-b", "a/", "a/x", "a/y/", "a/y/z", "a/y/zz", "a0", "b/c"])
async def test_recursive_start_after(fs, start_after: str) -> None:
    await _tree(fs)
    everything = await fs.ls("/", recursive=True)
    expected = [p for p in everything if p > start_after]
    assert await fs.ls("/", recursive=True, start_after=start_after) == expected


async def test_missing_or_file_directory_lists_as_empty(fs) -> None:
    await fs.put("f", b"x")
    assert await fs.ls("missing/") == []
    assert await fs.ls("missing/", recursive=True) == []
    assert await fs.ls("f/") == []


async def test_never_yields_the_listed_directory(fs) -> None:
    await fs.acc.create_dir("d/e/", OpCreateDir())
    assert await fs.ls("d/") == ["d/e/"]
    assert await fs.ls("d/e/", recursive=True) == []


async def test_one_thread_hand_off_per_page(fs, thread_calls: list[str]) -> None:
    await fs.acc.create_dir("d/", OpCreateDir())
    for i in range(25):
        await fs.put(f"d/{i:02}", b"")
    thread_calls.clear()
    assert len(await fs.ls("d/")) == 25
    assert thread_calls == ["next_page"]
    thread_calls.clear()
    pages = [e async for e in fs.acc.list("d/", OpList(limit=10))]
    assert [e.path for e in pages] == [f"d/{i:02}" for i in range(25)]
    assert thread_calls == ["next_page"] * 3


async def test_recursive_pages(fs, monkeypatch: pytest.MonkeyPatch, thread_calls: list[str]) -> None:
    monkeypatch.setattr("pystorage.services.fs.lister.LIST_PAGE", 3)
    await _tree(fs)
    thread_calls.clear()
    paths = await fs.ls("/", recursive=True)
    assert len(paths) == 10
    assert thread_calls == ["next_page"] * 4


async def test_abandoned_listing_holds_nothing_open(fs) -> None:
    await _tree(fs)
    fds_before = open_fds()
    iterator = fs.acc.list("/", OpList(recursive=True))
    first = await iterator.__anext__()
    assert first.path == "a-b"
    await iterator.aclose()
    assert open_fds() == fds_before


async def test_temp_files_and_special_files_are_hidden(fs, root: Path) -> None:
    await fs.put("f", b"x")
    writer = await fs.acc.write("g", OpWrite())
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe")
    assert await fs.ls("/") == ["f"]
    assert await fs.ls("/", recursive=True) == ["f"]
    await writer.abort()


async def test_entry_paths_are_relative_to_the_root(fs) -> None:
    await fs.put("x/y/z", b"1")
    entries = await fs.entries("x/", recursive=True)
    assert [(e.path, e.name) for e in entries] == [("x/y/", "y/"), ("x/y/z", "z")]


async def test_many_entries_sorted(fs, root: Path) -> None:
    names = [f"{i:x}" for i in range(1200)]
    for name in names:
        (root / name).write_bytes(b"")
    (root / "3f").unlink()
    (root / "3f").mkdir()
    expected = sorted([n for n in names if n != "3f"] + ["3f/"])
    assert await fs.ls("/") == expected
