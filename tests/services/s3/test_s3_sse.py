"""Server-side encryption on the s3 service: config keys, request parameters, and proof on the wire.

moto stores SSE-S3 / SSE-KMS settings and reports them back, but ignores
SSE-C entirely (it neither stores the key nor refuses a read without it,
measured against moto 5.2), so SSE-C is proven by the headers each request
carries through the recording proxy, and the refusal of a wrong or missing
key by answers the proxy injects in S3's shape (400 ``InvalidRequest``,
403 ``AccessDenied``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest

from pystorage import Operator, errors, sse
from pystorage.layers import LoggingLayer, ServerSideEncryptionLayer
from pystorage.raw.ops import OpCopy, OpWrite
from pystorage.services import build_accessor, s3
from pystorage.services.s3 import S3Accessor
from pystorage.services.s3.sse import KINDS, spec_from_config, sse_headers, sse_params
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import Fault, Recorded, S3Proxy

KEY = bytes(range(32))
KEY_B64 = base64.b64encode(KEY).decode()
KEY_MD5 = base64.b64encode(hashlib.md5(KEY).digest()).decode()
OTHER_KEY = bytes(range(1, 33))
C_ALGORITHM = "server_side_encryption_customer_algorithm"
C_MD5 = "server_side_encryption_customer_key_md5"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/pystorage-test"
MiB = 1024 * 1024

SSE_HEADERS = (
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-MD5",
    "x-amz-copy-source-server-side-encryption-customer-algorithm",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key-MD5",
)
SSE_C = {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": KEY_B64,
    "x-amz-server-side-encryption-customer-key-MD5": KEY_MD5,
}
SSE_C_SOURCE = {k.replace("x-amz-", "x-amz-copy-source-", 1): v for k, v in SSE_C.items()}


# request parameters (pure) ---------------------------------------------------------------------------


def test_no_spec_gives_no_parameters() -> None:
    for kind in KINDS:
        assert sse_params(None, kind) == {}
        assert sse_headers(None, kind) == {}


def test_sse_s3_only_on_requests_that_create_an_object() -> None:
    for kind in KINDS:
        expected = {"ServerSideEncryption": "AES256"} if kind in (
            "PutObject", "CreateMultipartUpload", "CopyObject"
        ) else {}
        assert sse_params(sse.S3Managed(), kind) == expected, kind


def test_sse_kms_parameters_and_headers() -> None:
    spec = sse.Kms(key_id=KMS_KEY, context={"b": "2", "a": "1"}, bucket_key=False)
    params = sse_params(spec, "PutObject")
    context = base64.b64encode(b'{"a":"1","b":"2"}').decode()
    assert params == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": KMS_KEY,
        "SSEKMSEncryptionContext": context,
        "BucketKeyEnabled": False,
    }
    assert sse_headers(spec, "CopyObject") == {
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY,
        "x-amz-server-side-encryption-context": context,
        "x-amz-server-side-encryption-bucket-key-enabled": "false",
    }
    assert sse_params(sse.Kms(), "CreateMultipartUpload") == {"ServerSideEncryption": "aws:kms"}
    for kind in ("UploadPart", "CompleteMultipartUpload", "GetObject", "HeadObject", "UploadPartCopy"):
        assert sse_params(spec, kind) == {}, kind


def test_sse_c_on_every_request_and_both_sides_of_copies() -> None:
    spec = sse.CustomerKey(KEY)
    for kind in KINDS:
        headers = sse_headers(spec, kind)
        expected = {**SSE_C, **SSE_C_SOURCE} if kind in ("CopyObject", "UploadPartCopy") else SSE_C
        assert headers == expected, kind
        assert KEY_B64 not in repr(headers) and "<redacted>" in repr(headers)
    assert sse_params(spec, "UploadPart") == {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": KEY_B64,
        "SSECustomerKeyMD5": KEY_MD5,
    }


def test_an_unknown_request_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        sse_params(sse.S3Managed(), "DeleteObject")  # type: ignore[arg-type]


# config ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, None),
        ({"server_side_encryption": "AES256"}, sse.S3Managed()),
        ({"server_side_encryption": "aws:kms"}, sse.Kms()),
        (
            {"server_side_encryption": "aws:kms", "server_side_encryption_aws_kms_key_id": KMS_KEY},
            sse.Kms(key_id=KMS_KEY),
        ),
        ({"server_side_encryption_customer_key": KEY_B64}, sse.CustomerKey(KEY)),
        (
            {
                "server_side_encryption_customer_algorithm": "AES256",
                "server_side_encryption_customer_key": KEY_B64,
                "server_side_encryption_customer_key_md5": KEY_MD5,
            },
            sse.CustomerKey(KEY),
        ),
    ],
)
def test_config_keys_give_the_spec(keys: dict[str, str], expected: sse.SseSpec | None) -> None:
    config = s3.S3Config(bucket="b", **keys)
    assert config.sse_spec() == expected
    accessor = build_accessor("s3", {"bucket": "b", **keys})  # the SSE config keys are applied here
    if expected is None:
        assert isinstance(accessor, S3Accessor)
    else:
        assert not isinstance(accessor, S3Accessor)
        assert type(expected).__name__ in repr(accessor)
        assert KEY_B64 not in repr(accessor)


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"server_side_encryption": "aes256"}, "server_side_encryption"),
        ({"server_side_encryption_aws_kms_key_id": KMS_KEY}, "server_side_encryption_aws_kms_key_id"),
        (
            {"server_side_encryption": "AES256", "server_side_encryption_aws_kms_key_id": KMS_KEY},
            "server_side_encryption_aws_kms_key_id",
        ),
        ({"server_side_encryption_customer_algorithm": "AES256"}, C_ALGORITHM),
        ({"server_side_encryption_customer_key_md5": KEY_MD5}, "server_side_encryption_customer_key_md5"),
        ({"server_side_encryption_customer_key": "not base64!"}, "server_side_encryption_customer_key"),
        (
            {"server_side_encryption_customer_key": base64.b64encode(b"short").decode()},
            "server_side_encryption_customer_key",
        ),
        (
            {"server_side_encryption_customer_key": KEY_B64, C_ALGORITHM: "AES128"},
            C_ALGORITHM,
        ),
        (
            {"server_side_encryption_customer_key": KEY_B64, C_MD5: "x" * 24},
            "server_side_encryption_customer_key_md5",
        ),
        (
            {"server_side_encryption_customer_key": KEY_B64, "server_side_encryption": "AES256"},
            "server_side_encryption_customer_key",
        ),
    ],
)
def test_invalid_config_names_the_key_and_hides_the_secret(keys: dict[str, str], named: str) -> None:
    with pytest.raises(errors.ConfigInvalid) as caught:
        s3.build({"bucket": "b", **keys})
    message = str(caught.value)
    assert repr(named) in message
    assert KEY_B64 not in message
    assert KEY_B64 not in "".join(traceback.format_exception(caught.value))


def test_the_customer_key_is_a_secret_config_field() -> None:
    config = s3.S3Config(bucket="b", server_side_encryption_customer_key=KEY_B64)
    assert KEY_B64 not in repr(config)
    assert KEY_B64 not in repr(s3.build({"bucket": "b", "server_side_encryption_customer_key": KEY_B64}))
    assert spec_from_config("s3", customer_key=KEY_B64) == sse.CustomerKey(KEY)


def test_the_capability_declares_every_mode_and_can_be_turned_off() -> None:
    cap = s3.build({"bucket": "b"}).info().capability
    assert cap.write_with_sse_s3 and cap.write_with_sse_kms and cap.write_with_sse_c
    off = s3.build({"bucket": "b", "capability_override": "write_with_sse_c=false"}).info().capability
    assert not off.write_with_sse_c and off.write_with_sse_s3


# on the wire ---------------------------------------------------------------------------------------------


@pytest.fixture
def proxy(s3_proxy: tuple[S3Proxy, S3Server]) -> Iterator[tuple[S3Proxy, S3Server]]:
    """The recording proxy (it records the SSE and copy-source headers)."""
    yield s3_proxy


def _sse_of(record: Recorded) -> dict[str, str]:
    return {k: v for k, v in record.headers.items() if k in SSE_HEADERS}


def _operator(server: S3Server, root: str, **config: Any) -> Operator:
    # a part size of 5 MiB: a 12 MiB write is three parts
    return Operator("s3", **server.config(root, **config))


def _kind(r: Recorded) -> str:
    q = r.query
    if r.method == "PUT" and "partNumber" in q:
        return "UploadPartCopy" if "x-amz-copy-source" in r.headers else "UploadPart"
    if r.method == "PUT":
        return "CopyObject" if "x-amz-copy-source" in r.headers else "PutObject"
    if r.method == "POST" and "uploads" in q:
        return "CreateMultipartUpload"
    if r.method == "POST" and "uploadId" in q:
        return "CompleteMultipartUpload"
    if r.method == "POST":
        return "DeleteObjects"
    if r.method == "GET" and r.key and not q:
        return "GetObject"
    return {"HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(r.method, "other")


async def _every_request_kind(op: Operator) -> bytes:
    """PUT, a three-part multipart write, GET, HEAD, a copy; returns the big payload."""
    big = bytes(range(256)) * (12 * MiB // 256)
    await op.write("small.txt", b"hello")
    await op.write("big.bin", big, chunk=5 * MiB)
    assert await op.read("small.txt") == b"hello"
    assert (await op.stat("big.bin")).content_length == len(big)
    await op.copy("small.txt", "copy.txt")
    return big


WRITE_HEADERS: dict[str, dict[str, str]] = {
    "S3Managed": {"x-amz-server-side-encryption": "AES256"},
    "Kms": {
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY,
    },
}


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["layer", "config"])
@pytest.mark.parametrize("spec", [sse.S3Managed(), sse.Kms(key_id=KMS_KEY)], ids=["s3", "kms"])
async def test_managed_keys_go_on_writes_only(
    proxy: tuple[S3Proxy, S3Server], root: str, spec: sse.SseSpec, how: str
) -> None:
    recorder, server = proxy
    if how == "layer":
        op = _operator(server, root).layer(ServerSideEncryptionLayer(spec))
    else:
        mode = "AES256" if isinstance(spec, sse.S3Managed) else "aws:kms"
        keys: dict[str, Any] = {"server_side_encryption": mode}
        if isinstance(spec, sse.Kms):
            keys["server_side_encryption_aws_kms_key_id"] = KMS_KEY
        op = _operator(server, root, **keys)
    async with op:
        await _every_request_kind(op)
        meta = await op.stat("copy.txt")
    expected = WRITE_HEADERS[type(spec).__name__]
    kinds: dict[str, int] = {}
    for record in recorder.recorded():
        kind = _kind(record)
        kinds[kind] = kinds.get(kind, 0) + 1
        want = expected if kind in ("PutObject", "CreateMultipartUpload", "CopyObject") else {}
        assert _sse_of(record) == want, (kind, record)
    assert kinds["UploadPart"] == 3 and kinds["CompleteMultipartUpload"] == 1 and kinds["CopyObject"] == 1
    # moto stores and reports SSE-S3 / SSE-KMS
    assert meta.encryption is not None
    assert meta.encryption.algorithm == expected["x-amz-server-side-encryption"]
    if isinstance(spec, sse.Kms):
        assert meta.encryption.kms_key_id == KMS_KEY


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["layer", "config"])
async def test_customer_key_goes_on_every_request(
    proxy: tuple[S3Proxy, S3Server], root: str, how: str
) -> None:
    recorder, server = proxy
    if how == "layer":
        op = _operator(server, root).layer(ServerSideEncryptionLayer(sse.CustomerKey(KEY)))
    else:
        op = _operator(server, root, server_side_encryption_customer_key=KEY_B64)
    async with op:
        big = await _every_request_kind(op)
        assert await op.read("big.bin") == big
        assert await op.read("copy.txt", offset=1, size=3) == b"ell"
    kinds: dict[str, int] = {}
    for record in recorder.recorded():
        kind = _kind(record)
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "CopyObject":
            assert _sse_of(record) == {**SSE_C, **SSE_C_SOURCE}, record
        elif kind in ("DeleteObject", "DeleteObjects", "other"):
            assert _sse_of(record) == {}, record
        else:
            assert _sse_of(record) == SSE_C, (kind, record)
    assert kinds["PutObject"] == 1
    assert kinds["CreateMultipartUpload"] == 1
    assert kinds["UploadPart"] == 3
    assert kinds["CompleteMultipartUpload"] == 1
    assert kinds["GetObject"] >= 3
    assert kinds["HeadObject"] >= 1
    assert kinds["CopyObject"] == 1


@pytest.mark.anyio
async def test_upload_part_copy_carries_both_sides(proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    recorder, server = proxy
    accessor = s3.build(server.config(root))
    assert isinstance(accessor, S3Accessor)
    spec = sse.CustomerKey(KEY)
    try:
        await accessor.write_once("src", b"x" * 100, OpWrite(sse=spec))
        upload = await accessor.initiate_multipart("dst", OpWrite(sse=spec))
        core = accessor.core
        await core.upload_part_copy(
            core.key("src"), core.key("dst"), upload, 1, first=0, last=99, op=OpCopy(sse=spec)
        )
        await accessor.abort_multipart("dst", upload)
    finally:
        await accessor.close()
    copies = [r for r in recorder.recorded() if _kind(r) == "UploadPartCopy"]
    assert len(copies) == 1
    assert _sse_of(copies[0]) == {**SSE_C, **SSE_C_SOURCE}


@pytest.mark.anyio
async def test_rename_carries_both_sides(proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    recorder, server = proxy
    async with _operator(server, root).layer(ServerSideEncryptionLayer(sse.CustomerKey(KEY))) as op:
        await op.write("a", b"data")
        recorder.clear()
        await op.rename("a", "b")
    copies = [r for r in recorder.recorded() if _kind(r) == "CopyObject"]
    assert len(copies) == 1 and _sse_of(copies[0]) == {**SSE_C, **SSE_C_SOURCE}


@pytest.mark.anyio
async def test_presign_of_a_customer_key_object_lists_the_headers(
    proxy: tuple[S3Proxy, S3Server], root: str
) -> None:
    recorder, server = proxy
    async with _operator(server, root).layer(ServerSideEncryptionLayer(sse.CustomerKey(KEY))) as op:
        await op.write("a", b"secret data")
        request = await op.presign_read("a", 300)
        put = await op.presign_write("b", 300)
    assert dict(request.headers) == SSE_C
    assert dict(put.headers) == SSE_C
    assert KEY_B64 not in request.url and KEY_B64 not in repr(request) and KEY_B64 not in str(request)
    for name in SSE_C:
        assert name.lower() in request.url.lower()  # signed: the caller must send them
    recorder.clear()
    async with aiohttp.ClientSession() as session:
        async with session.get(request.url, headers=dict(request.headers)) as answer:
            assert answer.status == 200
            assert await answer.read() == b"secret data"
    assert _sse_of(recorder.recorded("GET")[0]) == SSE_C


@pytest.mark.anyio
async def test_presign_with_managed_keys(proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    _, server = proxy
    async with _operator(server, root).layer(ServerSideEncryptionLayer(sse.S3Managed())) as op:
        put = await op.presign_write("a", 300)
        get = await op.presign_read("a", 300)
    assert dict(put.headers) == {"x-amz-server-side-encryption": "AES256"}
    assert dict(get.headers) == {}


# refusals ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_moto_does_not_enforce_customer_keys(proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    """Documents the emulator's limit (so the refusal tests below inject S3's answers)."""
    _, server = proxy
    async with _operator(server, root).layer(ServerSideEncryptionLayer(sse.CustomerKey(KEY))) as op:
        await op.write("a", b"data")
    async with _operator(server, root) as plain:
        assert await plain.read("a") == b"data"


def _is_object(method: str, key_suffix: str) -> Callable[[Recorded], bool]:
    return lambda r: r.method == method and r.key.endswith(key_suffix) and not r.query


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "status", "code"),
    [("GET", 400, "InvalidRequest"), ("HEAD", 400, "InvalidRequest"), ("GET", 403, "AccessDenied")],
)
async def test_a_missing_or_wrong_key_is_permission_denied(
    proxy: tuple[S3Proxy, S3Server], root: str, method: str, status: int, code: str
) -> None:
    recorder, server = proxy
    async with _operator(server, root).layer(ServerSideEncryptionLayer(sse.CustomerKey(OTHER_KEY))) as op:
        await op.write("a", b"data")
        # times=None: botocore answers a 400 to a HEAD with a region check and one more try
        recorder.inject(Fault(_is_object(method, "a"), status=status, code=code, times=None))
        with pytest.raises(errors.PermissionDenied) as caught:
            if method == "GET":
                await op.read("a")
            else:
                await op.stat("a")
    assert caught.value.path == "a"
    assert not caught.value.temporary
    if status == 400:
        assert "customer key (SSE-C)" in str(caught.value)


@pytest.mark.anyio
async def test_turned_off_capability_refuses_before_any_request(
    proxy: tuple[S3Proxy, S3Server], root: str
) -> None:
    recorder, server = proxy
    op = _operator(
        server,
        root,
        server_side_encryption_customer_key=KEY_B64,
        capability_override="write_with_sse_c=false",
    )
    async with op:
        for call in (op.write("a", b"data"), op.read("a"), op.stat("a"), op.copy("a", "b")):
            with pytest.raises(errors.Unsupported):
                await call
    assert recorder.recorded() == []


# secrets --------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_keys_never_reach_logs_reprs_or_errors(
    proxy: tuple[S3Proxy, S3Server], root: str, caplog: pytest.LogCaptureFixture
) -> None:
    recorder, server = proxy
    spec = sse.CustomerKey(KEY)
    secrets = (KEY_B64, repr(KEY), server.secret_access_key)
    seen: list[str] = []
    names = ("botocore", "aiobotocore", "aiohttp", "pystorage")
    levels = {name: logging.getLogger(name).level for name in names}
    with caplog.at_level(logging.DEBUG):
        for name in names:
            logging.getLogger(name).setLevel(logging.DEBUG)
        op = _operator(server, root).layer(ServerSideEncryptionLayer(spec), LoggingLayer())
        configured = _operator(server, root, server_side_encryption_customer_key=KEY_B64)
        configured = configured.layer(LoggingLayer())
        async with op, configured:
            await op.write("a", b"data")
            await configured.write("b", b"data", chunk=5 * MiB)
            assert await op.read("a") == b"data"
            await op.copy("a", "c")
            await op.presign_read("a", 300)  # botocore signs (and logs) the SSE-C headers
            recorder.inject(Fault(_is_object("GET", "a"), status=400, code="InvalidRequest"))
            with pytest.raises(errors.PermissionDenied) as caught:
                await op.read("a")
            recorder.inject(Fault(lambda r: r.method == "PUT", status=500, code="InternalError"))
            with pytest.raises(errors.Error) as caught_write:
                await configured.write("d", b"data")
            seen += [repr(op), repr(configured), repr(spec), str(spec), repr(op.accessor)]
            seen += [repr(ServerSideEncryptionLayer(spec))]
            seen += [repr(OpWrite(sse=spec)), repr(OpCopy(sse=spec))]
        for err in (caught.value, caught_write.value):
            seen += [str(err), repr(err), "".join(traceback.format_exception(err))]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    assert len(caplog.records) > 10
    assert any(r.name.startswith("botocore") for r in caplog.records)
    # the SDK did log the SSE-C headers it presigned: with their values redacted
    assert "x-amz-server-side-encryption-customer-key" in caplog.text.lower()
    assert "<redacted>" in caplog.text
    seen += [record.getMessage() for record in caplog.records]
    seen += [caplog.text]
    for text in seen:
        for secret in secrets:
            assert secret not in text


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["config", "layer"])
async def test_sse_c_key_goes_on_list_parts(proxy: tuple[S3Proxy, S3Server], root: str, how: str) -> None:
    recorder, server = proxy
    if how == "config":
        op = _operator(server, root, server_side_encryption_customer_key=KEY_B64, checksum_algorithm="crc32")
    else:
        op = _operator(server, root, checksum_algorithm="crc32").layer(
            ServerSideEncryptionLayer(sse.CustomerKey(KEY))
        )
    async with op:
        up = await op.create_multipart("parts.bin")
        part = await up.write_part(1, b"p" * (5 * 1024 * 1024))
        if how == "config":  # the explicit listing knows the key from the config
            assert [p.number async for p in up.list_parts()] == [1]
        await up.complete([part])  # ListParts again: the parts' checksums (crc32 via botocore)
    listings = [r for r in recorder.recorded("GET") if "uploadId" in r.query]
    assert listings
    for record in listings:
        assert _sse_of(record)["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
