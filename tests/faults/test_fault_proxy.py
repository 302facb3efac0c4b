"""The fault proxy itself, at the wire level: each action does what it says.

Plain aiohttp requests to moto through :class:`~tests.fixtures.fault_proxy.FaultProxy`
(moto does not check signatures), so a failure here is the fixture's, not the driver's.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from tests.fixtures.fault_proxy import (
    Answer,
    DropAnswer,
    FaultTarget,
    FlipByte,
    HtmlPage,
    IgnoreRange,
    ResetMidBody,
    StallAfterHeaders,
    StallBeforeStatus,
    StallMidBody,
    Truncate,
    When,
)

BODY = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture
def anyio_backend() -> str:
    """aiohttp is asyncio-only."""
    return "asyncio"


@pytest.fixture
async def target(faulty_moto: FaultTarget) -> FaultTarget:
    """moto through the proxy, with ``key`` holding :data:`BODY`."""
    client = _boto(faulty_moto)
    client.put_object(Bucket=faulty_moto.bucket, Key="proxy-self-test/key", Body=BODY)
    client.close()
    return faulty_moto


def _boto(target: FaultTarget, endpoint: str | None = None) -> Any:
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint or target.direct["endpoint"],
        aws_access_key_id=target.direct["access_key_id"],
        aws_secret_access_key=target.direct["secret_access_key"],
        config=Config(s3={"addressing_style": "path"}),
    )


def _url(target: FaultTarget, key: str = "proxy-self-test/key", method: str = "GET") -> str:
    """A presigned URL through the proxy (moto refuses unsigned requests to a private bucket)."""
    client = _boto(target, target.proxy.url)
    action = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}[method]
    url: str = client.generate_presigned_url(
        action, Params={"Bucket": target.bucket, "Key": key}, ExpiresIn=600, HttpMethod=method
    )
    client.close()
    return url


def _session(read: float = 0.5) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(
        auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None, sock_read=read, sock_connect=5)
    )
    # aiohttp >= 3.13 silently resends an idempotent request (PUT too) once when the
    # connection drops: that would hide DropAnswer from this test
    session._retry_connection = False
    return session


@pytest.mark.anyio
async def test_forwards_unchanged(target: FaultTarget) -> None:
    async with _session() as s, s.get(_url(target)) as r:
        assert r.status == 200
        assert await r.read() == BODY
    assert [x.request.method for x in target.proxy.recorded(path="proxy-self-test/key")] == ["GET"]


@pytest.mark.anyio
async def test_nth_and_times(target: FaultTarget) -> None:
    fault = target.proxy.inject(Answer(503), When(method="GET", path="/key"), nth=2, times=2)
    statuses = []
    async with _session() as s:
        for _ in range(5):
            async with s.get(_url(target)) as r:
                statuses.append(r.status)
                await r.read()
    assert statuses == [200, 503, 503, 200, 200]
    assert (fault.seen, fault.hits) == (5, 2)


@pytest.mark.anyio
async def test_query_and_header_predicates(target: FaultTarget) -> None:
    target.proxy.inject(Answer(500), When(query={"x-test": "1"}, headers={"X-Fault": None}), times=None)
    async with _session() as s:
        async with s.get(_url(target), params={"x-test": "1"}) as r:
            assert r.status == 200
        async with s.get(_url(target), params={"x-test": "1"}, headers={"X-Fault": "y"}) as r:
            assert r.status == 500


@pytest.mark.parametrize(
    "action",
    [StallBeforeStatus(), StallBeforeStatus(forward=True), StallAfterHeaders(), StallMidBody(after=1000)],
    ids=["before-status", "before-status-forwarded", "after-headers", "mid-body"],
)
@pytest.mark.anyio
async def test_stalls_end_in_a_client_timeout_and_are_released(target: FaultTarget, action: object) -> None:
    fault = target.proxy.inject(action, When(method="GET"))  # type: ignore[arg-type]
    started = time.monotonic()
    got = b""
    with pytest.raises(aiohttp.ServerTimeoutError):
        async with _session(read=0.3) as s, s.get(_url(target)) as r:
            async for piece in r.content.iter_any():
                got += piece
    assert time.monotonic() - started < 5
    assert fault.hits == 1
    if isinstance(action, StallMidBody):
        assert got == BODY[:1000]
    target.proxy.reset()  # releases the stalled handler at once


@pytest.mark.anyio
async def test_reset_mid_body(target: FaultTarget) -> None:
    target.proxy.inject(ResetMidBody(after=5000), When(method="GET"))
    got = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with _session() as s, s.get(_url(target)) as r:
            async for piece in r.content.iter_any():
                got += piece
    assert got == BODY[:5000]


@pytest.mark.anyio
async def test_truncate_keeps_a_consistent_length(target: FaultTarget) -> None:
    target.proxy.inject(Truncate(keep=100), When(method="GET"), times=2)
    async with _session() as s:
        async with s.get(_url(target)) as r:
            assert r.status == 200 and r.content_length == 100
            assert await r.read() == BODY[:100]
        async with s.get(_url(target), headers={"Range": "bytes=1000-4999"}) as r:
            assert r.status == 206 and r.content_length == 100
            assert r.headers["Content-Range"] == f"bytes 1000-1099/{len(BODY)}"
            assert await r.read() == BODY[1000:1100]


@pytest.mark.anyio
async def test_flip_byte(target: FaultTarget) -> None:
    target.proxy.inject(FlipByte(offset=7), When(method="GET"))
    async with _session() as s, s.get(_url(target)) as r:
        got = await r.read()
    assert len(got) == len(BODY) and got != BODY
    assert got[7] == BODY[7] ^ 1 and got[:7] == BODY[:7] and got[8:] == BODY[8:]


@pytest.mark.anyio
async def test_drop_answer_forwards_the_request(target: FaultTarget) -> None:
    target.proxy.inject(DropAnswer(), When(method="PUT"))
    async with _session() as s:
        with pytest.raises((aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
            async with s.put(_url(target, "proxy-self-test/dropped", "PUT"), data=b"stored anyway") as r:
                await r.read()
        async with s.get(_url(target, "proxy-self-test/dropped")) as r:
            assert r.status == 200 and await r.read() == b"stored anyway"


@pytest.mark.anyio
async def test_ignore_range(target: FaultTarget) -> None:
    target.proxy.inject(IgnoreRange(), When(method="GET", headers={"Range": None}))
    async with _session() as s, s.get(_url(target), headers={"Range": "bytes=10-19"}) as r:
        assert r.status == 200 and await r.read() == BODY


@pytest.mark.anyio
async def test_html_page_and_canned_answers(target: FaultTarget) -> None:
    target.proxy.inject(HtmlPage(), When(method="GET"))
    target.proxy.inject(
        Answer.s3_error(503, "SlowDown", headers={"Retry-After": "86400"}), When(method="HEAD")
    )
    async with _session() as s:
        async with s.get(_url(target)) as r:
            assert r.status == 200 and r.content_type == "text/html"
            assert b"<html>" in await r.read()
        async with s.head(_url(target, method="HEAD")) as r:
            assert r.status == 503 and r.headers["Retry-After"] == "86400"


@pytest.mark.anyio
async def test_answer_after_forwarding(target: FaultTarget) -> None:
    target.proxy.inject(Answer.s3_error(404, "NoSuchUpload", forward=True), When(method="PUT"))
    async with _session() as s:
        async with s.put(_url(target, "proxy-self-test/forwarded", "PUT"), data=b"x") as r:
            assert r.status == 404 and b"NoSuchUpload" in await r.read()
        async with s.get(_url(target, "proxy-self-test/forwarded")) as r:
            assert r.status == 200 and await r.read() == b"x"


@pytest.mark.anyio
async def test_rclone_signatures_survive_the_proxy(faulty_rclone: FaultTarget) -> None:
    from pystorage import Operator

    async with Operator("s3", **faulty_rclone.config("proxy-self-test/")) as op:
        await op.write("k", b"signed")
        assert await op.read("k") == b"signed"


@pytest.mark.anyio
async def test_gcs_through_the_proxy(faulty_gcs: FaultTarget) -> None:
    from pystorage import Operator

    async with Operator("gcs", **faulty_gcs.config("proxy-self-test/")) as op:
        await op.write("k", b"x" * 100, chunk=256 * 1024)
        assert await op.read("k") == b"x" * 100
        # a streamed (resumable) upload goes back through the proxy (Location rewritten)
        async with op.open("big", "wb", chunk=256 * 1024) as w:
            for _ in range(3):
                await w.write(b"y" * 256 * 1024)
        assert await op.read("big") == b"y" * 3 * 256 * 1024
    assert any("upload_id" in r.request.query for r in faulty_gcs.proxy.recorded("PUT"))
