"""The S3 transport: the SigV4 signer (AWS's published examples), the parsers, and ``lean_http``."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from pystorage import Operator, errors
from pystorage.raw.dates import parse_http_date
from pystorage.services.s3.documents import parse_listing
from pystorage.services.s3.errors import MalformedAnswer, S3ErrorAnswer, map_errors, parse_error
from pystorage.services.s3.signer import EMPTY_SHA256, SigV4Signer, canonical_query, quote_path
from tests.fixtures.s3 import S3Server

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
WHEN = dt.datetime(2013, 5, 24, tzinfo=dt.timezone.utc)


def _signature(headers: dict[str, str]) -> str:
    return headers["authorization"].rpartition("Signature=")[2]


def test_signer_matches_aws_get_object_example() -> None:
    # "Example: GET Object" of the S3 SigV4 header-signing documentation
    headers = {"host": "examplebucket.s3.amazonaws.com", "range": "bytes=0-9"}
    SigV4Signer("us-east-1").sign(
        "GET", "/test.txt", "", headers, access_key=AK, secret_key=SK, payload_hash=EMPTY_SHA256, now=WHEN
    )
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," in headers["authorization"]
    assert _signature(headers) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_signer_matches_aws_list_objects_example() -> None:
    # "Example: GET Bucket (List Objects)"
    headers = {"host": "examplebucket.s3.amazonaws.com"}
    query = canonical_query({"max-keys": "2", "prefix": "J"})
    assert query == "max-keys=2&prefix=J"
    SigV4Signer("us-east-1").sign(
        "GET", "/", query, headers, access_key=AK, secret_key=SK, payload_hash=EMPTY_SHA256, now=WHEN
    )
    assert _signature(headers) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"


def test_signing_key_is_cached_per_day() -> None:
    signer = SigV4Signer("eu-west-1")
    first: dict[str, str] = {"host": "h"}
    signer.sign("GET", "/k", "", first, access_key=AK, secret_key=SK, now=WHEN)
    key = signer._key
    again: dict[str, str] = {"host": "h"}
    signer.sign("GET", "/k", "", again, access_key=AK, secret_key=SK, now=WHEN + dt.timedelta(hours=1))
    assert signer._key is key
    signer.sign("GET", "/k", "", {"host": "h"}, access_key=AK, secret_key=SK, now=WHEN + dt.timedelta(days=1))
    assert signer._key != key
    assert again["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"


def test_session_token_is_signed() -> None:
    headers = {"host": "h"}
    signer = SigV4Signer("us-east-1")
    signer.sign("GET", "/", "", headers, access_key=AK, secret_key=SK, token="tok", now=WHEN)
    assert headers["x-amz-security-token"] == "tok"
    assert "x-amz-security-token" in headers["authorization"]


def test_quoting() -> None:
    assert quote_path("a b/ü+x~_.-") == "a%20b/%C3%BC%2Bx~_.-"
    assert canonical_query({"prefix": "a/b c", "delimiter": "/"}) == "delimiter=%2F&prefix=a%2Fb%20c"


def test_parse_http_date() -> None:
    assert parse_http_date("Fri, 24 May 2013 00:00:01 GMT") == dt.datetime(
        2013, 5, 24, 0, 0, 1, tzinfo=dt.timezone.utc
    )
    assert parse_http_date("Friday, 24-May-13 00:00:01 GMT") == dt.datetime(
        2013, 5, 24, 0, 0, 1, tzinfo=dt.timezone.utc
    )
    assert parse_http_date("garbage") is None


LISTING = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>d%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <Contents><Key>d%2Fa+b%2B.txt</Key><LastModified>2026-11-23T07:31:10.000Z</LastModified>
    <ETag>&quot;abc&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>
  <CommonPrefixes><Prefix>d%2Fsub%2F</Prefix></CommonPrefixes>
  <NextContinuationToken>tok/en=</NextContinuationToken>
</ListBucketResult>"""


def test_parse_list_objects_v2() -> None:
    page = parse_listing(LISTING)
    assert page.truncated is True
    assert page.token == "tok/en="
    assert page.files == [
        ("d/a b+.txt", 5, '"abc"', dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=dt.timezone.utc), None)
    ]
    assert page.prefixes == ["d/sub/"]
    empty = parse_listing(b"<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")
    assert (empty.files, empty.prefixes, empty.truncated, empty.token) == ([], [], False, None)


VERSIONS = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix></Prefix><KeyMarker/><VersionIdMarker/>
  <NextKeyMarker>k%26x</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker>
  <MaxKeys>2</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <Version><Key>k%26x</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-11-23T07:31:10Z</LastModified><ETag>"e1"</ETag><Size>3</Size></Version>
  <DeleteMarker><Key>k%26x</Key><VersionId>v0</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-11-22T07:31:10Z</LastModified></DeleteMarker>
