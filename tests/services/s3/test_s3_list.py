"""Listings: pagination, delimiter, start_after, directory markers, entry metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from pystorage import errors
from pystorage.raw.ops import OpList, OpWrite
from pystorage.services.s3 import S3Accessor
from pystorage.types import Entry, EntryMode
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

Build = Callable[[dict[str, Any]], S3Accessor]


async def _write_many(accessor: S3Accessor, paths: list[str], limit: int = 32) -> None:
    """Write ``paths`` concurrently, retrying temporary failures as the
    RetryLayer would: rclone serve s3 sometimes answers 500 to concurrent
    PUTs into a new directory (its log: ``Dir.Rename error: file does not exist``)."""
    limiter = anyio.CapacityLimiter(limit)

    async def one(path: str) -> None:
        async with limiter:
            for attempt in range(5):
                try:
                    await accessor.write_once(path, path.encode(), OpWrite())
                    return
                except errors.Error as exc:
                    if not exc.temporary or attempt == 4:
                        raise
                    await anyio.sleep(0.05 * (attempt + 1))

    async with anyio.create_task_group() as tg:
        for path in paths:
            tg.start_soon(one, path)


async def _list(accessor: S3Accessor, path: str = "/", **options: Any) -> list[Entry]:
    return [e async for e in accessor.list(path, OpList(**options))]


@pytest.mark.anyio
async def test_pagination_of_2500_keys(
    s3_proxy: tuple[S3Proxy, S3Server], moto_s3: S3Server, root: str, build: Build
) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root))
    paths = [f"k/{i:05d}" for i in range(2500)]
    await _write_many(build(moto_s3.config(root)), paths)  # straight to moto: faster
    proxy.clear()
    entries = await _list(accessor, "k/", limit=100)
    assert [e.path for e in entries] == paths
    lists = [r for r in proxy.recorded("GET") if r.query.get("list-type") == "2"]
    assert len(lists) == 25
    assert all(r.query["max-keys"] == "100" for r in lists)
    assert "continuation-token" not in lists[0].query and "continuation-token" in lists[1].query
    first = entries[0].metadata
    assert first.mode is EntryMode.FILE and first.content_length == len(b"k/00000")
    assert first.etag and first.etag.startswith('"') and first.last_modified is not None
    # the default page is 1000 keys
    proxy.clear()
    assert len(await _list(accessor, "k/", recursive=True)) == 2500
    assert len([r for r in proxy.recorded("GET") if r.query.get("list-type") == "2"]) == 3


@pytest.mark.anyio
async def test_pagination_on_both_servers(accessor: S3Accessor) -> None:
    paths = sorted([f"p/{i:04d}" for i in range(450)] + [f"p/sub{i}/x" for i in range(30)])
    await _write_many(accessor, paths)
    recursive = await _list(accessor, "p/", recursive=True, limit=100)
    assert [e.path for e in recursive] == paths
    shallow = await _list(accessor, "p/", limit=100)
    expected = sorted([f"p/{i:04d}" for i in range(450)] + [f"p/sub{i}/" for i in range(30)])
    assert [e.path for e in shallow] == expected
    assert all(e.metadata.is_dir == e.path.endswith("/") for e in shallow)


@pytest.mark.anyio
async def test_delimiter_start_after_and_missing_dirs(accessor: S3Accessor) -> None:
    await _write_many(accessor, ["a", "b/c", "b/d/e", "b/f", "c/x", "z"])
    assert [(e.path, e.metadata.mode) for e in await _list(accessor)] == [
        ("a", EntryMode.FILE),
        ("b/", EntryMode.DIR),
        ("c/", EntryMode.DIR),
        ("z", EntryMode.FILE),
    ]
    assert [e.path for e in await _list(accessor, "b/")] == ["b/c", "b/d/", "b/f"]
    assert [e.name for e in await _list(accessor, "b/")] == ["c", "d/", "f"]
    assert [e.path for e in await _list(accessor, recursive=True)] == ["a", "b/c", "b/d/e", "b/f", "c/x", "z"]
    assert [e.path for e in await _list(accessor, recursive=True, start_after="b/d/e")] == ["b/f", "c/x", "z"]
    assert [e.path for e in await _list(accessor, "b/", start_after="b/c")] == ["b/d/", "b/f"]
    assert await _list(accessor, "missing/") == []
    assert await _list(accessor, "missing/", recursive=True) == []


@pytest.mark.anyio
async def test_dir_markers(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.config(root))
    await accessor.write_once("d/", b"", OpWrite())
    await accessor.write_once("d/e/", b"", OpWrite())
    await accessor.write_once("d/f", b"1", OpWrite())
    # the listed directory's own marker is never yielded
    assert [e.path for e in await _list(accessor, "d/")] == ["d/e/", "d/f"]
    recursive = await _list(accessor, "d/", recursive=True)
    assert [(e.path, e.metadata.mode) for e in recursive] == [
        ("d/e/", EntryMode.DIR),
        ("d/f", EntryMode.FILE),
    ]
    assert [e.path for e in await _list(accessor, "/", recursive=True)] == ["d/", "d/e/", "d/f"]
    assert [e.path for e in await _list(accessor)] == ["d/"]


@pytest.mark.anyio
async def test_root_outside_is_invisible(server: S3Server, root: str, build: Build) -> None:
    outer = build(server.config(root))
    inner = build(server.config(root + "in/"))
    await outer.write_once("out", b"1", OpWrite())
    await outer.write_once("inx", b"1", OpWrite())  # shares the "in" prefix without the slash
    await inner.write_once("a", b"1", OpWrite())
    assert [e.path for e in await _list(inner, recursive=True)] == ["a"]
    assert [e.path for e in await _list(outer)] == ["in/", "inx", "out"]
