"""Parallel composite uploads on gcs (the explicit multipart API), through the test proxy
in front of a real fake-gcs-server: resume after a crash, compose rounds, hidden
temporaries, cleanup, preconditions on the final compose."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable

import anyio
import pytest

from pystorage import Operator, Part, errors
from pystorage.raw.ops import OpWrite
from pystorage.raw.range_write import RangeWriter
from pystorage.services.gcs.append import GcsAppendWriter
from pystorage.services.gcs.multipart import HIDDEN, MAX_COMPOSE_SOURCES
from tests.fixtures.gcs_proxy import GcsProxy

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


def payload(size: int, seed: int = 0) -> bytes:
    """``size`` deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def composes(proxy: GcsProxy) -> list[str]:
    """The object names composed, in order."""
    return [r.name or "" for r in proxy.records if r.method == "POST" and r.path.endswith("/compose")]


async def live_names(op: Operator, proxy: GcsProxy, root: str) -> list[str]:
    """Every live object name under ``root`` (hidden ones included), straight from the API."""
    core = op._accessor.core  # type: ignore[attr-defined]
    names: list[str] = []
    token = None
    while True:
        page = await core.objects_list(root, page_token=token)
        names += [str(item["name"]) for item in page.get("items") or ()]
        token = page.get("nextPageToken")
        if not token:
            return names


async def test_capability_declares_composite_multipart(make_op: Callable[..., Operator]) -> None:
    cap = make_op().capability()
    assert cap.multipart and not cap.write_can_multi and cap.write_can_append
    assert cap.write_multi_min_size is None
    assert cap.write_multi_max_parts == 10_000
    assert cap.write_multi_max_size == 5 * 1024**4


