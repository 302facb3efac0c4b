"""Presigned GET / PUT / HEAD, fetched with plain aiohttp."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from pystorage import errors
from pystorage.raw.ops import OpPresign, OpRead, OpStat, OpWrite
from pystorage.services.s3 import S3Accessor
from tests.fixtures.s3 import S3Server

Build = Callable[[dict[str, Any]], S3Accessor]
MINUTE = dt.timedelta(minutes=1)


@pytest.mark.anyio
async def test_presigned_requests(server: S3Server, accessor: S3Accessor) -> None:
    put = await accessor.presign(
        "p/f.txt", OpPresign(method="PUT", expire=MINUTE, write=OpWrite(content_type="text/plain"))
    )
    assert put.method == "PUT" and "X-Amz-Signature=" in put.url and "X-Amz-Expires=60" in put.url
    assert dict(put.headers) == {"Content-Type": "text/plain"}
    get = await accessor.presign("p/f.txt", OpPresign(method="GET", expire=MINUTE))
    head = await accessor.presign("p/f.txt", OpPresign(method="HEAD", expire=MINUTE))
    assert (get.method, head.method, dict(get.headers)) == ("GET", "HEAD", {})
    async with aiohttp.ClientSession() as session:
        async with session.put(put.url, data=b"presigned body", headers=dict(put.headers)) as answer:
            assert answer.status == 200, await answer.text()
        async with session.get(get.url) as answer:
            assert answer.status == 200
            assert await answer.read() == b"presigned body"
        async with session.head(head.url) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Length"] == str(len(b"presigned body"))
    meta = await accessor.stat("p/f.txt", OpStat())
    assert meta.content_type == "text/plain"
    reader = await accessor.read("p/f.txt", OpRead())
    assert await reader.read() == b"presigned body"
    await reader.aclose()


@pytest.mark.anyio
async def test_signed_headers_are_enforced(rclone_s3: S3Server, root: str, build: Build) -> None:
    """rclone checks SigV4 (moto does not): a header other than the signed one is refused."""
    accessor = build(rclone_s3.config(root))
    op = OpPresign(method="PUT", expire=MINUTE, write=OpWrite(content_type="a/b"))
    put = await accessor.presign("f", op)
    async with aiohttp.ClientSession() as session:
        async with session.put(put.url, data=b"x", headers={"Content-Type": "c/d"}) as answer:
            assert answer.status == 403
        async with session.put(put.url, data=b"x", headers=dict(put.headers)) as answer:
            assert answer.status == 200


@pytest.mark.anyio
async def test_expire_limits(accessor: S3Accessor) -> None:
    with pytest.raises(errors.ConfigInvalid, match="7 days"):
        await accessor.presign("f", OpPresign(method="GET", expire=dt.timedelta(days=8)))
    with pytest.raises(errors.ConfigInvalid):
        await accessor.presign("f", OpPresign(method="GET", expire=dt.timedelta(0)))
    with pytest.raises(errors.ConfigInvalid, match="DELETE"):
        await accessor.presign("f", OpPresign(method="DELETE", expire=MINUTE))
    week = await accessor.presign("f", OpPresign(method="GET", expire=dt.timedelta(days=7)))
    assert "X-Amz-Expires=604800" in week.url
