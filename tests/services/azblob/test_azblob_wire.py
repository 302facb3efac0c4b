"""What goes over the wire, through the recording proxy in front of Azurite:
customer-key headers on every request, append positions, upload checksums,
block ids, batch deletes, pinned copies; and failures Azurite never produces
(503 ServerBusy with Retry-After, a body cut short, a wrong Content-MD5)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest

from pystorage import Operator, errors, sse
from pystorage.layers import RetryLayer, ServerSideEncryptionLayer
from pystorage.services.azblob import AzblobAccessor
from pystorage.services.azblob.core import block_id
from tests.fixtures.azurite import AzuriteServer
from tests.fixtures.azurite_proxy import AzuriteProxy, Fault, Recorded

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
CPK = bytes(range(32))
CPK_HEADERS = ("x-ms-encryption-key", "x-ms-encryption-key-sha256", "x-ms-encryption-algorithm")


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.fixture
def proxied(
    azurite_proxy: tuple[AzuriteProxy, AzuriteServer], root: str, make_op: Callable[..., Operator]
) -> tuple[AzuriteProxy, Operator]:
    proxy, server = azurite_proxy
    # the proxy's own server config: no capability override (the proxy makes CPK reach Azurite)
    return proxy, make_op(container=server.container, root=root, endpoint=server.url)


def _blob_requests(proxy: AzuriteProxy, name: str) -> list[Recorded]:
    return [r for r in proxy.recorded() if r.blob.endswith(name)]


async def test_customer_key_on_every_request(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    proxy.strip = set(CPK_HEADERS)  # Azurite refuses them: record, strip, re-sign, forward
    enc = op.layer(ServerSideEncryptionLayer(sse.CustomerKey(CPK)))
    data = bytes(range(256)) * (4 * 4096 + 3)  # 4 MiB and a bit: two blocks at 2 MiB
    await enc.write("small", b"hello")
    async with enc.open("big", "wb", chunk=2 * MiB, concurrent=2) as writer:
        await writer.write(data)
    assert await enc.read("small") == b"hello"
    assert await enc.read("big", offset=10, size=5) == data[10:15]
    await enc.stat("big")
    await enc.write("log", b"a", append=True)
    await enc.write("log", b"b", append=True)
    await enc.copy("small", "copied")
    touched = [r for r in proxy.recorded() if r.blob]
    kinds = {(r.method, r.query.get("comp", "")) for r in touched}
    assert {
        ("PUT", ""),
        ("PUT", "block"),
        ("PUT", "blocklist"),
        ("GET", ""),
        ("HEAD", ""),
        ("PUT", "appendblock"),
    } <= kinds
    sha = base64.b64encode(hashlib.sha256(CPK).digest()).decode()
    for record in touched:
        assert record.headers.get("x-ms-encryption-key") == base64.b64encode(CPK).decode(), record
        assert record.headers.get("x-ms-encryption-key-sha256") == sha
        assert record.headers.get("x-ms-encryption-algorithm") == "AES256"
    # the copy of a customer-key blob streams through: no Copy Blob request
    assert not any("x-ms-copy-source" in r.headers for r in touched)


async def test_encryption_scope_on_writes(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    enc = op.layer(ServerSideEncryptionLayer(sse.Kms(key_id="scope-a")))
    await enc.write("one", b"x")
    async with enc.open("two", "wb", chunk=MiB) as writer:
        await writer.write(b"y" * (2 * MiB))
    await enc.copy("one", "three")
    writes = [r for r in proxy.recorded("PUT") if r.blob]
    assert writes and all(r.headers.get("x-ms-encryption-scope") == "scope-a" for r in writes)
    with pytest.raises(errors.Unsupported):
        await op.layer(ServerSideEncryptionLayer(sse.Kms())).write("four", b"no default scope")
    assert not await op.exists("four")


async def test_append_positions(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    await op.write("log", b"abc", append=True)
    async with op.open("log", "ab", chunk=2) as writer:  # pieces of at least 2 bytes
        await writer.write(b"de")
        await writer.write(b"fgh")
    assert await op.read("log") == b"abcdefgh"
    appends = [r for r in proxy.recorded("PUT") if r.query.get("comp") == "appendblock"]
    assert [r.headers.get("x-ms-blob-condition-appendpos") for r in appends] == ["0", "3", "5"]
    created = [r for r in proxy.recorded("PUT") if r.headers.get("x-ms-blob-type") == "AppendBlob"]
    assert len(created) == 1 and created[0].headers.get("if-none-match") == "*"


async def test_two_appenders_never_interleave(proxied: tuple[AzuriteProxy, Operator]) -> None:
    _, op = proxied
    await op.write("log", b"0", append=True)
    first = await op.open("log", "ab", chunk=1)
    await first.write(b"A")  # the first writer has looked at the blob: length 1
    await op.write("log", b"B", append=True)  # another appender gets in
    with pytest.raises(errors.ConditionNotMatch):
        await first.write(b"A")
        await first.close()
    assert await op.read("log") in (b"0B", b"0AB")


async def test_append_to_block_blob_keeps_headers(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    await op.write("doc", b"hello", content_type="text/plain", user_metadata={"owner": "me"})
    etag = (await op.stat("doc")).etag
    await op.write("doc", b" world", append=True)
    meta = await op.stat("doc")
    assert await op.read("doc") == b"hello world"
    assert meta.content_type == "text/plain" and meta.user_metadata == {"owner": "me"}
    commit = [r for r in proxy.recorded("PUT") if r.query.get("comp") == "blocklist"][-1]
    assert commit.headers.get("if-match") == etag  # pinned to the blob it extends
    await op.write("doc", b"!", append=True)  # now it has a block list: no re-staging
    assert await op.read("doc") == b"hello world!"


async def test_upload_checksums_and_block_ids(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    data = bytes(range(256)) * (3 * 4096)  # 3 MiB
    await op.write("small", b"hello")
    await op.write("big", data, chunk=MiB, concurrent=3)
    put = next(r for r in proxy.recorded("PUT") if r.blob.endswith("small"))
    assert put.headers.get("content-md5") == _md5(b"hello")
    blocks = [r for r in proxy.recorded("PUT") if r.query.get("comp") == "block"]
    assert len(blocks) == 3
    ids = sorted(r.query["blockid"] for r in blocks)
    assert len({len(i) for i in ids}) == 1
    for record in blocks:
        assert record.headers.get("content-md5")
    upload = base64.b64decode(ids[0]).decode().rsplit("-", 1)[0]
    assert ids == sorted(block_id(upload, n) for n in (1, 2, 3))
    assert await op.read("big") == data


async def test_checksum_off(
    azurite_proxy: tuple[AzuriteProxy, AzuriteServer], root: str, make_op: Callable[..., Operator]
) -> None:
    proxy, server = azurite_proxy
    op = make_op(**server.config(root), checksum_algorithm=None)
    await op.write("small", b"hello")
    assert "content-md5" not in next(r for r in proxy.recorded("PUT") if r.blob).headers


async def test_wrong_stored_md5_is_detected(proxied: tuple[AzuriteProxy, Operator]) -> None:
    _, op = proxied
    accessor = op.accessor
    assert isinstance(accessor, AzblobAccessor)
    core = accessor.core
    key = core.key("bad")
    from pystorage.raw.ops import OpWrite

    name = block_id("f" * 32, 1)
    await core.put_block(key, name, b"payload", OpWrite())
    # Put Block List stores x-ms-blob-content-md5 as given, without checking it
    await core.http.request(
        "PUT",
        core.blob_path(key),
        query={"comp": "blocklist"},
        headers={"x-ms-blob-content-md5": _md5(b"something else")},
        body=f'<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>{name}</Latest></BlockList>'.encode(),
    )
    with pytest.raises(errors.ChecksumMismatch) as info:
        await op.read("bad")
    assert info.value.temporary
    assert await op.read("bad", offset=0, size=7) == b"payload"  # ranged reads have no whole-blob MD5


async def test_batch_delete_is_one_request(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    for i in range(5):
        await op.write(f"d/{i}", b"x")
    proxy.clear()
    await op.delete_many([f"d/{i}" for i in range(5)] + ["d/missing"])
    assert [(r.method, r.query.get("comp")) for r in proxy.recorded()] == [("POST", "batch")]
    assert [e.path async for e in op.list("d/")] == []


async def test_batch_failure_names_paths(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    proxy.inject(Fault(lambda r: r.query.get("comp") == "batch", status=503, code="ServerBusy"))
    with pytest.raises(errors.RateLimited):
        await op.delete_many(["a", "b"])


async def test_copy_is_pinned_to_source_etag(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    meta = await op.write("src", b"content")
    await op.copy("src", "dst")
    copy = next(r for r in proxy.recorded("PUT") if "x-ms-copy-source" in r.headers)
    assert copy.headers["x-ms-source-if-match"] == meta.etag
    assert copy.headers["x-ms-copy-source"].endswith("/src")
    assert await op.read("dst") == b"content"


async def test_server_busy_is_rate_limited_with_retry_after(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    await op.write("x", b"data")
    proxy.inject(
        Fault(lambda r: r.method == "GET", status=503, code="ServerBusy", headers={"Retry-After": "7"})
    )
    with pytest.raises(errors.RateLimited) as info:
        await op.read("x")
    assert info.value.temporary and info.value.retry_after == 7.0
    proxy.inject(Fault(lambda r: r.method == "GET", status=500, code="OperationTimedOut"))
    with pytest.raises(errors.RateLimited):
        await op.read("x")
    proxy.inject(Fault(lambda r: r.method == "GET", status=500, code="InternalError", times=2))
    retried = op.layer(RetryLayer(max_times=3, min_delay=0.01, jitter=False))
    assert await retried.read("x") == b"data"


async def test_short_body_is_temporary_and_resumed(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    data = bytes(range(256)) * 4096  # 1 MiB
    await op.write("x", data)
    proxy.inject(Fault(lambda r: r.method == "GET", truncate=1000))
    with pytest.raises(errors.Unexpected) as info:
        await op.read("x")
    assert info.value.temporary
    proxy.inject(Fault(lambda r: r.method == "GET", truncate=5000))
    retried = op.layer(RetryLayer(max_times=3, min_delay=0.01, jitter=False))
    assert await retried.read("x") == data


async def test_self_consistent_short_range_is_temporary_and_resumed(
    proxied: tuple[AzuriteProxy, Operator],
) -> None:
    proxy, op = proxied
    data = bytes(range(256)) * 4096  # 1 MiB
    await op.write("x", data)
    proxy.inject(Fault(lambda r: r.method == "GET", shorten=1000))  # 206 bytes 100-1099 for 100-50099
    with pytest.raises(errors.Unexpected) as info:
        await op.read("x", offset=100, size=50_000)
    assert info.value.temporary
    proxy.inject(Fault(lambda r: r.method == "GET", shorten=1000))
    retried = op.layer(RetryLayer(max_times=3, min_delay=0.01, jitter=False))
    assert await retried.read("x", offset=100, size=50_000) == data[100:50_100]


async def test_garbage_error_body_is_unexpected(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    proxy.inject(Fault(lambda r: r.method == "GET", status=500, code=""))
    with pytest.raises(errors.Unexpected) as info:
        await op.read("x")
    assert info.value.temporary


async def test_conditions_sent(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    meta = await op.write("x", b"1")
    await op.write("x", b"2", if_match=meta.etag)
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("x", b"3", if_match=meta.etag)
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("x", b"3", if_not_exists=True)
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("missing", b"3", if_match=meta.etag)
    puts = [r.headers for r in proxy.recorded("PUT")]
    assert puts[1]["if-match"] == meta.etag and puts[3]["if-none-match"] == "*"


async def test_lost_commit_answer_is_checked(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    data = bytes(range(256)) * (8 * 1024)  # 2 MiB: two blocks
    proxy.inject(
        Fault(
            lambda r: r.query.get("comp") == "blocklist", status=500, code="InternalError", after_forward=True
        )
    )
    retried = op.layer(RetryLayer(max_times=2, min_delay=0.01, jitter=False))
    meta = await retried.write("once", data, chunk=MiB, if_not_exists=True)
    assert meta.content_length == len(data)
    assert await op.read("once") == data
    commits = [r for r in proxy.recorded("PUT") if r.query.get("comp") == "blocklist"]
    assert len(commits) == 2  # the retry failed its If-None-Match: the block list proved it was ours
    with pytest.raises(errors.ConditionNotMatch):  # someone else's blob is still refused
        await retried.write("once", data, chunk=MiB, if_not_exists=True)


async def test_pending_copy_is_polled(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    await op.write("src", b"content")
    pending = {"x-ms-copy-status": "pending"}
    proxy.inject(Fault(lambda r: "x-ms-copy-source" in r.headers, answer_headers=pending))
    proxy.inject(
        Fault(lambda r: r.method == "HEAD" and r.blob.endswith("dst"), answer_headers=pending, times=2)
    )
    await op.copy("src", "dst")
    polls = [r for r in proxy.recorded("HEAD") if r.blob.endswith("dst")]
    assert len(polls) == 3
    assert await op.read("dst") == b"content"


async def test_failed_copy_is_an_error(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    await op.write("src", b"content")
    proxy.inject(
        Fault(lambda r: "x-ms-copy-source" in r.headers, answer_headers={"x-ms-copy-status": "failed"})
    )
    with pytest.raises(errors.Unexpected, match="failed"):
        await op.copy("src", "dst")


async def test_copy_timeout_aborts(
    azurite_proxy: tuple[AzuriteProxy, AzuriteServer], root: str, make_op: Callable[..., Operator]
) -> None:
    proxy, server = azurite_proxy
    op = make_op(
        container=server.container, root=root, endpoint=server.url, copy_timeout=0.2, copy_poll_interval=0.05
    )
    await op.write("src", b"content")
    pending = {"x-ms-copy-status": "pending", "x-ms-copy-id": "copy-1"}
    proxy.inject(Fault(lambda r: "x-ms-copy-source" in r.headers, answer_headers=pending))
    proxy.inject(
        Fault(lambda r: r.method == "HEAD" and r.blob.endswith("dst"), answer_headers=pending, times=None)
    )
    with pytest.raises(errors.Unexpected, match="copy_timeout"):
        await op.copy("src", "dst")
    aborts = [r for r in proxy.recorded("PUT") if r.headers.get("x-ms-copy-action") == "abort"]
    assert len(aborts) == 1 and aborts[0].query.get("copyid") == "copy-1"


async def test_server_ignoring_the_range(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    data = bytes(range(256)) * 8192  # 2 MiB
    await op.write("x", data)
    proxy.strip = {"x-ms-range"}  # the server answers 200 with the whole blob
    assert await op.read("x", offset=1_500_000, size=1000) == data[1_500_000:1_501_000]
    assert await op.read("x", offset=2 * MiB - 3) == data[-3:]
    assert await op.read("x", offset=2 * MiB) == b""
    with pytest.raises(errors.RangeNotSatisfied):
        await op.read("x", offset=2 * MiB + 1)


async def test_bad_content_range_is_temporary(proxied: tuple[AzuriteProxy, Operator]) -> None:
    proxy, op = proxied
    await op.write("x", b"0123456789")
    proxy.inject(Fault(lambda r: r.method == "GET", answer_headers={"Content-Range": "bytes 3-5/10"}))
    with pytest.raises(errors.Unexpected) as info:
        await op.read("x", offset=2, size=3)
    assert info.value.temporary


async def test_versions_on_the_wire(
    azurite_proxy: tuple[AzuriteProxy, AzuriteServer], root: str, make_op: Callable[..., Operator]
) -> None:
    # Azurite has no versioning (test_azblob_quirks.py): only what is sent is checked here
    proxy, server = azurite_proxy
    op = make_op(**server.config(root), enable_versioning=True)
    await op.write("x", b"1")
    for call in (
        op.stat("x", version="v1"),
        op.read("x", version="v1"),
        op.delete("x", version="v1"),
    ):
        try:
            await call
        except errors.Error:
            pass
    [e async for e in op.list("/", versions=True)]
    sent = [(r.method, r.query.get("versionid")) for r in proxy.recorded() if r.method != "PUT"]
    assert ("HEAD", "v1") in sent and ("GET", "v1") in sent and ("DELETE", "v1") in sent
    listing = next(r for r in proxy.recorded("GET") if r.query.get("comp") == "list")
    assert listing.query["include"] == "versions"
    deleted = next(r for r in proxy.recorded("DELETE"))
    assert "x-ms-delete-snapshots" not in deleted.headers  # a version is deleted alone
