"""Server-side encryption on the gcs service: CMEK and CSEK, proven on the wire.

fake-gcs-server neither stores nor enforces encryption (it ignores
``kmsKeyName`` and the ``x-goog-encryption-*`` headers, reports no
``kmsKeyName`` / ``customerEncryption`` and serves a CSEK object to a
request without the key), so each mode is proven by what every request
carries through the recording proxy, and the refusal of a wrong or missing
key by GCS-shaped error answers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import traceback
from collections.abc import Callable, Iterator

import aiohttp
import pytest

from pystorage import Operator, errors, sse
from pystorage.layers import LoggingLayer, ServerSideEncryptionLayer
from pystorage.raw.ops import OpWrite
from pystorage.services import build_accessor, gcs
from pystorage.services.gcs import GcsAccessor
from pystorage.services.gcs.errors import GcsHttpError, from_native
from pystorage.services.gcs.sse import (
    KINDS,
    RedactedHeaders,
    check_spec,
    sse_headers,
    sse_params,
)
from tests.fixtures.gcs import ServiceAccountKey
from tests.fixtures.gcs_proxy import GcsProxy, Recorded

KEY = bytes(range(32))
KEY_B64 = base64.b64encode(KEY).decode()
KEY_SHA = base64.b64encode(hashlib.sha256(KEY).digest()).decode()
KMS = "projects/pystorage/locations/global/keyRings/test/cryptoKeys/gcs"
KiB = 1024
TOKEN = "pystorage-secret-access-token"

CSEK_HEADERS = (
    "x-goog-encryption-algorithm",
    "x-goog-encryption-key",
    "x-goog-encryption-key-sha256",
    "x-goog-copy-source-encryption-algorithm",
    "x-goog-copy-source-encryption-key",
    "x-goog-copy-source-encryption-key-sha256",
)
CSEK = {
    "x-goog-encryption-algorithm": "AES256",
    "x-goog-encryption-key": KEY_B64,
    "x-goog-encryption-key-sha256": KEY_SHA,
}
CSEK_SOURCE = {k.replace("x-goog-", "x-goog-copy-source-", 1): v for k, v in CSEK.items()}


# pure -------------------------------------------------------------------------------------------


def test_s3_managed_is_accepted_and_sends_nothing() -> None:
    for kind in KINDS:
        assert sse_params(sse.S3Managed(), kind) == {}
        assert sse_headers(sse.S3Managed(), kind) == {}
        assert sse_params(None, kind) == {} and sse_headers(None, kind) == {}


def test_cmek_parameters() -> None:
    spec = sse.Kms(key_id=KMS, bucket_key=True)  # bucket_key: an S3 setting, ignored
    assert sse_params(spec, "insert") == {"kmsKeyName": KMS}
    assert sse_params(spec, "resumable_start") == {"kmsKeyName": KMS}
    assert sse_params(spec, "compose") == {"kmsKeyName": KMS}
    assert sse_params(spec, "rewrite") == {"destinationKmsKeyName": KMS}
    for kind in ("resumable_chunk", "get_media", "get_metadata", "presign"):
        assert sse_params(spec, kind) == {}
    for kind in KINDS:
        assert sse_headers(spec, kind) == {}


def test_csek_headers() -> None:
    spec = sse.CustomerKey(KEY)
    for kind in KINDS:
        headers = sse_headers(spec, kind)
        assert headers == ({**CSEK, **CSEK_SOURCE} if kind == "rewrite" else CSEK), kind
        assert isinstance(headers, RedactedHeaders)
        assert KEY_B64 not in repr(headers) and KEY_B64 not in str(headers)
        assert sse_params(spec, kind) == {}


def test_kms_without_key_or_with_a_context_is_refused() -> None:
    with pytest.raises(errors.ConfigInvalid, match="key"):
        check_spec(sse.Kms())
    with pytest.raises(errors.Unsupported, match="context"):
        check_spec(sse.Kms(key_id=KMS, context={"a": "b"}))
    with pytest.raises(ValueError):
        sse_params(None, "delete")  # type: ignore[arg-type]


# config -----------------------------------------------------------------------------------------

BASE = {"bucket": "b", "endpoint": "http://127.0.0.1:1", "disable_config_load": True}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, None),
        ({"kms_key_name": KMS}, sse.Kms(key_id=KMS)),
        ({"server_side_encryption_customer_key": KEY_B64}, sse.CustomerKey(KEY)),
        (
            {
                "server_side_encryption_customer_key": KEY_B64,
                "server_side_encryption_customer_algorithm": "AES256",
                "server_side_encryption_customer_key_sha256": KEY_SHA,
            },
            sse.CustomerKey(KEY),
        ),
    ],
)
def test_config_keys_give_the_spec(keys: dict[str, str], expected: sse.SseSpec | None) -> None:
    assert gcs.GcsConfig(**BASE, **keys).sse_spec() == expected  # type: ignore[arg-type]
    accessor = build_accessor("gcs", {**BASE, **keys})  # the SSE config keys are applied here
    assert isinstance(accessor, GcsAccessor) == (expected is None)
    assert KEY_B64 not in repr(accessor)
    assert accessor.info().capability.write_with_sse_c


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"kms_key_name": " "}, "kms_key_name"),
        (
            {"server_side_encryption_customer_algorithm": "AES256"},
            "server_side_encryption_customer_algorithm",
        ),
        (
            {"server_side_encryption_customer_key_sha256": KEY_SHA},
            "server_side_encryption_customer_key_sha256",
        ),
        ({"server_side_encryption_customer_key": "%%%"}, "server_side_encryption_customer_key"),
        ({"server_side_encryption_customer_key": "c2hvcnQ="}, "server_side_encryption_customer_key"),
        (
            {"server_side_encryption_customer_key": KEY_B64, "kms_key_name": KMS},
            "server_side_encryption_customer_key",
        ),
        (
            {
                "server_side_encryption_customer_key": KEY_B64,
                "server_side_encryption_customer_algorithm": "X",
            },
            "server_side_encryption_customer_algorithm",
        ),
        (
            {
                "server_side_encryption_customer_key": KEY_B64,
                "server_side_encryption_customer_key_sha256": "x",
            },
            "server_side_encryption_customer_key_sha256",
        ),
    ],
)
def test_invalid_config_names_the_key(keys: dict[str, str], named: str) -> None:
    with pytest.raises(errors.ConfigInvalid) as caught:
        gcs.build({**BASE, **keys})
    assert repr(named) in str(caught.value)
    assert KEY_B64 not in "".join(traceback.format_exception(caught.value))


def test_a_csek_mismatch_answer_is_permission_denied() -> None:
    for reason in ("resourceIsEncryptedWithCustomerEncryptionKey", "customerEncryptionKeyIsIncorrect"):
        body = json.dumps(
            {
                "error": {
                    "code": 400,
                    "message": "The target object is encrypted by a customer-supplied key.",
                    "errors": [{"reason": reason, "message": "..."}],
                }
            }
        ).encode()
        native = GcsHttpError.from_body(400, "Bad Request", body)
        assert native.reason == reason
        mapped = from_native(native, operation="read", path="a")
        assert isinstance(mapped, errors.PermissionDenied)
        assert "CSEK" in str(mapped) and not mapped.temporary
    other = GcsHttpError.from_body(
        400, "Bad Request", b'{"error": {"code": 400, "errors": [{"reason": "invalid"}]}}'
    )
    assert not isinstance(from_native(other), errors.PermissionDenied)


# on the wire ------------------------------------------------------------------------------------


@pytest.fixture
def wire(proxy: GcsProxy) -> Iterator[GcsProxy]:
    """The recording proxy (it records the CSEK headers)."""
    yield proxy


def _kind(r: Recorded) -> str:
    path, q = r.path, r.query
    if path.startswith("/upload/"):
        if r.method == "PUT" or "upload_id" in q:
            return "resumable_chunk"
        return "resumable_start" if q.get("uploadType") == "resumable" else "insert"
    if "/rewriteTo/" in path:
        return "rewrite"
    if path.endswith("/compose"):
        return "compose"
    if r.method == "GET" and path.rstrip("/").endswith("/o"):
        return "list"
    if r.method == "GET":
        return "get_media" if q.get("alt") == "media" else "get_metadata"
    return r.method.lower()


def _csek_of(r: Recorded) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k in CSEK_HEADERS}


async def _every_request_kind(op: Operator) -> None:
    """insert, resumable (start and four chunks), composite multipart (marker, three
    parts, compose), append (temporary and compose), metadata, media, rewrite (copy, rename)."""
    await op.write("small", b"hello")
    big = bytes(range(256)) * (4 * KiB)  # 1 MiB, streamed: a resumable upload in four chunks
    await op.write("big", [big[i : i + 100 * KiB] for i in range(0, len(big), 100 * KiB)], chunk=256 * KiB)
    upload = await op.create_multipart("composed")
    parts = [await upload.write_part(n, bytes([n]) * 1000) for n in (1, 2, 3)]
    await upload.complete(parts)
    async with op.open("small", "ab") as appender:
        await appender.write(b" world")
    assert await op.read("small") == b"hello world"
    assert await op.read("big", offset=10, size=5) == big[10:15]
    assert await op.read("composed", offset=999, size=2) == b"\x01\x02"
    assert (await op.stat("big")).content_length == len(big)
    await op.copy("small", "copy")
    await op.rename("copy", "moved")


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["layer", "config"])
async def test_csek_goes_on_every_request(
    make_op: Callable[..., Operator], wire: GcsProxy, how: str
) -> None:
    spec = sse.CustomerKey(KEY)
    if how == "layer":
        op = make_op().layer(ServerSideEncryptionLayer(spec))
    else:
        op = make_op(server_side_encryption_customer_key=KEY_B64)
    await _every_request_kind(op)
    kinds: dict[str, int] = {}
    for record in wire.records:
        kind = _kind(record)
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "rewrite":
            assert _csek_of(record) == {**CSEK, **CSEK_SOURCE}, record
        elif kind in ("list", "delete"):
            assert _csek_of(record) == {}, record
        else:
            assert _csek_of(record) == CSEK, (kind, record.path, record.query)
        assert "kmsKeyName" not in record.query and "destinationKmsKeyName" not in record.query
    assert kinds.get("resumable_start", 0) >= 1 and kinds.get("resumable_chunk", 0) >= 4, kinds
    assert kinds["insert"] >= 5 and kinds["compose"] >= 2, kinds
    assert kinds["get_media"] >= 1 and kinds["get_metadata"] >= 1 and kinds["rewrite"] == 2


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["layer", "config"])
async def test_cmek_goes_on_every_write(
    make_op: Callable[..., Operator], wire: GcsProxy, how: str
) -> None:
    spec = sse.Kms(key_id=KMS)
    op = make_op().layer(ServerSideEncryptionLayer(spec)) if how == "layer" else make_op(kms_key_name=KMS)
    await _every_request_kind(op)
    seen: set[str] = set()
    for record in wire.records:
        kind = _kind(record)
        assert _csek_of(record) == {}
        got = {k: v for k, v in record.query.items() if k in ("kmsKeyName", "destinationKmsKeyName")}
        expected: dict[str, str] = {}
        if kind in ("insert", "resumable_start", "compose"):
            expected = {"kmsKeyName": KMS}
        elif kind == "rewrite":
            expected = {"destinationKmsKeyName": KMS}
        assert got == expected, (kind, record.name, record.query)
        seen.add(kind)
    assert {"insert", "resumable_start", "resumable_chunk", "compose", "rewrite"} <= seen


@pytest.mark.anyio
async def test_google_managed_keys_send_nothing(make_op: Callable[..., Operator], wire: GcsProxy) -> None:
    op = make_op().layer(ServerSideEncryptionLayer(sse.S3Managed()))
    await op.write("a", b"data")
    assert await op.read("a") == b"data"
    await op.copy("a", "b")
    assert wire.records
    for record in wire.records:
        assert _csek_of(record) == {}
        assert not {"kmsKeyName", "destinationKmsKeyName"} & set(record.query)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("spec", "error"),
    [(sse.Kms(), errors.ConfigInvalid), (sse.Kms(key_id=KMS, context={"a": "b"}), errors.Unsupported)],
    ids=["no-key", "context"],
)
async def test_what_gcs_cannot_honour_is_refused_before_any_request(
    make_op: Callable[..., Operator], wire: GcsProxy, spec: sse.SseSpec, error: type[errors.Error]
) -> None:
    op = make_op().layer(ServerSideEncryptionLayer(spec))
    for call in (op.write("a", b"x"), op.read("a"), op.stat("a"), op.copy("a", "b")):
        with pytest.raises(error):
            await call
    with pytest.raises(error):
        async with op.open("b", "wb", chunk=256 * KiB) as writer:
            await writer.write(b"x" * (1024 * KiB))
    assert wire.records == []


@pytest.mark.anyio
async def test_a_refused_read_is_permission_denied(make_op: Callable[..., Operator], wire: GcsProxy) -> None:
    op = make_op().layer(ServerSideEncryptionLayer(sse.CustomerKey(KEY)))
    await op.write("a", b"data")
    wire.fail_next(403, method="GET", path_contains="/o/")
    with pytest.raises(errors.PermissionDenied):
        await op.read("a")


@pytest.mark.anyio
async def test_fake_gcs_server_does_not_enforce_customer_keys(make_op: Callable[..., Operator]) -> None:
    """Documents the emulator's limit (why the refusal is tested with injected answers)."""
    await make_op().layer(ServerSideEncryptionLayer(sse.CustomerKey(KEY))).write("a", b"data")
    assert await make_op().read("a") == b"data"


