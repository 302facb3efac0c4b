"""Deletes: single, batched (DeleteObjects), and per-key failures named in the error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pystorage import errors
from pystorage.raw.ops import OpDelete, OpList, OpStat, OpWrite
from pystorage.services.s3 import S3Accessor
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

Build = Callable[[dict[str, Any]], S3Accessor]


async def _paths(accessor: S3Accessor) -> list[str]:
    return [e.path async for e in accessor.list("/", OpList(recursive=True))]


@pytest.mark.anyio
async def test_delete_and_missing(accessor: S3Accessor) -> None:
    await accessor.write_once("a", b"1", OpWrite())
    await accessor.delete("a", OpDelete())
    with pytest.raises(errors.NotFound):
        await accessor.stat("a", OpStat())
    await accessor.delete("a", OpDelete())  # missing: fine
    await accessor.delete("never/was", OpDelete())


@pytest.mark.anyio
async def test_delete_batch(accessor: S3Accessor) -> None:
    paths = [f"d/{i}" for i in range(30)]
    for path in paths:
        await accessor.write_once(path, b"x", OpWrite())
    await accessor.write_once("keep", b"x", OpWrite())
    await accessor.delete_batch([*paths[:20], "missing-1", "missing/2"])
    assert await _paths(accessor) == sorted([*paths[20:], "keep"])
    await accessor.delete_batch(paths[20:])
    assert await _paths(accessor) == ["keep"]


@pytest.mark.anyio
async def test_delete_batch_is_split_by_batch_max_operations(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root, batch_max_operations=4))
    assert accessor.info().capability.delete_max_size == 4
    paths = [f"f{i}" for i in range(10)]
    for path in paths:
        await accessor.write_once(path, b"x", OpWrite())
    proxy.clear()
    await accessor.delete_batch(paths)
    posts = [r for r in proxy.recorded("POST") if "delete" in r.query]
    assert len(posts) == 3
    # DeleteObjects requires a checksum: botocore sends one even with "when_required"
    assert any(h.lower().startswith(("x-amz-checksum", "content-md5")) for h in posts[0].headers)
    assert await _paths(accessor) == []


@pytest.mark.anyio
async def test_failed_keys_are_named(rclone_s3: S3Server, root: str, build: Build) -> None:
    """Measured on rclone: a DeleteObjects key naming a directory (``d/``)
    fails with a per-key ``InternalError`` while the other keys are deleted."""
    accessor = build(rclone_s3.config(root))
    await accessor.write_once("d/inner", b"x", OpWrite())
    await accessor.write_once("plain", b"x", OpWrite())
    with pytest.raises(errors.Error) as info:
        await accessor.delete_batch(["plain", "d/"])
    err = info.value
    assert isinstance(err, errors.Unexpected) and err.temporary
    assert "'d/' (InternalError)" in str(err) and "1 of 2" in str(err)
    assert err.path == "d/" and err.operation == "delete"
    assert await _paths(accessor) == ["d/inner"]


@pytest.mark.anyio
async def test_delete_version(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.versioned_config(root))
    first = await accessor.write_once("v", b"one", OpWrite())
    second = await accessor.write_once("v", b"two", OpWrite())
    assert first.version and second.version and first.version != second.version
    await accessor.delete("v", OpDelete(version=second.version))
    meta = await accessor.stat("v", OpStat())
    assert meta.version == first.version and meta.content_length == 3
    await accessor.delete("v", OpDelete(version=first.version))
    with pytest.raises(errors.NotFound):
        await accessor.stat("v", OpStat())
