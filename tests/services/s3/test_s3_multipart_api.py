"""The explicit, resumable multipart API through the public Operator on s3-moto: resume
after a crash, stale-upload cleanup, limits checked before any request (asserted on the
recording proxy), and appends refused without a write."""

from __future__ import annotations

import datetime as dt
import hashlib
import mmap
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pystorage import Operator, errors
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
GiB = 1024 * MiB


@pytest.fixture
async def make_op() -> AsyncIterator[Callable[..., Operator]]:
    """``make_op(server, root, **overrides)``: an s3 operator, closed after the test."""
    made: list[Operator] = []

    def make(server: S3Server, root: str, **overrides: Any) -> Operator:
        op = Operator("s3", **server.config(root, **overrides))
        made.append(op)
        return op

    yield make
    for op in made:
        await op.close()


async def test_resume_after_crash_40_mib(
    moto_s3: S3Server, root: str, make_op: Callable[..., Operator]
) -> None:
    data = os.urandom(40 * MiB)
    part_size = 5 * MiB
    chunks = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    assert len(chunks) == 8
    op = make_op(moto_s3, root)
    up = await op.create_multipart("dump/db.bin", content_type="application/x-dump")
    saved_id = up.upload_id
    saved_parts = [await up.write_part(n, chunks[n - 1]) for n in range(1, 7)]
    await op.close()  # the process dies: only the upload id (and the part list) survive

    again = make_op(moto_s3, root)
    uploads = [u async for u in again.list_multipart_uploads("dump/")]
    assert [(u.path, u.upload_id) for u in uploads] == [("dump/db.bin", saved_id)]
    assert uploads[0].initiated is not None and uploads[0].initiated.utcoffset() == dt.timedelta(0)
    resumed = again.resume_multipart("dump/db.bin", saved_id)
    held = [p async for p in resumed.list_parts()]
    assert [(p.number, p.size) for p in held] == [(n, part_size) for n in range(1, 7)]
    assert [p.etag for p in held] == [p.etag for p in saved_parts]
    rest = [await resumed.write_part(n, chunks[n - 1]) for n in (8, 7)]  # any order
    meta = await resumed.complete(held + rest)
    assert meta.content_length == len(data)
    back = await again.read("dump/db.bin")
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(data).hexdigest()
    assert (await again.stat("dump/db.bin")).content_type == "application/x-dump"
    assert [u async for u in again.list_multipart_uploads("dump/")] == []


async def test_abort_stale_uploads(moto_s3: S3Server, root: str, make_op: Callable[..., Operator]) -> None:
    op = make_op(moto_s3, root)
    for name in ("stale/a", "stale/b/c", "other"):
        up = await op.create_multipart(name)
        await up.write_part(1, b"x" * 100)
    # (moto reports every upload as initiated in 2010, so an age cut-off proves nothing here;
    # the gcs tests check that younger uploads are kept)
    assert await op.abort_multipart_uploads("stale/", older_than=0) == 2
    assert [u async for u in op.list_multipart_uploads("stale/")] == []
    assert [u.path async for u in op.list_multipart_uploads("")] == ["other"]
    assert await op.abort_multipart_uploads("", older_than=0) == 1
    assert [u async for u in op.list_multipart_uploads("")] == []


async def test_limits_fail_before_any_request(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, make_op: Callable[..., Operator]
) -> None:
    proxy, server = s3_proxy
    op = make_op(server, root)
    up = await op.create_multipart("big")
    first = await up.write_part(1, b"a" * MiB)  # too small for anything but the last part
    last = await up.write_part(2, b"b" * 10)
    proxy.clear()
    with pytest.raises(errors.ConfigInvalid, match="write_multi_min_size"):
        await up.complete([first, last])
    with pytest.raises(errors.ConfigInvalid, match="write_multi_max_parts"):
        await up.write_part(10_001, b"x")
    with pytest.raises(errors.ConfigInvalid, match="write_multi_max_parts"):
        await up.write_part(0, b"x")
    # 5 GiB + 1 of untouched anonymous memory: the size is checked before a byte is read
    with mmap.mmap(-1, 5 * GiB + 1) as huge:
        with pytest.raises(errors.ConfigInvalid, match="write_multi_max_size"):
            await up.write_part(3, memoryview(huge))
    with pytest.raises(errors.ConfigInvalid, match="write_multi_min_size"):
        await op.write("auto", b"z" * (3 * MiB), chunk=MiB)
    with pytest.raises(errors.ConfigInvalid, match="write_multi_min_size"):
        async with op.open("auto", "wb", chunk=MiB) as writer:
            await writer.write(b"z" * (3 * MiB))
    assert proxy.recorded() == []
    await up.abort()
    assert not await op.exists("auto")


@pytest.mark.parametrize("service", ["s3", "memory"])
async def test_append_unsupported_writes_nothing(
    service: str,
    s3_proxy: tuple[S3Proxy, S3Server],
    root: str,
    make_op: Callable[..., Operator],
) -> None:
    proxy, server = s3_proxy
    op = make_op(server, root) if service == "s3" else Operator("memory")
    assert not op.capability().write_can_append
    await op.write("kept", b"abc")
    proxy.clear()
    for path in ("kept", "missing"):
        with pytest.raises(errors.Unsupported):
            await op.write(path, b"def", append=True)
        with pytest.raises(errors.Unsupported):
            await op.write(path, [b"d", b"ef"], append=True)
        with pytest.raises(errors.Unsupported):
            async with op.open(path, "ab") as writer:
                await writer.write(b"def")
    assert proxy.recorded() == []  # refused before any request
    assert await op.read("kept") == b"abc"
    assert not await op.exists("missing")
