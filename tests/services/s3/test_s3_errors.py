"""Error mapping: the classification table, and real errors from both servers and the proxy."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from typing import Any

import pytest

from pystorage import errors
from pystorage.raw.ops import OpList, OpRead, OpStat, OpWrite
from pystorage.services.s3 import S3Accessor
from pystorage.services.s3.errors import classify, error_for_code, from_client_error
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import Fault, Recorded, S3Proxy

Build = Callable[[dict[str, Any]], S3Accessor]


@pytest.mark.parametrize(
    ("status", "code", "cls", "temporary"),
    [
        (404, "NoSuchKey", errors.NotFound, False),
        (404, "404", errors.NotFound, False),  # HEAD: no body, the status is the code
        (404, "NoSuchUpload", errors.NotFound, False),
        (404, "NoSuchBucket", errors.ConfigInvalid, False),
        (403, "AccessDenied", errors.PermissionDenied, False),
        (403, "403", errors.PermissionDenied, False),
        (400, "ExpiredToken", errors.PermissionDenied, False),
        (412, "PreconditionFailed", errors.ConditionNotMatch, False),
        (304, "304", errors.ConditionNotMatch, False),
        (416, "InvalidRange", errors.RangeNotSatisfied, False),
        (409, "ConditionalRequestConflict", errors.ConditionNotMatch, True),
        (409, "OperationAborted", errors.Unexpected, True),
        (409, "BucketNotEmpty", errors.Unexpected, False),
        (503, "SlowDown", errors.RateLimited, True),
        (429, "TooManyRequests", errors.RateLimited, True),
        (400, "Throttling", errors.RateLimited, True),
        (503, "503", errors.Unexpected, True),
        (500, "InternalError", errors.Unexpected, True),
        (502, "BadGateway", errors.Unexpected, True),
        (501, "NotImplemented", errors.Unsupported, False),
        (400, "RequestTimeout", errors.Unexpected, True),
        (400, "EntityTooSmall", errors.ConfigInvalid, False),
        (400, "AuthorizationHeaderMalformed", errors.ConfigInvalid, False),
        (301, "PermanentRedirect", errors.ConfigInvalid, False),
        (400, "InvalidArgument", errors.Unexpected, False),
    ],
)
def test_classify(status: int, code: str, cls: type[errors.Error], temporary: bool) -> None:
    assert classify(status, code) == (cls, temporary)


def _client_error(status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> Any:
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
        },
        "GetObject",
    )


def test_from_client_error_fields() -> None:
    native = _client_error(503, "SlowDown", "Please reduce your request rate.", {"retry-after": "7"})
    err = from_client_error(native, "read", "a/b")
    assert isinstance(err, errors.RateLimited)
    assert err.temporary and err.retry_after == 7.0
    assert (err.operation, err.path, err.service) == ("read", "a/b", "s3")
    assert "SlowDown" in str(err) and "503" in str(err)
    when = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    err = from_client_error(_client_error(503, "SlowDown", headers={"retry-after": when}))
    assert err.retry_after is not None and 20 < err.retry_after <= 30
    err = from_client_error(_client_error(404, "NoSuchBucket"), bucket="nope")
    assert isinstance(err, errors.ConfigInvalid) and "'nope'" in str(err)
    err = from_client_error(_client_error(404, "NoSuchKey"), conditional=True)
    assert isinstance(err, errors.ConditionNotMatch)


def test_error_for_code() -> None:
    err = error_for_code("AccessDenied", "Access Denied", path="x")
    assert isinstance(err, errors.PermissionDenied) and err.path == "x"
    err = error_for_code("InternalError")
    assert isinstance(err, errors.Unexpected) and err.temporary


# real servers ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_missing_object(accessor: S3Accessor) -> None:
    with pytest.raises(errors.NotFound) as info:
        await accessor.stat("missing", OpStat())
    assert (info.value.operation, info.value.path, info.value.service) == ("stat", "missing", "s3")
    assert not info.value.temporary
    with pytest.raises(errors.NotFound):
        await accessor.read("missing", OpRead())
    with pytest.raises(FileNotFoundError):
        await accessor.stat("missing/", OpStat())


@pytest.mark.anyio
async def test_missing_bucket_is_config_invalid(server: S3Server, root: str, build: Build) -> None:
    accessor = build(server.config(root, bucket="no-such-bucket-here"))
    with pytest.raises(errors.ConfigInvalid, match="no-such-bucket-here"):
        await accessor.read("x", OpRead())
    with pytest.raises(errors.ConfigInvalid, match="'bucket'"):
        async for _ in accessor.list("/", OpList()):
            pass


@pytest.mark.anyio
async def test_wrong_credentials_are_permission_denied(rclone_s3: S3Server, root: str, build: Build) -> None:
    # moto does not check signatures; rclone does
    accessor = build(rclone_s3.config(root, secret_access_key="wrong-secret-value"))
    with pytest.raises(errors.PermissionDenied) as info:
        await accessor.write_once("x", b"data", OpWrite())
    assert "wrong-secret-value" not in str(info.value)
    with pytest.raises(errors.PermissionDenied):
        await accessor.stat("x", OpStat())


@pytest.mark.anyio
async def test_precondition_failed(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.config(root))
    meta = await accessor.write_once("f", b"data", OpWrite())
    with pytest.raises(errors.ConditionNotMatch):
        await accessor.stat("f", OpStat(if_match='"stale"'))
    with pytest.raises(errors.ConditionNotMatch):
        await accessor.read("f", OpRead(if_match='"stale"'))
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    earlier = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    with pytest.raises(errors.ConditionNotMatch):
        await accessor.read("f", OpRead(if_unmodified_since=earlier))
    with pytest.raises(errors.ConditionNotMatch):  # 304
        await accessor.read("f", OpRead(if_modified_since=later))
    reader = await accessor.read("f", OpRead(if_match=meta.etag, if_modified_since=earlier))
    assert await reader.read() == b"data"
    await reader.aclose()


@pytest.mark.anyio
async def test_not_modified_is_condition_not_match(accessor: S3Accessor) -> None:
    meta = await accessor.write_once("f", b"data", OpWrite())
    with pytest.raises(errors.ConditionNotMatch):
        await accessor.read("f", OpRead(if_none_match=meta.etag))
    with pytest.raises(errors.ConditionNotMatch):
        await accessor.stat("f", OpStat(if_none_match=meta.etag))
    assert (await accessor.stat("f", OpStat(if_none_match='"other"'))).content_length == 4


@pytest.mark.anyio
async def test_range_not_satisfied(accessor: S3Accessor) -> None:
    await accessor.write_once("f", b"0123456789", OpWrite())
    with pytest.raises(errors.RangeNotSatisfied) as info:
        await accessor.read("f", OpRead(offset=11))
    assert info.value.path == "f"
    with pytest.raises(errors.RangeNotSatisfied):
        await accessor.read("f", OpRead(offset=50, size=3))


@pytest.mark.anyio
async def test_connection_refused_is_temporary(root: str, build: Build, moto_s3: S3Server) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    accessor = build(moto_s3.config(root, endpoint=f"http://127.0.0.1:{port}"))
    with pytest.raises(errors.Unexpected) as info:
        await accessor.stat("x", OpStat())
    assert info.value.temporary
    assert isinstance(info.value.__cause__, Exception)


# injected faults -----------------------------------------------------------------------------


def _on(method: str) -> Callable[[Recorded], bool]:
    return lambda r: r.method == method and bool(r.key)


@pytest.mark.anyio
async def test_slow_down_is_rate_limited(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root))
    proxy.inject(Fault(_on("PUT"), status=503, code="SlowDown", headers={"Retry-After": "3"}))
    with pytest.raises(errors.RateLimited) as info:
        await accessor.write_once("f", b"data", OpWrite())
    assert info.value.temporary and info.value.retry_after == 3.0
    assert (info.value.operation, info.value.path) == ("write", "f")
    # exactly one request: the SDK did not retry
    assert len(proxy.recorded("PUT")) == 1
    await accessor.write_once("f", b"data", OpWrite())
    # HEAD answers carry no body: 503 without a code is a temporary Unexpected
    proxy.inject(Fault(_on("HEAD"), status=503, code="SlowDown"))
    with pytest.raises(errors.Error) as head_info:
        await accessor.stat("f", OpStat())
    assert head_info.value.temporary


@pytest.mark.anyio
async def test_server_error_is_temporary(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root))
    await accessor.write_once("f", b"data", OpWrite())
    proxy.inject(Fault(_on("GET"), status=500, code="InternalError"))
    with pytest.raises(errors.Unexpected) as info:
        await accessor.read("f", OpRead())
    assert info.value.temporary and info.value.retry_after is None
    proxy.inject(Fault(_on("GET"), status=429, code="TooManyRequests"))
    with pytest.raises(errors.RateLimited):
        await accessor.read("f", OpRead())
    reader = await accessor.read("f", OpRead())
    assert await reader.read() == b"data"
    await reader.aclose()


@pytest.mark.anyio
async def test_truncated_body_is_temporary(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root))
    await accessor.write_once("f", bytes(range(256)) * 1024, OpWrite())
    proxy.inject(Fault(_on("GET"), truncate=1000))
    reader = await accessor.read("f", OpRead())
    assert reader.size == 256 * 1024
    got = b""
    with pytest.raises(errors.Unexpected) as info:
        while chunk := await reader.read():
            got += chunk
    assert info.value.temporary and info.value.operation == "read"
    assert got == (bytes(range(256)) * 4)[:1000]
    await reader.aclose()
