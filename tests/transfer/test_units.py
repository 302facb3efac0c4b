"""The pieces of ``pystorage.transfer`` on memory and fs: filters, compare
modes, the merge-join, the journal, bandwidth, server-side copies, failures.
These run on asyncio and trio."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from pystorage import Entry, Metadata, Operator, errors
from pystorage.raw.accessor import Accessor, AccessorInfo, RawReader
from pystorage.raw.layer import Layer, LayeredAccessor
from pystorage.raw.ops import OpList, OpRead
from pystorage.transfer import Journal, PathFilter, check, copy_tree, sync
from pystorage.transfer.bandwidth import Bandwidth
from pystorage.transfer.compare import (
    Verdict,
    carried_mtime,
    format_mtime,
    listed_md5,
    merge_join,
    quick_verdict,
)

pytestmark = pytest.mark.anyio

UTC = dt.timezone.utc


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("*.log", ["a.log", "x/y/a.log"], ["a.log.1", "alog"]),
        ("/*.log", ["a.log"], ["x/a.log"]),
        ("logs/*.gz", ["logs/a.gz", "x/logs/a.gz"], ["logs/x/a.gz", "xlogs/a.gz"]),
        ("cache/", ["cache/a", "x/cache/b/c"], ["cache", "cached/a"]),
        ("**/tmp/**", ["a/tmp/b", "a/b/tmp/c/d"], ["tmp/b"]),
        ("f?.{txt,md}", ["f1.txt", "d/fa.md"], ["f12.txt", "f1.rst"]),
        ("[!a]*", ["b", "d/c"], ["a", "d/ab"]),
    ],
)
def test_filter_globs(pattern: str, yes: list[str], no: list[str], anyio_backend: str) -> None:
    keep = PathFilter(include=[pattern])
    assert [p for p in yes if keep(p)] == yes
    assert [p for p in no if keep(p)] == []


def test_excludes_win_over_includes(anyio_backend: str) -> None:
    keep = PathFilter(include=["*.txt"], exclude=["secret/"])
    assert keep("a.txt") and not keep("secret/a.txt") and not keep("a.bin")
    with pytest.raises(ValueError):
        PathFilter(include=["[abc"])
    with pytest.raises(TypeError):
        PathFilter(include="*.txt")


def test_mtime_carried_exactly(anyio_backend: str) -> None:
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert format_mtime(when) == "1714979289.123456"
    assert carried_mtime(Metadata(user_metadata={"mtime": format_mtime(when)})) == when
    assert carried_mtime(Metadata(user_metadata={"mtime": "1714979289"})) == when.replace(microsecond=0)
    assert carried_mtime(Metadata(user_metadata={"mtime": "not a time"})) is None


def test_quick_verdicts(anyio_backend: str) -> None:
    t = dt.datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)
    src = Metadata(content_length=3, last_modified=t, etag='"e1"')
    older_whole_second = Metadata(content_length=3, last_modified=t.replace(microsecond=0))
    older = Metadata(content_length=3, last_modified=t - dt.timedelta(microseconds=2001))
    carried = Metadata(content_length=3, last_modified=t - dt.timedelta(days=1),
                       user_metadata={"mtime": format_mtime(t)})
    assert quick_verdict("size_mtime", src, older_whole_second) is Verdict.SAME  # S3's whole seconds
    src_us = Metadata(content_length=3, last_modified=t.replace(microsecond=896868))
    in_ms = Metadata(content_length=3, last_modified=t.replace(microsecond=896000))  # rclone serve s3
    assert quick_verdict("size_mtime", src_us, in_ms) is Verdict.SAME
    before_ms = Metadata(content_length=3, last_modified=t.replace(microsecond=895000))
    assert quick_verdict("size_mtime", src_us, before_ms) is Verdict.DIFFER
    assert quick_verdict("size_mtime", src, older) is Verdict.DIFFER
    assert quick_verdict("size_mtime", src, carried) is Verdict.SAME
    assert quick_verdict("size_mtime", src, Metadata(content_length=4, last_modified=t)) is Verdict.DIFFER
    assert quick_verdict("size", src, older) is Verdict.SAME
    assert quick_verdict("checksum", src, older) is Verdict.NEED_CHECKSUM
    assert quick_verdict("etag", src, Metadata(content_length=3, etag="e1")) is Verdict.SAME
    assert quick_verdict("etag", src, Metadata(content_length=3, etag='"e2"')) is Verdict.DIFFER


def test_listed_md5(anyio_backend: str) -> None:
    s3 = Operator("s3", bucket="b", region="us-east-1", endpoint="http://127.0.0.1:9")
    memory = Operator("memory")
    md5 = "9e107d9d372bb6826bd81d3542a419d6"
    assert listed_md5(s3, Metadata(etag=f'"{md5}"')) == (md5, True)
    assert listed_md5(s3, Metadata(etag=f'"{md5}-3"')) == (None, False)  # multipart: not an MD5
    assert listed_md5(memory, Metadata(etag=f'"{md5}"')) == (None, False)
    gcs_style = Metadata(content_md5="nhB9nTcrtoJr2B01QqQZ1g==")
    assert listed_md5(memory, gcs_style) == (md5, False)


async def _items(keys: list[str]) -> AsyncIterator[tuple[str, Entry]]:
    for key in keys:
        yield key, Entry(key, Metadata())


async def test_merge_join_pairs_and_refuses_unsorted(anyio_backend: str) -> None:
    pairs = [
        (k, s is not None, d is not None)
        async for k, s, d in merge_join(_items(["a", "b", "d"]), _items(["b", "c", "d", "e"]))
    ]
    assert pairs == [("a", True, False), ("b", True, True), ("c", False, True), ("d", True, True),
                     ("e", False, True)]
    with pytest.raises(errors.Unexpected, match="not sorted"):
        async for _ in merge_join(_items(["b", "a"]), _items([])):
            pass


def test_journal_refuses_another_job_and_non_journals(tmp_path: Path, anyio_backend: str) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, {"src": "a", "dst": "b"}) as journal:
        meta = Metadata(content_length=1, etag="e", last_modified=dt.datetime(2024, 1, 1, tzinfo=UTC))
        journal.record_done("x", meta, Metadata(content_length=1, etag="d"))
    with Journal(path, {"src": "a", "dst": "b"}) as journal:
        assert journal.is_done("x", meta, Metadata(content_length=1, etag="d"))
        assert not journal.is_done("x", meta, Metadata(content_length=1, etag="other"))
        changed = Metadata(content_length=1, etag="e2", last_modified=meta.last_modified)
        assert not journal.is_done("x", changed, Metadata(content_length=1, etag="d"))
    with pytest.raises(errors.ConfigInvalid, match="another transfer"):
        Journal(path, {"src": "a", "dst": "c"})
    other = tmp_path / "not-a-journal"
    other.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(errors.ConfigInvalid, match="not a pystorage journal"):
        Journal(other, {"src": "a", "dst": "b"})
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("1",)


async def test_bandwidth_limits_the_rate(anyio_backend: str) -> None:
    limit = Bandwidth(1024 * 1024, burst=0.0)
    start = anyio.current_time()
    for _ in range(4):
        await limit(128 * 1024)
    assert anyio.current_time() - start >= 0.35  # 512 KiB at 1 MiB/s, the first piece free


async def test_same_operator_copies_server_side(anyio_backend: str) -> None:
    op = Operator("memory")
    await op.write("src/a", b"a")
    await op.write("src/d/b", b"bb")
    report = await sync(op, "src/", op, "dst/")
    assert (report.copied, report.server_side, report.bytes) == (2, 2, 3)
    assert await op.read("dst/d/b") == b"bb"
    with pytest.raises(errors.ConfigInvalid, match="overlap"):
        await sync(op, "src/", op, "src/inner/")
    streamed = await copy_tree(op, "src/", op, "other/", server_side=False)
    assert (streamed.copied, streamed.server_side) == (2, 0)


class _FailReads(Layer):
    """Reads of paths containing ``broken`` fail persistently."""

    def layer(self, inner: Accessor) -> Accessor:
        return _FailReadsAccessor(inner)


class _FailReadsAccessor(LayeredAccessor):
    async def read(self, path: str, op: OpRead) -> RawReader:
        if "broken" in path:
            raise errors.PermissionDenied("injected", operation="read", path=path)
        return await super().read(path, op)


async def test_a_failed_object_is_counted_and_blocks_deletes(tmp_path: Path, anyio_backend: str) -> None:
    plain = Operator("fs", root=str(tmp_path / "src"))
    dst = Operator("fs", root=str(tmp_path / "dst"))
    await plain.write("ok.txt", b"ok")
    await plain.write("broken.txt", b"unreadable")
    await dst.write("extra.txt", b"extra")
    src = plain.layer(_FailReads())
    events: list[str] = []
    report = await sync(src, "", dst, "", delete=True, on_event=lambda e: events.append(e.action))
    assert (report.copied, report.failed, report.deleted, report.ok) == (1, 1, 0, False)
    assert report.errors[0].path == "broken.txt" and "PermissionDenied" in report.errors[0].error
    assert sorted(events) == ["copy", "fail"]
    assert await dst.exists("extra.txt")  # a run with failures deletes nothing
    found = await check(src, "", dst, "")
    assert (found.missing_on_dst, found.missing_on_src) == (["broken.txt"], ["extra.txt"])
    await dst.write("broken.txt", b"unreadable")
    found = await check(src, "", dst, "", compare="checksum")
    assert found.failed[0].path == "broken.txt" and not found.ok


async def test_many_objects_through_a_small_window(anyio_backend: str) -> None:
    src, dst = Operator("memory"), Operator("memory")
    for i in range(600):
        await src.write(f"d{i % 7}/f{i:04d}", b"x" * (i % 5))
    report = await sync(src, "", dst, "", window=4, jobs=3)
    assert report.copied == 600
    found = await check(src, "", dst, "", window=4)
    assert found.ok and found.matched == 600
    with pytest.raises(errors.ConfigInvalid, match="compare"):
        await sync(src, "", dst, "", compare="md5")


class _S3Lookalike(Layer):
    """Makes a memory operator look like S3: scheme ``s3``, whose listed ETags of 32
    hex digits are taken for MD5s (memory's are); with ``bogus``, ETags that are not
    the MD5s (as under SSE-C). Counts reads."""

    def __init__(self, *, bogus: bool) -> None:
        self.bogus = bogus
        self.reads = 0

    def layer(self, inner: Accessor) -> Accessor:
        return _S3LookalikeAccessor(inner, self)


class _S3LookalikeAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, config: _S3Lookalike) -> None:
        super().__init__(inner)
        self.config = config

    def info(self) -> AccessorInfo:
        inner = self.inner.info()
        return AccessorInfo("s3", inner.root, inner.name, inner.capability)

    async def read(self, path: str, op: OpRead) -> RawReader:
        self.config.reads += 1
        return await super().read(path, op)

    async def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        async for entry in self.inner.list(path, op):
            if self.config.bogus:
                entry = Entry(entry.path, dataclasses.replace(entry.metadata, etag='"' + "0" * 32 + '"'))
            yield entry


async def test_an_etag_that_is_not_the_md5_is_confirmed_by_hashing(anyio_backend: str) -> None:
    src = Operator("memory")
    dst = Operator("memory").layer(_S3Lookalike(bogus=True))
    await src.write("same", b"identical bytes")
    await dst.write("same", b"identical bytes")
    await src.write("other", b"0123456789")
    await dst.write("other", b"9876543210")
    found = await check(src, "", dst, "", compare="checksum")
    assert (found.matched, found.differ) == (1, ["other"])  # the bogus ETag alone decides nothing
    report = await sync(src, "", dst, "", compare="checksum")
    assert (report.copied, report.skipped) == (1, 1)
    assert await dst.read("other") == b"0123456789"


async def test_a_reported_md5_is_used_without_reading(anyio_backend: str) -> None:
    src, lookalike = Operator("memory"), _S3Lookalike(bogus=False)
    dst = Operator("memory").layer(lookalike)
    for i in range(5):
        await src.write(f"f{i}", bytes([i]) * 100)
        await dst.write(f"f{i}", bytes([i]) * 100)
    found = await check(src, "", dst, "", compare="checksum")
    assert found.ok and found.matched == 5
    assert lookalike.reads == 0  # the destination's ETags were its MD5s: nothing downloaded
