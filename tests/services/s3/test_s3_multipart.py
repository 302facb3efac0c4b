"""The multipart primitives the core engine drives: initiate, parts, complete, abort, listings."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from pystorage import errors
from pystorage.raw.checksum import crc32c_b64
from pystorage.raw.ops import OpRead, OpStat, OpWrite
from pystorage.services.s3 import S3Accessor
from pystorage.types import Part
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy, is_upload_part

Build = Callable[[dict[str, Any]], S3Accessor]
MiB = 1024 * 1024


async def _read(accessor: S3Accessor, path: str) -> bytes:
    reader = await accessor.read(path, OpRead())
    pieces = []
    while piece := await reader.read():
        pieces.append(piece)
    return b"".join(pieces)


async def _uploads(accessor: S3Accessor, prefix: str = "") -> list[Any]:
    return [u async for u in accessor.list_multipart_uploads(prefix)]


@pytest.mark.anyio
async def test_round_trip(accessor: S3Accessor) -> None:
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1000)]
    op = OpWrite(content_type="application/x-test", user_metadata={"kind": "multi"})
    upload_id = await accessor.initiate_multipart("dir/big", op)
    assert upload_id
    started = [u for u in await _uploads(accessor) if u.upload_id == upload_id]
    assert len(started) == 1 and started[0].path == "dir/big"
    assert started[0].initiated is None or started[0].initiated.tzinfo is not None
    parts = []
    for number, data in enumerate(parts_data, 1):
        part = await accessor.write_part("dir/big", upload_id, number, memoryview(data), op)
        assert part == Part(number, part.etag, len(data), crc32c_b64(data)) and part.etag.startswith('"')
        parts.append(part)
    listed = [p async for p in accessor.list_parts("dir/big", upload_id)]
    assert [(p.number, p.etag, p.size) for p in listed] == [(p.number, p.etag, p.size) for p in parts]
    meta = await accessor.complete_multipart("dir/big", upload_id, parts, op)
    assert meta.content_length == sum(map(len, parts_data))
    assert meta.etag and meta.etag.startswith('"')
    assert await _read(accessor, "dir/big") == b"".join(parts_data)
    stat = await accessor.stat("dir/big", OpStat())
    assert stat.content_length == meta.content_length
    assert stat.content_type == "application/x-test" and stat.user_metadata == {"kind": "multi"}
    assert [u for u in await _uploads(accessor) if u.upload_id == upload_id] == []


@pytest.mark.anyio
async def test_parts_sent_concurrently_out_of_order(accessor: S3Accessor) -> None:
    parts_data = [bytes([i]) * (5 * MiB) for i in range(1, 4)] + [b"tail"]
    upload_id = await accessor.initiate_multipart("f", OpWrite())
    parts: dict[int, Part] = {}

    async def send(number: int) -> None:
        parts[number] = await accessor.write_part("f", upload_id, number, parts_data[number - 1], OpWrite())

    async with anyio.create_task_group() as tg:
        for number in (4, 3, 2, 1):
            tg.start_soon(send, number)
    ordered = [parts[n] for n in sorted(parts)]
    await accessor.complete_multipart("f", upload_id, ordered, OpWrite())
    assert await _read(accessor, "f") == b"".join(parts_data)


@pytest.mark.anyio
async def test_abort_leaves_nothing(accessor: S3Accessor) -> None:
    upload_id = await accessor.initiate_multipart("a/b", OpWrite())
    await accessor.write_part("a/b", upload_id, 1, os.urandom(5 * MiB), OpWrite())
    assert [u.upload_id for u in await _uploads(accessor, "a/")] == [upload_id]
    await accessor.abort_multipart("a/b", upload_id)
    assert await _uploads(accessor) == []
    await accessor.abort_multipart("a/b", upload_id)  # twice is fine
    with pytest.raises(errors.NotFound):
        await accessor.stat("a/b", OpStat())
    # a part for an aborted upload fails (rclone: 404 NoSuchUpload; moto: a bare 500)
    with pytest.raises((errors.NotFound, errors.Unexpected)):
        await accessor.write_part("a/b", upload_id, 2, b"late", OpWrite())


@pytest.mark.anyio
async def test_uploads_are_listed_relative_to_the_root(server: S3Server, root: str, build: Build) -> None:
    mine = build(server.config(root + "inner/"))
    other = build(server.config(root + "other/"))
    names = ["x/1", "x/2", "y"]
    ids = [await mine.initiate_multipart(p, OpWrite()) for p in names]
    foreign = await other.initiate_multipart("x/1", OpWrite())
    try:
        listed = await _uploads(mine)
        assert sorted((u.path, u.upload_id) for u in listed) == sorted(zip(names, ids, strict=True))
        assert {u.path for u in await _uploads(mine, "x/")} == {"x/1", "x/2"}
        assert [u.upload_id for u in await _uploads(other)] == [foreign]
    finally:
        for path, upload_id in zip(names, ids, strict=True):
            await mine.abort_multipart(path, upload_id)
        await other.abort_multipart("x/1", foreign)
    assert await _uploads(mine) == [] and await _uploads(other) == []


@pytest.mark.anyio
async def test_conditional_complete(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root))
    first = await accessor.write_once("f", b"old", OpWrite())
    op = OpWrite(if_not_exists=True)
    upload_id = await accessor.initiate_multipart("f", op)
    part = await accessor.write_part("f", upload_id, 1, b"new", op)
    with pytest.raises(errors.ConditionNotMatch) as info:
        await accessor.complete_multipart("f", upload_id, [part], op)
    assert info.value.operation == "complete_multipart"
    assert proxy.recorded("POST")[-1].headers["If-None-Match"] == "*"
    await accessor.abort_multipart("f", upload_id)
    assert await _read(accessor, "f") == b"old"
    # If-Match goes on CompleteMultipartUpload (AWS checks it; moto v5 ignores it there)
    op = OpWrite(if_match=first.etag)
    upload_id = await accessor.initiate_multipart("f", op)
    part = await accessor.write_part("f", upload_id, 1, b"new", op)
    await accessor.complete_multipart("f", upload_id, [part], op)
    complete = proxy.recorded("POST")[-1]
    assert complete.query.get("uploadId") == upload_id and complete.headers["If-Match"] == first.etag
    assert await _read(accessor, "f") == b"new"
    assert await _uploads(accessor) == []


@pytest.mark.anyio
async def test_checksums_on_parts_and_complete(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root, checksum_algorithm="crc32"))
    upload_id = await accessor.initiate_multipart("f", OpWrite())
    create = proxy.recorded("POST")[-1]
    assert create.headers.get("x-amz-checksum-algorithm", "CRC32").upper() == "CRC32"
    parts = [
        await accessor.write_part("f", upload_id, 1, b"a" * (5 * MiB), OpWrite()),
        await accessor.write_part("f", upload_id, 2, b"b" * 10, OpWrite()),
    ]
    for request in [r for r in proxy.recorded("PUT") if is_upload_part()(r)]:
        assert "x-amz-checksum-crc32" in request.headers
    await accessor.complete_multipart("f", upload_id, parts, OpWrite())
    assert await _read(accessor, "f") == b"a" * (5 * MiB) + b"b" * 10


@pytest.mark.anyio
async def test_initiated_time_is_aware_utc(accessor: S3Accessor) -> None:
    upload_id = await accessor.initiate_multipart("t", OpWrite())
    try:
        (upload,) = await _uploads(accessor)
        assert upload.initiated is not None
        assert upload.initiated.utcoffset() == dt.timedelta(0)
    finally:
        await accessor.abort_multipart("t", upload_id)