</ListVersionsResult>"""


def test_parse_list_object_versions() -> None:
    page = parse_listing(VERSIONS, versions=True)
    when = dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=dt.timezone.utc)
    assert page.files == [("k&x", 3, '"e1"', when, "v1")]
    assert (page.truncated, page.token, page.version_marker) == (True, "k&x", "v2")


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>portal</body></html>",
        LISTING[:-40],  # cut short
        b"<ListVersionsResult></ListVersionsResult>",  # another answer
        b"\xff\xfe<ListBucketResult>",
        b"",
    ],
)
def test_a_listing_that_is_not_one_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedAnswer):
        parse_listing(body)


def test_parse_error() -> None:
    body = b"<Error><Code>NoSuchKey</Code><Message>gone</Message><Key>k</Key></Error>"
    assert parse_error(body) == ("NoSuchKey", "gone")
    assert parse_error(b"") == ("", "")
    assert parse_error(b"not xml") == ("", "")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, "NoSuchKey", errors.NotFound),
        (404, "404", errors.NotFound),
        (412, "PreconditionFailed", errors.ConditionNotMatch),
        (403, "AccessDenied", errors.PermissionDenied),
        (503, "SlowDown", errors.RateLimited),
    ],
)
def test_error_answers_map_like_botocore_errors(status: int, code: str, expected: type[errors.Error]) -> None:
    with pytest.raises(expected) as info, map_errors("read", "k", bucket="b"):
        raise S3ErrorAnswer(status, code, "", {"Retry-After": "3"})
    assert (info.value.operation, info.value.path) == ("read", "k")
    assert isinstance(info.value.__cause__, S3ErrorAnswer)
    if expected is errors.RateLimited:
        assert info.value.retry_after == 3.0


@pytest.mark.anyio
@pytest.mark.parametrize("lean", [True, False])
async def test_lean_http_is_accepted_and_one_transport_serves_all(
    server: S3Server, root: str, lean: bool
) -> None:
    """``lean_http`` is accepted and changes nothing: every call goes out on the one
    aiohttp transport (no aiobotocore HTTP session is ever opened)."""
    async with Operator("s3", **server.config(root, lean_http=lean)) as op:
        core = op.accessor.core  # type: ignore[attr-defined]
        await op.stat("/")
        assert core._http is not None
        name = "a b/ü+x~.txt"
        await op.write(name, b"hello", content_type="text/plain", user_metadata={"k": "v"})
        meta = await op.stat(name)
        assert (meta.content_length, meta.content_type, meta.user_metadata) == (5, "text/plain", {"k": "v"})
        assert meta.etag and meta.last_modified is not None
        assert await op.read(name) == b"hello"
        assert await op.read(name, offset=1, size=3) == b"ell"
        big = os.urandom((5 << 20) + 123)
        await op.write("big", big, chunk=5 << 20, concurrent=2)  # two UploadParts
        assert await op.read("big") == big
        assert [e.path async for e in op.list("/")] == ["a b/", "big"]
        listed = {e.path: e.metadata async for e in op.list("/", recursive=True)}
        assert listed[name].content_length == 5 and listed["big"].content_length == len(big)
        with pytest.raises(errors.NotFound):
            await op.read("missing")
        with pytest.raises(errors.NotFound):
            await op.stat("missing")
        if op.capability().read_with_if_match:
            with pytest.raises(errors.ConditionNotMatch):
                await op.read(name, if_match='"not-the-etag"')
        await op.delete(name)
        await op.delete("big")
        await op.delete("never-existed")
        assert [e.path async for e in op.list("/", recursive=True)] == []
        assert core._client.client._endpoint.http_session._sessions == {}  # botocore never sent a request


@pytest.mark.anyio
async def test_lean_put_of_a_large_buffer_holds_no_copy(rclone_s3: S3Server, root: str) -> None:
    """A buffer goes out as zero-copy slices: peak traced memory stays far below its size
    (rclone runs in another process; moto's in-process server would be traced too)."""
    import tracemalloc

    data = os.urandom(4 << 20)
    async with Operator("s3", **rclone_s3.config(root)) as op:
        await op.write("warm", b"x")
        tracemalloc.start()
        try:
            await op.write("f", data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < len(data) // 4
        assert await op.read("f") == data
        await op.delete("f")
        await op.delete("warm")


@pytest.mark.anyio
async def test_lean_anonymous_requests_are_unsigned(moto_s3: S3Server, root: str) -> None:
    """No credential configured or found: the lean path sends unsigned requests
    (moto takes an anonymous PUT, and refuses an anonymous GET like S3 does)."""
    config = moto_s3.config(root, disable_config_load=True)
    for key in ("access_key_id", "secret_access_key"):
        config.pop(key, None)
    async with Operator("s3", **config) as op:
        await op.write("f", b"anonymous")
        http = op.accessor.core._http  # type: ignore[attr-defined]
        assert http is not None and http._credentials is None
        with pytest.raises(errors.PermissionDenied):  # moto: the object is private to its (anonymous) writer
            await op.read("f")


def test_request_bodies_escape_keys_and_delete_answers_parse() -> None:
    from pystorage.services.s3.documents import complete_body, delete_body, delete_errors
    from pystorage.types import Part

    assert delete_body(["a&b", "<c>"]) == (
        b"<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object>"
        b"<Object><Key>&lt;c&gt;</Key></Object></Delete>"
    )
    body = complete_body([Part(1, '"e1"', 5)], {1: {"ChecksumCRC32C": "abc="}})
    assert body == (
        b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"e1"</ETag>'
        b"<ChecksumCRC32C>abc=</ChecksumCRC32C></Part></CompleteMultipartUpload>"
    )
    answer = b"""<?xml version="1.0"?><DeleteResult><Error><Key>a&amp;b</Key><Code>AccessDenied</Code>
        <Message>no</Message></Error></DeleteResult>"""
    assert delete_errors(answer) == [("a&b", "AccessDenied", "no")]
    assert delete_errors(b"") == [] and delete_errors(b"<DeleteResult/>") == []
