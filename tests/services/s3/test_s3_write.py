"""Single-request writes: headers and metadata, conditions, checksums on the wire, directories."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from pystorage import errors
from pystorage.raw.ops import OpCopy, OpCreateDir, OpList, OpRead, OpRename, OpStat, OpWrite
from pystorage.services.s3 import S3Accessor
from pystorage.types import EntryMode
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

Build = Callable[[dict[str, Any]], S3Accessor]


async def _read(accessor: S3Accessor, path: str) -> bytes:
    reader = await accessor.read(path, OpRead())
    out = b""
    while piece := await reader.read():
        out += piece
    return out


@pytest.mark.anyio
async def test_headers_and_metadata_round_trip(accessor: S3Accessor) -> None:
    op = OpWrite(
        content_type="text/csv",
        cache_control="max-age=60",
        content_disposition='attachment; filename="a.csv"',
        content_encoding="identity",
        user_metadata={"owner": "alice", "run": "42"},
    )
    written = await accessor.write_once("a.csv", memoryview(b"a,b\n1,2\n"), op)
    assert written.content_length == 8
    assert written.etag == '"' + hashlib.md5(b"a,b\n1,2\n").hexdigest() + '"'
    meta = await accessor.stat("a.csv", OpStat())
    assert meta.mode is EntryMode.FILE and meta.is_file
    assert meta.content_length == 8
    assert meta.content_type == "text/csv"
    assert meta.cache_control == "max-age=60"
    assert meta.content_disposition == 'attachment; filename="a.csv"'
    assert meta.content_encoding == "identity"
    assert meta.user_metadata == {"owner": "alice", "run": "42"}
    assert meta.etag == written.etag
    assert meta.last_modified is not None and meta.last_modified.utcoffset() is not None
    assert meta.last_modified.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    plain = await accessor.write_once("plain", b"x", OpWrite())
    assert plain.content_length == 1
    assert (await accessor.stat("plain", OpStat())).user_metadata is None


@pytest.mark.anyio
async def test_overwrite_and_memoryview_slices(accessor: S3Accessor) -> None:
    big = bytes(range(256)) * 100
    await accessor.write_once("f", memoryview(big)[10:20], OpWrite())
    assert await _read(accessor, "f") == big[10:20]
    await accessor.write_once("f", bytearray(b"second"), OpWrite())  # type: ignore[arg-type]
    assert await _read(accessor, "f") == b"second"


@pytest.mark.anyio
async def test_conditional_put(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.config(root))
    first = await accessor.write_once("f", b"one", OpWrite(if_not_exists=True))
    with pytest.raises(errors.ConditionNotMatch) as info:
        await accessor.write_once("f", b"two", OpWrite(if_not_exists=True))
    assert (info.value.operation, info.value.path) == ("write", "f")
    with pytest.raises(errors.ConditionNotMatch):
        await accessor.write_once("f", b"two", OpWrite(if_match='"0123"'))
    with pytest.raises(errors.ConditionNotMatch):  # S3 answers 404 NoSuchKey here
        await accessor.write_once("missing", b"two", OpWrite(if_match=first.etag))
    assert await _read(accessor, "f") == b"one"
    second = await accessor.write_once("f", b"two", OpWrite(if_match=first.etag))
    assert second.etag != first.etag
    assert await _read(accessor, "f") == b"two"


@pytest.mark.anyio
async def test_conditions_on_the_wire(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root, default_storage_class="STANDARD_IA"))
    first = await accessor.write_once("f", b"x", OpWrite(if_not_exists=True))
    put = proxy.recorded("PUT")[-1]
    assert put.headers["If-None-Match"] == "*" and "If-Match" not in put.headers
    assert put.headers["x-amz-storage-class"] == "STANDARD_IA"
    # one checksum header by default (crc32c, computed by pystorage), never botocore's trailers
    assert [h for h in put.headers if h.lower().startswith("x-amz-checksum")] == ["x-amz-checksum-crc32c"]
    assert "Content-MD5" not in put.headers
    assert first.etag is not None
    await accessor.write_once("f", b"yy", OpWrite(if_match=first.etag))
    put = proxy.recorded("PUT")[-1]
    assert put.headers["If-Match"] == first.etag and "If-None-Match" not in put.headers
    assert (await accessor.stat("f", OpStat())).content_length == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("algorithm", "header"),
    [("crc32", "x-amz-checksum-crc32"), ("sha1", "x-amz-checksum-sha1"), ("sha256", "x-amz-checksum-sha256"),
     ("md5", "Content-MD5")],
)
async def test_checksum_algorithm(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build, algorithm: str, header: str
) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root, checksum_algorithm=algorithm))
    await accessor.write_once("f", b"checked", OpWrite())
    put = proxy.recorded("PUT")[-1]
    if algorithm == "md5":
        assert put.headers[header] == base64.b64encode(hashlib.md5(b"checked").digest()).decode()
    else:
        assert header in put.headers or "x-amz-sdk-checksum-algorithm" in put.headers
    assert await _read(accessor, "f") == b"checked"


@pytest.mark.anyio
async def test_create_dir_and_stat_dir(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.config(root))
    await accessor.create_dir("d/", OpCreateDir())
    meta = await accessor.stat("d/", OpStat())
    assert meta.is_dir
    assert (await accessor.stat("/", OpStat())).is_dir
    # a directory that exists only through the objects below it
    await accessor.write_once("implied/x", b"1", OpWrite())
    assert (await accessor.stat("implied/", OpStat())).is_dir
    with pytest.raises(errors.NotFound):
        await accessor.stat("nothing/", OpStat())
    with pytest.raises(errors.NotFound):
        await accessor.stat("d", OpStat())  # the file "d" does not exist
    # the marker is listed as a directory by its parent, never by itself
    names = [e.path async for e in accessor.list("/", OpList())]
    assert names == ["d/", "implied/"]
    assert [e.path async for e in accessor.list("d/", OpList())] == []
    assert [e.path async for e in accessor.list("d/", OpList(recursive=True))] == []


@pytest.mark.anyio
async def test_stat_dir_on_both(accessor: S3Accessor) -> None:
    await accessor.write_once("a/b/c", b"1", OpWrite())
    assert (await accessor.stat("a/", OpStat())).is_dir
    assert (await accessor.stat("a/b/", OpStat())).is_dir
    with pytest.raises(errors.NotFound):
        await accessor.stat("a/x/", OpStat())


@pytest.mark.anyio
async def test_copy_and_rename(accessor: S3Accessor) -> None:
    await accessor.write_once("src", b"payload", OpWrite(content_type="text/plain", user_metadata={"k": "v"}))
    await accessor.copy("src", "dst/copy", OpCopy())
    assert await _read(accessor, "dst/copy") == b"payload"
    meta = await accessor.stat("dst/copy", OpStat())
    # measured: rclone adds its own "mtime" entry to a copy's metadata
    assert meta.user_metadata is not None and meta.user_metadata["k"] == "v"
    assert meta.content_type == "text/plain"
    await accessor.rename("src", "moved", OpRename())
    assert await _read(accessor, "moved") == b"payload"
    with pytest.raises(errors.NotFound):
        await accessor.stat("src", OpStat())
    with pytest.raises(errors.NotFound) as info:
        await accessor.copy("nope", "x", OpCopy())
    assert info.value.operation == "copy"


@pytest.mark.anyio
async def test_sse_turned_off_is_refused_before_any_request(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    # an S3-compatible without SSE-S3: the configured spec is refused, never ignored
    # (the encryption headers themselves: tests/services/s3/test_s3_sse.py)
    proxy, server = s3_proxy
    config = server.config(
        root, server_side_encryption="AES256", capability_override="write_with_sse_s3=false"
    )
    accessor = build(config)
    with pytest.raises(errors.Unsupported):
        await accessor.write_once("f", b"x", OpWrite())
    with pytest.raises(errors.Unsupported):
        await accessor.initiate_multipart("f", OpWrite())
    with pytest.raises(errors.Unsupported):
        await accessor.read("f", OpRead())
    with pytest.raises(errors.Unsupported):
        await accessor.copy("f", "g", OpCopy())
    assert [r for r in proxy.recorded() if r.key] == []