async def test_resume_after_crash_40_mib(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    data = payload(40 * MiB, seed=8)
    part_size = 5 * MiB
    chunks = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    assert len(chunks) == 8
    op = make_op()
    up = await op.create_multipart("dump/db.bin", content_type="application/x-dump")
    saved = up.upload_id
    for number in range(1, 7):
        await up.write_part(number, chunks[number - 1])
    await op.close()  # the process dies here; only the upload id survives

    again = make_op()
    uploads = [u async for u in again.list_multipart_uploads("dump/")]
    assert [(u.path, u.upload_id) for u in uploads] == [("dump/db.bin", saved)]
    assert uploads[0].initiated is not None and uploads[0].initiated.utcoffset() == dt.timedelta(0)
    resumed = again.resume_multipart("dump/db.bin", saved)
    held = [p async for p in resumed.list_parts()]
    assert [(p.number, p.size) for p in held] == [(n, part_size) for n in range(1, 7)]
    rest = [await resumed.write_part(n, chunks[n - 1]) for n in (7, 8)]
    meta = await resumed.complete(held + rest)
    assert meta.content_length == len(data)
    assert meta.content_type == "application/x-dump"  # remembered by the marker at create time
    back = await again.read("dump/db.bin")
    assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
    assert [u async for u in again.list_multipart_uploads("")] == []
    assert await live_names(again, proxy, root) == [root + "dump/db.bin"]


async def test_compose_rounds_beyond_32_parts(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    count = 2 * MAX_COMPOSE_SOURCES + 5  # 69 parts: 3 intermediates, then one final compose
    pieces = [payload(1000 + i, seed=i) for i in range(count)]
    up = await op.create_multipart("many", user_metadata={"kind": "rounds"})
    slots: dict[int, Part] = {}

    async def put(number: int) -> None:
        slots[number] = await up.write_part(number, pieces[number - 1])

    async with anyio.create_task_group() as tg:  # any order, concurrently
        for number in reversed(range(1, count + 1)):
            tg.start_soon(put, number)
    proxy.clear()
    meta = await up.complete(list(slots.values()))
    assert meta.content_length == sum(map(len, pieces))
    assert meta.user_metadata == {"kind": "rounds"}
    names = composes(proxy)
    assert len(names) == 4 and names[-1] == root + "many"
    assert all(f"/{HIDDEN}/parts/" in name for name in names[:3])
    assert await op.read("many") == b"".join(pieces)
    assert await live_names(op, proxy, root) == [root + "many"]


async def test_parts_are_hidden_from_listings(make_op: Callable[..., Operator], root: str) -> None:
    op = make_op()
    await op.write("visible", b"v")
    up = await op.create_multipart("dir/big")
    await up.write_part(1, b"x" * 100)
    crashed = await op._accessor.write("dir/log", OpWrite(append=True))
    assert isinstance(crashed, GcsAppendWriter)
    await crashed.write(b"y")
    await RangeWriter.close(crashed)  # an append that died before its compose: a hidden temporary
    assert len([u async for u in op.list_multipart_uploads("dir/")]) == 2
    flat = [e.path async for e in op.list("/")]
    deep = [e.path async for e in op.list("/", recursive=True)]
    assert flat == ["visible"]
    assert deep == ["visible"]
    assert not await op.exists("dir/")
    await crashed.abort()
    await up.abort()
    assert [u async for u in op.list_multipart_uploads("")] == []
    # a parent root's listing does not show the hidden folder of a child root either
    parent = make_op(root="/")
    hidden = [e.path async for e in parent.list(root, recursive=True) if HIDDEN in e.path]
    assert hidden == []


async def test_abort_multipart_uploads_older_than_zero(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    for name in ("stale/a", "stale/b/c", "keep"):
        up = await op.create_multipart(name)
        await up.write_part(1, b"x" * 10)
        await up.write_part(2, b"y" * 10)
    assert await op.abort_multipart_uploads("stale/", older_than=dt.timedelta(days=1)) == 0
    assert await op.abort_multipart_uploads("stale/", older_than=0) == 2
    assert [u async for u in op.list_multipart_uploads("stale/")] == []
    assert [u.path async for u in op.list_multipart_uploads("")] == ["keep"]
    assert await op.abort_multipart_uploads("", older_than=0) == 1
    assert [u async for u in op.list_multipart_uploads("")] == []
    assert await live_names(op, proxy, root) == []


async def test_complete_if_not_exists_is_a_precondition_of_the_final_compose(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    up = await op.create_multipart("once", if_not_exists=True)
    part = await up.write_part(1, b"mine")
    await op.write("once", b"theirs")  # someone else creates it first
    proxy.clear()
    with pytest.raises(errors.ConditionNotMatch):
        await up.complete([part])
    final = [r for r in proxy.records if r.path.endswith("/compose") and r.name == root + "once"]
    assert [r.query.get("ifGenerationMatch") for r in final] == ["0"]
    assert await op.read("once") == b"theirs"
    # the upload is still there to retry or abort
    assert [u.upload_id async for u in op.list_multipart_uploads("once")] == [up.upload_id]
    await up.abort()


async def test_complete_if_match(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    old = await op.write("f", b"old")
    up = await op.create_multipart("f", if_match=old.etag)
    part = await up.write_part(1, b"new")
    assert (await up.complete([part])).content_length == 3
    assert await op.read("f") == b"new"
    stale = await op.create_multipart("f", if_match=old.etag)
    part = await stale.write_part(1, b"newer")
    with pytest.raises(errors.ConditionNotMatch):
        await stale.complete([part])
    await stale.abort()
    assert await op.read("f") == b"new"


async def test_rewritten_part_gets_a_new_etag(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    up = await op.create_multipart("f")
    first = await up.write_part(1, b"first")
    second = await up.write_part(1, b"FIRST")  # the same number again: a new generation
    assert first.etag != second.etag
    held = [p async for p in up.list_parts()]
    assert [(p.number, p.etag, p.size) for p in held] == [(1, second.etag, 5)]
    await up.complete([second])
    assert await op.read("f") == b"FIRST"


async def test_unknown_upload(make_op: Callable[..., Operator], proxy: GcsProxy, root: str) -> None:
    op = make_op()
    ghost = op.resume_multipart("f", "0" * 32)
    with pytest.raises(errors.NotFound):
        await ghost.write_part(1, b"x")
    with pytest.raises(errors.NotFound):
        [p async for p in ghost.list_parts()]
    with pytest.raises(errors.NotFound):
        await ghost.complete([Part(1, "1", 1)])
    await ghost.abort()  # nothing to free: succeeds
    with pytest.raises(errors.NotFound):
        await op.resume_multipart("f", "../../escape").write_part(1, b"x")
    assert await live_names(op, proxy, root) == []


async def test_automatic_writer_leaves_no_temporaries(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    data = payload(3 * MiB + 17, seed=3)
    meta = await op.write("auto", data, chunk=MiB, concurrent=2, content_type="text/plain")
    assert meta.content_length == len(data)
    assert (await op.stat("auto")).content_type == "text/plain"
    assert await op.read("auto") == data
    if not op.capability().write_can_multi:
        # automatic writes stay on resumable uploads: composite parts are for the explicit API
        assert composes(proxy) == []
    else:
        assert composes(proxy) == [root + "auto"]
    assert await live_names(op, proxy, root) == [root + "auto"]


@pytest.mark.parametrize("path", ["données/été 100%.bin", "long/" + "é" * 200 + ".bin"])
async def test_unusual_paths(make_op: Callable[..., Operator], proxy: GcsProxy, root: str, path: str) -> None:
    op = make_op()
    up = await op.create_multipart(path)
    part = await up.write_part(1, b"bytes")
    assert [(u.path, u.upload_id) async for u in op.list_multipart_uploads("")] == [(path, up.upload_id)]
    prefix = path[: path.index("/") + 1]
    assert [u.path async for u in op.list_multipart_uploads(prefix)] == [path]
    assert [u.path async for u in op.list_multipart_uploads("other/")] == []
    assert all(len(name.encode()) <= 1024 for name in await live_names(op, proxy, root))
    held = [p async for p in op.resume_multipart(path, up.upload_id).list_parts()]
    assert [p.number for p in held] == [1]
    await up.complete([part])
    assert await op.read(path) == b"bytes"
    assert await live_names(op, proxy, root) == [root + path]