@pytest.mark.anyio
async def test_presign_lists_the_csek_headers(
    make_op: Callable[..., Operator], wire: GcsProxy, gcs_service_account: ServiceAccountKey
) -> None:
    op = make_op(credential=gcs_service_account.json, disable_config_load=False).layer(
        ServerSideEncryptionLayer(sse.CustomerKey(KEY))
    )
    await op.write("a", b"secret")
    request = await op.presign_read("a", 300)
    assert dict(request.headers) == CSEK
    assert KEY_B64 not in request.url and KEY_B64 not in repr(request)
    signed = request.url.split("X-Goog-SignedHeaders=", 1)[1].split("&", 1)[0]
    for name in CSEK:
        assert name in signed.replace("%3B", ";")
    wire.records.clear()
    async with aiohttp.ClientSession() as session:
        async with session.get(request.url, headers=dict(request.headers)) as answer:
            assert answer.status == 200
            assert await answer.read() == b"secret"
    assert _csek_of(wire.records[0]) == CSEK


# secrets ------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_keys_never_reach_logs_reprs_or_errors(
    make_op: Callable[..., Operator], wire: GcsProxy, caplog: pytest.LogCaptureFixture
) -> None:
    spec = sse.CustomerKey(KEY)
    names = ("aiohttp", "gcloud", "pystorage")
    levels = {name: logging.getLogger(name).level for name in names}
    seen: list[str] = []
    try:
        with caplog.at_level(logging.DEBUG):
            for name in names:
                logging.getLogger(name).setLevel(logging.DEBUG)
            op = make_op().layer(ServerSideEncryptionLayer(spec), LoggingLayer())
            configured = make_op(server_side_encryption_customer_key=KEY_B64, token=TOKEN)
            configured = configured.layer(LoggingLayer())
            await op.write("a", b"data")
            await configured.write("b", b"x" * 600 * KiB, chunk=256 * KiB)
            assert await op.read("a") == b"data"
            await op.copy("a", "c")
            wire.fail_next(400, method="GET", path_contains="/o/")
            with pytest.raises(errors.Error) as caught:
                await configured.read("b")
            wire.fail_next(500, count=10, method="POST")
            with pytest.raises(errors.Error) as caught_write:
                await op.write("d", b"data")
            seen += [repr(op), repr(configured), repr(op.accessor), repr(configured.accessor), repr(spec)]
            seen += [repr(OpWrite(sse=spec)), repr(ServerSideEncryptionLayer(spec))]
            for err in (caught.value, caught_write.value):
                seen += [str(err), repr(err), "".join(traceback.format_exception(err))]
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert caplog.records
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    for text in seen:
        assert KEY_B64 not in text
        assert repr(KEY) not in text
        assert TOKEN not in text
