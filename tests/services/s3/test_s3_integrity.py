"""Answers are checked, uploads carry checksums, lost answers are reconciled.

Through the fault-injecting proxy in front of moto (``tests/fixtures/s3_proxy.py``):
a short 206 with a consistent ``Content-Length``, a truncated or flipped
whole-object body, a ``200`` answer to a ranged GET, a conditional PUT whose
answer is lost, a Complete answered ``NoSuchUpload`` after it succeeded.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer
from pystorage.raw.checksum import crc32c_b64
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import Fault, Recorded, S3Proxy, is_upload_part

pytestmark = pytest.mark.anyio

DATA = bytes(range(256)) * 1024  # 256 KiB
RETRY = RetryLayer(max_times=3, min_delay=0, jitter=False)


def _get(r: Recorded) -> bool:
    return r.method == "GET" and bool(r.key) and "uploadId" not in r.query


def _put_object(r: Recorded) -> bool:
    return r.method == "PUT" and bool(r.key) and "uploadId" not in r.query


def _complete(r: Recorded) -> bool:
    return r.method == "POST" and "uploadId" in r.query


@pytest.fixture
async def proxied(s3_proxy: tuple[S3Proxy, S3Server], root: str) -> AsyncIterator[Callable[..., Operator]]:
    _, server = s3_proxy
    made: list[Operator] = []

    def make(**config: Any) -> Operator:
        made.append(Operator("s3", **{**server.config(root), **config}))
        return made[-1]

    yield make
    for op in made:
        await op.close()


async def test_put_and_parts_carry_a_crc32c_the_server_can_verify(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator]
) -> None:
    proxy, _ = s3_proxy
    op = proxied()
    await op.write("small", DATA)
    [put] = [r for r in proxy.recorded("PUT") if r.key.endswith("small")]
    assert put.headers["x-amz-checksum-crc32c"] == crc32c_b64(DATA)

    big = DATA * 45  # 11.25 MiB: three 5 MiB parts
    await op.write("big", big, chunk=5 * 1024 * 1024)
    parts = [r for r in proxy.recorded("PUT") if "partNumber" in r.query]
    assert len(parts) == 3
    for record in parts:
        n = int(record.query["partNumber"])
        piece = big[(n - 1) * 5 * 1024 * 1024 : n * 5 * 1024 * 1024]
        assert record.headers["x-amz-checksum-crc32c"] == crc32c_b64(piece)
    assert await op.read("big") == big


async def test_md5_checksums_when_asked(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator]
) -> None:
    proxy, _ = s3_proxy
    await proxied(checksum_algorithm="md5").write("f", DATA)
    [put] = proxy.recorded("PUT")
    assert put.headers["Content-MD5"] == base64.b64encode(hashlib.md5(DATA).digest()).decode()
    assert "x-amz-checksum-crc32c" not in put.headers


async def test_short_ranged_answer_is_temporary_and_resumed(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator]
) -> None:
    proxy, _ = s3_proxy
    op = proxied()
    await op.write("f", DATA)
    proxy.inject(Fault(_get, shorten=100))  # a clean 206 of 100 bytes for 5000 asked
    with pytest.raises(errors.Unexpected) as info:
        await op.read("f", offset=1000, size=5000)
    assert info.value.temporary
    proxy.inject(Fault(_get, shorten=100))
    assert await op.layer(RETRY).read("f", offset=1000, size=5000) == DATA[1000:6000]


@pytest.mark.parametrize("fault", [Fault(_get, shorten=1000), Fault(_get, flip=777)], ids=["short", "flip"])
async def test_corrupt_whole_object_raises_checksum_mismatch(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator], fault: Fault
) -> None:
    proxy, _ = s3_proxy
    op = proxied()
    await op.write("f", DATA)
    proxy.inject(fault)
    with pytest.raises(errors.ChecksumMismatch) as info:
        await op.read("f")
    assert info.value.temporary
    assert await op.read("f") == DATA  # nothing wrong with the object itself


async def test_verification_can_be_turned_off(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator]
) -> None:
    proxy, _ = s3_proxy
    op = proxied(checksum_algorithm="none")
    await op.write("f", DATA)
    assert "x-amz-checksum-crc32c" not in proxy.recorded("PUT")[0].headers
    proxy.inject(Fault(_get, flip=5))
    corrupt = await op.read("f")
    assert corrupt != DATA and len(corrupt) == len(DATA)


async def test_range_answered_whole_is_skipped_within_the_bound(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator]
) -> None:
    proxy, _ = s3_proxy
    op = proxied(max_range_skip=64 * 1024)
    await op.write("f", DATA)
    proxy.inject(Fault(_get, strip_range=True))
    assert await op.read("f", offset=1000, size=100) == DATA[1000:1100]
    proxy.inject(Fault(_get, strip_range=True))
    with pytest.raises(errors.Unexpected, match="max_range_skip"):
        await op.read("f", offset=200 * 1024, size=100)


async def test_conditional_put_with_lost_answer_reports_success(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator]
) -> None:
    proxy, _ = s3_proxy
    op = proxied().layer(RETRY)
    proxy.inject(Fault(_put_object, drop_answer=True))
    meta = await op.write("lock", b"owner=me", if_not_exists=True)
    assert meta.content_length == 8
    assert len([r for r in proxy.recorded("PUT") if r.key.endswith("lock")]) == 2
    # a real conflict is still a conflict
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("lock", b"owner=me", if_not_exists=True)
    proxy.inject(Fault(_put_object, drop_answer=True))
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("lock", b"owner=someone-else", if_not_exists=True)
    assert await op.read("lock") == b"owner=me"


async def test_complete_answered_no_such_upload_after_success(
    s3_proxy: tuple[S3Proxy, S3Server], proxied: Callable[..., Operator]
) -> None:
    proxy, _ = s3_proxy
    op = proxied()
    big = DATA * 25  # two parts
    proxy.inject(Fault(_complete, replace_status=404, code="NoSuchUpload"))
    meta = await op.write("big", big, chunk=5 * 1024 * 1024)
    assert meta.content_length == len(big)
    assert meta.etag == (await op.stat("big")).etag
    assert await op.read("big") == big
    # an upload that really is gone still fails
    up = await op.create_multipart("gone")
    part = await up.write_part(1, b"x" * 10)
    await up.abort()
    with pytest.raises(errors.Error):  # moto answers 500 here, AWS NoSuchUpload: never success
        await up.complete([part])
    assert not [r for r in proxy.recorded() if is_upload_part()(r) and r.status and r.status >= 300]
