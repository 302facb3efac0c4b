"""What the gcs driver sends and how it reads the answers, asserted through the test proxy
in front of a real fake-gcs-server: streaming uploads, ranges, bytes-as-stored,
preconditions, rewrite loops, listing pages."""

from __future__ import annotations

import gzip
import random
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer
from pystorage.raw.ops import OpList
from pystorage.raw.range_write import RangeWriter
from pystorage.services.gcs import GcsAccessor
from tests.fixtures.gcs_proxy import GcsProxy, Recorded

pytestmark = pytest.mark.anyio

KiB = 1024
MiB = 1024 * KiB


def payload(size: int, seed: int = 0) -> bytes:
    """``size`` deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    """``data`` as an async stream of ``size``-byte pieces."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def media_gets(records: list[Recorded]) -> list[Recorded]:
    return [r for r in records if r.method == "GET" and r.query.get("alt") == "media"]


# -- reads ----------------------------------------------------------------------------------------


async def test_gzip_object_is_read_as_stored(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    packed = gzip.compress(b"hello gzip, " * 2000)
    meta = await op.write("page.html", packed, content_type="text/html", content_encoding="gzip")
    assert meta.content_encoding == "gzip"
    # the server answers with Content-Encoding: gzip; aiohttp must not inflate it
    assert await op.read("page.html") == packed
    assert await op.read("page.html", offset=10, size=25) == packed[10:35]
    async with op.open("page.html", "rb") as reader:
        assert await reader.read() == packed
    gets = media_gets(proxy.for_name(root + "page.html"))
    assert len(gets) == 3
    assert all(r.headers.get("Accept-Encoding") == "gzip" for r in gets)
    stat = await op.stat("page.html")
    assert (stat.content_encoding, stat.content_type, stat.content_length) == (
        "gzip",
        "text/html",
        len(packed),
    )


async def test_ranges_on_the_wire(make_op: Callable[..., Operator], proxy: GcsProxy, root: str) -> None:
    op = make_op()
    await op.write("f", b"0123456789")
    proxy.clear()
    assert await op.read("f", offset=2, size=3) == b"234"
    assert await op.read("f", offset=7) == b"789"
    assert await op.read("f") == b"0123456789"
    ranges = [r.headers.get("Range") for r in media_gets(proxy.for_name(root + "f"))]
    assert ranges == ["bytes=2-4", "bytes=7-", None]


async def test_read_at_the_end_is_empty_past_it_fails(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    await op.write("f", b"12345")
    proxy.clear()
    assert await op.read("f", offset=5) == b""
    # GCS answers 416 for a range starting at the end: one metadata GET tells it from "past the end"
    seen = [(r.query.get("alt"), r.status) for r in proxy.for_name(root + "f")]
    assert seen == [("media", 416), (None, 200)]
    with pytest.raises(errors.RangeNotSatisfied) as info:
        await op.read("f", offset=6)
    assert info.value.path == "f" and info.value.operation == "read"
    await op.write("empty", b"")
    assert await op.read("empty") == b""
    assert await op.read("empty", offset=0, size=10) == b""
    with pytest.raises(errors.RangeNotSatisfied):
        await op.read("empty", offset=1)


async def test_range_ignored_by_the_server_is_cut_here(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    data = payload(3 * MiB, seed=9)
    await op.write("f", data)
    proxy.clear()
    proxy.ignore_next_range()
    assert await op.read("f", offset=MiB + 3, size=MiB) == data[MiB + 3 : 2 * MiB + 3]
    (get,) = media_gets(proxy.for_name(root + "f"))
    assert get.status == 200  # the whole object came back; the reader skipped and cut it
    proxy.ignore_next_range()
    assert await op.read("f", offset=2 * MiB) == data[2 * MiB :]


async def test_conditional_read_is_pinned_to_the_checked_generation(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    meta = await op.write("f", b"data")
    assert meta.etag and meta.version
    proxy.clear()
    assert await op.read("f", if_match=meta.etag) == b"data"
    assert await op.read("f", if_none_match="other-etag", offset=1) == b"ata"
    gets = media_gets(proxy.for_name(root + "f"))
    assert [r.query.get("ifGenerationMatch") for r in gets] == [meta.version, meta.version]
    # a version read addresses that generation and needs no pin
    proxy.clear()
    assert await op.read("f", version=meta.version, if_match=meta.etag) == b"data"
    (get,) = media_gets(proxy.for_name(root + "f"))
    assert get.query.get("generation") == meta.version and "ifGenerationMatch" not in get.query


async def test_old_generation_stays_readable(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    first = await op.write("f", b"first")
    await op.write("f", b"second")
    assert first.version is not None
    assert await op.read("f", version=first.version) == b"first"
    assert (await op.stat("f", version=first.version)).content_length == 5
    assert await op.read("f") == b"second"


# -- streamed writes ------------------------------------------------------------------------------


async def test_streamed_write_uses_resumable_chunks(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    data = payload(3 * MiB + 100)
    meta = await op.write(
        "big", pieces(data, 300_000), chunk=MiB, content_type="application/x-test", user_metadata={"k": "v"}
    )
    assert meta.content_length == len(data)
    records = proxy.for_name(root + "big")
    starts = [r for r in records if r.method == "POST"]
    assert [r.query.get("uploadType") for r in starts] == ["resumable"]
    assert starts[0].headers.get("X-Upload-Content-Type") == "application/x-test"
    ranges = [r.headers["Content-Range"] for r in records if r.method == "PUT"]
    assert ranges == [
        "bytes 0-1048575/*",
        "bytes 1048576-2097151/*",
        "bytes 2097152-3145727/*",
        f"bytes 3145728-{len(data) - 1}/{len(data)}",
    ]
    assert await op.read("big") == data
    stat = await op.stat("big")
    assert stat.content_type == "application/x-test"
    assert stat.user_metadata == {"k": "v"}
    assert stat.version == meta.version and stat.etag == meta.etag


async def test_chunk_is_rounded_to_256_kib(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    data = payload(700 * KiB, seed=1)
    await op.write("f", pieces(data, 100 * KiB), chunk=300 * KiB)
    ranges = [r.headers["Content-Range"] for r in proxy.for_name(root + "f") if r.method == "PUT"]
    assert ranges == [
        "bytes 0-262143/*",
        "bytes 262144-524287/*",
        f"bytes 524288-{len(data) - 1}/{len(data)}",
    ]
    assert await op.read("f") == data


async def test_exact_chunk_multiple_ends_with_a_full_last_chunk(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    data = payload(2 * MiB, seed=2)
    async with op.open("f", "wb", chunk=MiB) as writer:
        await writer.write(data[:MiB])
        await writer.write(data[MiB:])
    ranges = [r.headers["Content-Range"] for r in proxy.for_name(root + "f") if r.method == "PUT"]
    # the second chunk is held until close, so it can be sent as the last one with the total
    assert ranges == ["bytes 0-1048575/*", "bytes 1048576-2097151/2097152"]
    assert await op.read("f") == data


async def test_a_streamed_write_has_one_buffer(make_op: Callable[..., Operator], root: str) -> None:
    """``open("wb")`` hands the caller's pieces straight to the range-write engine (no
    coalescing buffer in front of its chunk buffer), also below the retry layer."""
    for op in (make_op(), make_op().layer(RetryLayer(max_times=2, min_delay=0.001, jitter=False))):
        writer = await op.open("one-buffer", "wb", chunk=256 * KiB)
        assert isinstance(writer._raw, RangeWriter)
        await writer.write(b"x" * 1000)
        assert bytes(writer._raw._buf) == b"x" * 1000  # the caller's bytes are held here, once
        await writer.write(payload(300 * KiB))
        assert writer._raw.offset == 256 * KiB
        meta = await writer.close()
        assert meta.content_length == 1000 + 300 * KiB


async def test_default_chunk_is_8_mib(make_op: Callable[..., Operator], proxy: GcsProxy, root: str) -> None:
    op = make_op()
    data = payload(9 * MiB, seed=3)
    await op.write("f", pieces(data, MiB))
    ranges = [r.headers["Content-Range"] for r in proxy.for_name(root + "f") if r.method == "PUT"]
    assert ranges == ["bytes 0-8388607/*", f"bytes 8388608-{len(data) - 1}/{len(data)}"]
    assert await op.read("f") == data


async def test_small_stream_is_one_insert(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    async with op.open("small", "wb", cache_control="no-cache", content_disposition="inline") as writer:
        await writer.write(b"abc")
        await writer.write(b"def")
    async with op.open("empty", "wb"):
        pass
    for name in ("small", "empty"):
        records = proxy.for_name(root + name)
        assert [(r.method, r.query.get("uploadType")) for r in records] == [("POST", "multipart")], name
    assert await op.read("small") == b"abcdef"
    assert await op.read("empty") == b""
    stat = await op.stat("small")
    assert (stat.cache_control, stat.content_disposition) == ("no-cache", "inline")


async def test_aborted_stream_cancels_the_session(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    with pytest.raises(RuntimeError, match="boom"):
        async with op.open("gone", "wb", chunk=MiB) as writer:
            await writer.write(payload(MiB + 10))
            await writer.write(payload(MiB))
            raise RuntimeError("boom")
    methods = [r.method for r in proxy.for_name(root + "gone")]
    assert methods[0] == "POST" and "PUT" in methods and methods[-1] == "DELETE"
    assert not await op.exists("gone")


# -- preconditions --------------------------------------------------------------------------------


async def test_if_not_exists_sends_generation_zero(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    await op.write("f", b"one", if_not_exists=True)
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("f", b"two", if_not_exists=True)
    inserts = [r for r in proxy.for_name(root + "f") if r.method == "POST"]
    assert [(r.query.get("ifGenerationMatch"), r.status) for r in inserts] == [("0", 200), ("0", 412)]
    assert await op.read("f") == b"one"


async def test_streamed_if_not_exists_fails_at_the_last_chunk(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    await op.write("f", b"old")
    proxy.clear()
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("f", pieces(payload(2 * MiB + 5), MiB), chunk=MiB, if_not_exists=True)
    records = proxy.for_name(root + "f")
    start = next(r for r in records if r.method == "POST")
    assert start.query.get("ifGenerationMatch") == "0"
    final = [r for r in records if r.method == "PUT"][-1]
    assert not final.headers["Content-Range"].endswith("/*") and final.status == 412
    assert records[-1].method == "DELETE"  # the failed session is cancelled
    assert await op.read("f") == b"old"


async def test_if_match_pins_the_generation_of_a_streamed_write(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    meta = await op.write("f", b"v1")
    writer = await op.open("f", "wb", if_match=meta.etag, chunk=MiB)
    await writer.write(payload(MiB + 1))  # starts the session, pinned to v1's generation
    await op.write("f", b"someone else")  # the object changes meanwhile
    with pytest.raises(errors.ConditionNotMatch):
        await writer.close()
    start = next(r for r in proxy.for_name(root + "f") if r.query.get("uploadType") == "resumable")
    assert start.query.get("ifGenerationMatch") == meta.version
    assert await op.read("f") == b"someone else"


async def test_etag_conditions_on_one_shot_writes(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    meta = await op.write("f", b"v1")
    proxy.clear()
    second = await op.write("f", b"v2", if_match=meta.etag)
    (insert,) = [r for r in proxy.for_name(root + "f") if r.method == "POST"]
    assert insert.query.get("ifGenerationMatch") == meta.version
    proxy.clear()
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("f", b"v3", if_match=meta.etag)  # stale: refused before any upload
    assert [r.method for r in proxy.for_name(root + "f")] == ["GET"]
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("f", b"v3", if_none_match=second.etag)
    await op.write("f", b"v3", if_none_match=meta.etag)
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("missing", b"x", if_match=meta.etag)
    await op.write("new", b"x", if_none_match="some-etag")
    assert await op.read("f") == b"v3"
    assert await op.read("new") == b"x"


async def test_delete_version_sends_the_generation(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    first = await op.write("f", b"1")
    await op.write("f", b"2")
    assert first.version is not None
    proxy.clear()
    await op.delete("f", version=first.version)
    (delete,) = proxy.for_name(root + "f")
    assert delete.method == "DELETE" and delete.query == {"generation": first.version}


# -- copy, rename ---------------------------------------------------------------------------------


async def test_copy_follows_rewrite_tokens(make_op: Callable[..., Operator], proxy: GcsProxy) -> None:
    op = make_op()
    await op.write("src", b"payload", content_type="text/plain", user_metadata={"a": "b"})
    proxy.clear()
    proxy.split_next_rewrite(3)
    await op.copy("src", "dst")
    rewrites = [r for r in proxy.records if "rewriteTo" in r.path]
    assert [r.query.get("rewriteToken") for r in rewrites] == [
        None,
        "pystorage-test-rewrite-1",
        "pystorage-test-rewrite-0",
    ]
    assert await op.read("dst") == b"payload"
    stat = await op.stat("dst")
    assert stat.content_type == "text/plain" and stat.user_metadata == {"a": "b"}


async def test_rename_deletes_only_the_copied_generation(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    meta = await op.write("src", b"x")
    proxy.clear()
    await op.rename("src", "dst")
    rewrite = next(r for r in proxy.records if "rewriteTo" in r.path)
    assert rewrite.query.get("sourceGeneration") == meta.version
    delete = next(r for r in proxy.for_name(root + "src") if r.method == "DELETE")
    assert delete.query.get("ifGenerationMatch") == meta.version
    assert not await op.exists("src")
    assert await op.read("dst") == b"x"


# -- listing ----------------------------------------------------------------------------------------


async def test_recursive_listing_follows_pages(make_op: Callable[..., Operator], proxy: GcsProxy) -> None:
    op = make_op()
    for i in range(5):
        await op.write(f"p/{i}", b"x")
    await op.create_dir("p/sub/")
    proxy.clear()
    entries = [e async for e in op.accessor.list("p/", OpList(recursive=True, limit=2))]
    assert [e.path for e in entries] == ["p/0", "p/1", "p/2", "p/3", "p/4", "p/sub/"]
    assert entries[-1].metadata.is_dir and entries[0].metadata.content_length == 1
    pages = [r for r in proxy.records if r.method == "GET" and r.path.endswith("/o")]
    assert len(pages) == 3
    assert all(r.query.get("maxResults") == "2" and "delimiter" not in r.query for r in pages)
    assert "pageToken" not in pages[0].query and all("pageToken" in r.query for r in pages[1:])


async def test_flat_listing_uses_the_delimiter(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    for name in ("d/a", "d/b", "d/c/x", "d/e"):
        await op.write(name, b"x")
    await op.create_dir("d/empty/")
    proxy.clear()
    paths = [e.path async for e in op.list("d/", start_after="d/a")]
    assert paths == ["d/b", "d/c/", "d/e", "d/empty/"]
    (page,) = [r for r in proxy.records if r.method == "GET" and r.path.endswith("/o")]
    assert page.query == {"prefix": root + "d/", "delimiter": "/", "startOffset": root + "d/a"}
    assert [e.path async for e in op.list("d/empty/")] == []


async def test_core_compose(make_op: Callable[..., Operator], root: str) -> None:
    op = make_op()
    accessor = op.accessor
    assert isinstance(accessor, GcsAccessor)
    await op.write("part-1", b"hello ")
    await op.write("part-2", b"world")
    resource = await accessor.core.objects_compose(
        root + "joined",
        [{"name": root + "part-1"}, {"name": root + "part-2"}],
        destination={"contentType": "text/plain"},
        params={},
    )
    assert resource["name"] == root + "joined" and resource["size"] == "11"
    assert await op.read("joined") == b"hello world"
    assert (await op.stat("joined")).content_type == "text/plain"


async def test_concurrent_if_not_exists_has_one_winner(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    outcomes: list[str] = []

    async def attempt(i: int) -> None:
        try:
            await op.write("once", f"writer {i}".encode(), if_not_exists=True)
            outcomes.append(f"writer {i}")
        except errors.ConditionNotMatch:
            outcomes.append("refused")

    async with anyio.create_task_group() as tg:
        for i in range(6):
            tg.start_soon(attempt, i)
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1 and outcomes.count("refused") == 5
    assert await op.read("once") == winners[0].encode()
