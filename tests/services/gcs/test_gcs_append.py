"""Appends on gcs (compose onto the object with a generation precondition), through the
test proxy, which enforces ``ifGenerationMatch`` (fake-gcs-server alone ignores it).

fake-gcs-server also keeps the destination's generation and metadata when it
composes onto an existing object (GCS writes a new generation carrying the
destination resource of the request), so a precondition on the object's
generation could never fail there. :class:`ComposingProxy` gives compose the
GCS behaviour: it re-inserts the composed bytes under the request's
destination resource, which makes a new generation, while holding the proxy's
precondition lock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest
import yarl
from aiohttp import web

from pystorage import Operator, errors
from pystorage.raw.ops import OpWrite
from pystorage.raw.range_write import RangeWriter
from pystorage.services.gcs.append import GcsAppendWriter
from pystorage.services.gcs.multipart import HIDDEN
from tests.fixtures.gcs import FakeGcsServer
from tests.fixtures.gcs_proxy import GcsProxy, Recorded

pytestmark = pytest.mark.anyio

KiB = 1024

_KEPT = ("contentType", "cacheControl", "contentDisposition", "contentEncoding", "metadata")


class ComposingProxy(GcsProxy):
    """A :class:`GcsProxy` whose composes write a new generation, as on GCS (see the module docs)."""

    async def _forward(
        self,
        request: web.Request,
        record: Recorded,
        body: bytes | None,
        truncate: int | None = None,
        drop_range: bool = False,
    ) -> web.StreamResponse:
        if request.method != "POST" or not request.rel_url.raw_path.endswith("/compose"):
            return await super()._forward(request, record, body, truncate, drop_range)
        assert self._client is not None
        raw = body if body is not None else await request.read()
        destination = json.loads(raw).get("destination") or {}
        url = yarl.URL(self.upstream + request.rel_url.raw_path_qs, encoded=True)
        headers = {"Content-Type": "application/json"}
        async with self._client.post(url, data=raw, headers=headers) as answer:
            composed: dict[str, Any] = await answer.json(content_type=None)
            if answer.status != 200:
                record.status = answer.status
                return web.json_response(composed, status=answer.status)
        object_url = self.upstream + request.rel_url.raw_path[: -len("/compose")]
        async with self._client.get(yarl.URL(object_url + "?alt=media", encoded=True)) as answer:
            data = await answer.read()
        resource = {"name": composed["name"]}
        resource.update({k: composed[k] for k in _KEPT if composed.get(k) is not None})
        resource.update({k: destination[k] for k in _KEPT if destination.get(k) is not None})
        boundary = uuid.uuid4().hex
        payload = (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(resource)}\r\n"
            f"--{boundary}\r\nContent-Type: {resource.get('contentType') or 'application/octet-stream'}"
            "\r\n\r\n"
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        bucket = request.rel_url.raw_path.split("/")[4]
        insert = yarl.URL(
            f"{self.upstream}/upload/storage/v1/b/{bucket}/o?uploadType=multipart", encoded=True
        )
        content_type = {"Content-Type": f"multipart/related; boundary={boundary}"}
        async with self._client.post(insert, data=payload, headers=content_type) as answer:
            written = await answer.json(content_type=None)
            record.status = answer.status
            return web.json_response(written, status=answer.status)


@pytest.fixture
def composing_proxy(gcs_server: FakeGcsServer) -> Iterator[ComposingProxy]:
    """A :class:`ComposingProxy` in front of the session's fake-gcs-server."""
    proxy = ComposingProxy(gcs_server.url)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
async def gcs_op(
    gcs_server: FakeGcsServer, composing_proxy: ComposingProxy, root: str
) -> AsyncIterator[Operator]:
    """An operator through :func:`composing_proxy` under this test's root."""
    op = Operator(
        "gcs", bucket=gcs_server.bucket, root=root, endpoint=composing_proxy.url, disable_config_load=True
    )
    yield op
    await op.close()


def compose_records(proxy: GcsProxy, name: str) -> list[tuple[str | None, int | None]]:
    """``(ifGenerationMatch, status)`` of each compose onto ``name``."""
    return [
        (r.query.get("ifGenerationMatch"), r.status)
        for r in proxy.records
        if r.method == "POST" and r.path.endswith("/compose") and r.name == name
    ]


async def hidden_objects(op: Operator, root: str) -> list[str]:
    core = op._accessor.core  # type: ignore[attr-defined]
    page = await core.objects_list(f"{root}{HIDDEN}/")
    return [str(item["name"]) for item in page.get("items") or ()]


