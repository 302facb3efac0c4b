"""Versions, on moto's versioned bucket (``enable_versioning=True``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pystorage import Operator, errors
from pystorage.raw.ops import OpDelete, OpList, OpRead, OpStat, OpWrite
from pystorage.raw.read import open_range
from pystorage.services.s3 import S3Accessor
from tests.fixtures.s3 import S3Server

Build = Callable[[dict[str, Any]], S3Accessor]


async def _read(accessor: S3Accessor, path: str, version: str | None = None) -> bytes:
    reader = await accessor.read(path, OpRead(version=version))
    out = b""
    while piece := await reader.read():
        out += piece
    return out


@pytest.mark.anyio
async def test_read_and_stat_old_versions(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.versioned_config(root))
    v1 = await accessor.write_once("f", b"first", OpWrite())
    v2 = await accessor.write_once("f", b"second!", OpWrite())
    assert v1.version and v2.version and v1.version != v2.version
    assert await _read(accessor, "f") == b"second!"
    assert await _read(accessor, "f", v1.version) == b"first"
    meta = await accessor.stat("f", OpStat(version=v1.version))
    assert meta.version == v1.version and meta.content_length == 5
    reader = await accessor.read("f", OpRead(version=v1.version, offset=1, size=3))
    assert await reader.read() == b"irs"
    await reader.aclose()
    reader = await open_range(accessor, "f", OpRead(version=v1.version, offset=5))  # at the end: empty
    assert await reader.read() == b""
    with pytest.raises(errors.Error):
        await accessor.stat("f", OpStat(version="no-such-version"))


@pytest.mark.anyio
async def test_list_versions(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.versioned_config(root))
    a1 = await accessor.write_once("a", b"1", OpWrite())
    a2 = await accessor.write_once("a", b"22", OpWrite())
    b1 = await accessor.write_once("d/b", b"333", OpWrite())
    await accessor.delete("d/b", OpDelete())  # leaves a delete marker, skipped by the listing
    entries = [e async for e in accessor.list("/", OpList(recursive=True, versions=True))]
    assert [(e.path, e.metadata.version, e.metadata.content_length) for e in entries] == [
        ("a", a2.version, 2),
        ("a", a1.version, 1),
        ("d/b", b1.version, 3),
    ]
    shallow = [e async for e in accessor.list("/", OpList(versions=True))]
    assert [(e.path, e.metadata.version) for e in shallow] == [
        ("a", a2.version),
        ("a", a1.version),
        ("d/", None),
    ]
    paged = [e async for e in accessor.list("/", OpList(recursive=True, versions=True, limit=1))]
    assert [e.metadata.version for e in paged] == [a2.version, a1.version, b1.version]


@pytest.mark.anyio
async def test_operator_versions(moto_s3: S3Server, root: str) -> None:
    async with Operator("s3", **moto_s3.versioned_config(root)) as op:
        assert op.capability().read_with_version and op.capability().list_with_versions
        first = await op.write("x", b"one")
        await op.write("x", b"two")
        assert await op.read("x", version=first.version) == b"one"
        versions = [e.metadata.version async for e in op.list("/", versions=True)]
        assert len(versions) == 2 and first.version in versions