async def test_eight_concurrent_appenders_lose_nothing(
    gcs_op: Operator, composing_proxy: ComposingProxy, root: str
) -> None:
    op, proxy = gcs_op, composing_proxy
    await op.write("log", b"HEAD|")
    blocks = {i: (f"<{i}:".encode() + bytes([65 + i]) * (64 * KiB + i) + b">") for i in range(8)}
    start = anyio.Event()

    async def append(i: int) -> None:
        async with op.open("log", "ab") as writer:
            await writer.write(blocks[i])
            await start.wait()  # all eight finish their temporaries, then race to compose

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(append, i)
        await anyio.sleep(0.2)
        start.set()
    data = await op.read("log")
    assert len(data) == 5 + sum(map(len, blocks.values()))
    assert data.startswith(b"HEAD|")
    rest = data[5:]
    for block in blocks.values():
        assert rest.count(block) == 1
    # the blocks tile the rest exactly (each intact, none interleaved)
    order = sorted(blocks, key=lambda i: rest.index(blocks[i]))
    assert b"".join(blocks[i] for i in order) == rest
    records = compose_records(proxy, root + "log")
    assert sum(1 for _, status in records if status == 200) == 8
    assert any(status == 412 for _, status in records), "the race was not exercised"
    assert all(match not in (None, "") for match, _ in records)
    assert await hidden_objects(op, root) == []


async def test_concurrent_appenders_on_a_missing_object(gcs_op: Operator) -> None:
    op = gcs_op

    async def append(i: int) -> None:
        await op.write("new", bytes([48 + i]) * 1000, append=True)

    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(append, i)
    data = await op.read("new")
    assert len(data) == 4000
    blocks = sorted(data[i : i + 1000] for i in range(0, 4000, 1000))
    assert blocks == [bytes([48 + i]) * 1000 for i in range(4)]


async def test_append_keeps_the_objects_metadata(gcs_op: Operator) -> None:
    op = gcs_op
    await op.write("f", b"a", content_type="text/csv", user_metadata={"owner": "me"})
    meta = await op.write("f", b"b", append=True)
    assert meta.content_length == 2
    stat = await op.stat("f")
    assert (stat.content_type, stat.user_metadata) == ("text/csv", {"owner": "me"})
    await op.write("f", b"c", append=True, content_type="text/plain")
    assert (await op.stat("f")).content_type == "text/plain"
    assert await op.read("f") == b"abc"


async def test_large_streamed_append(make_op: Callable[..., Operator], root: str) -> None:
    op = make_op()
    await op.write("big", b"start")
    piece = bytes(range(256)) * 4 * KiB  # 1 MiB
    async with op.open("big", "ab", chunk=256 * KiB) as writer:
        for _ in range(3):
            await writer.write(piece)
    assert await op.read("big") == b"start" + piece * 3
    assert await hidden_objects(op, root) == []


async def test_append_aborted_leaves_object_and_no_temporary(
    make_op: Callable[..., Operator], root: str
) -> None:
    op = make_op()
    await op.write("f", b"keep")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with op.open("f", "ab", chunk=256 * KiB) as writer:
            await writer.write(b"x" * (600 * KiB))  # a resumable session is under way
            raise Boom
    assert await op.read("f") == b"keep"
    assert await hidden_objects(op, root) == []


async def test_failed_compose_keeps_temporary_until_aborted(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    await op.write("f", b"keep")
    proxy.fail_next(503, path_contains="/compose")
    writer = await op.open("f", "ab")
    await writer.write(b"more")
    with pytest.raises(errors.Error) as caught:
        await writer.close()
    assert caught.value.temporary
    assert await op.read("f") == b"keep"
    assert await hidden_objects(op, root) == []  # the failed writer aborted and deleted it


async def test_crashed_append_is_listed_and_cleaned(make_op: Callable[..., Operator], root: str) -> None:
    op = make_op()
    accessor = op._accessor
    raw = await accessor.write("f", OpWrite(append=True))
    assert isinstance(raw, GcsAppendWriter)
    await raw.write(b"orphan")
    await RangeWriter.close(raw)  # the temporary is uploaded, then the process dies before composing
    uploads = [u async for u in op.list_multipart_uploads("")]
    assert [u.path for u in uploads] == ["f"]
    assert uploads[0].upload_id.startswith("append-")
    assert await op.abort_multipart_uploads("", older_than=0) == 1
    assert await hidden_objects(op, root) == []
    assert not await op.exists("f")


async def test_append_if_not_exists(make_op: Callable[..., Operator], proxy: GcsProxy, root: str) -> None:
    op = make_op()
    await op.write("f", b"one", append=True, if_not_exists=True)
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("f", b"two", append=True, if_not_exists=True)
    assert await op.read("f") == b"one"
    assert await hidden_objects(op, root) == []


async def test_write_once_with_append_appends(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    accessor = op._accessor
    await op.write("f", b"one,")
    meta = await accessor.write_once("f", b"two", OpWrite(append=True))
    assert meta.content_length == 7
    assert await op.read("f") == b"one,two"
