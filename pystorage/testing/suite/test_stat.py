"""``stat`` and ``exists``."""

from __future__ import annotations

import datetime as dt

import pytest

from pystorage import EntryMode, Metadata, Operator, errors

from .helpers import Options, conditional_options, lacking, need, payload, per_option, stat_missing, utcnow

pytestmark = pytest.mark.anyio


async def test_stat_file(op: Operator) -> None:
    before = utcnow()
    await op.write("file", payload(1234))
    after = utcnow()
    meta = await op.stat("file")
    assert isinstance(meta, Metadata)
    assert meta.mode is EntryMode.FILE
    assert meta.is_file and not meta.is_dir
    assert meta.content_length == 1234
    lm = meta.last_modified
    assert lm is not None
    assert lm.tzinfo is not None and lm.utcoffset() == dt.timedelta(0)
    slack = dt.timedelta(minutes=5)
    assert before - slack <= lm <= after + slack


async def test_stat_etag_when_reported(op: Operator) -> None:
    written = await op.write("file", b"abc")
    meta = await op.stat("file")
    if meta.etag is None:
        pytest.skip("service reports no etag")
    assert isinstance(meta.etag, str) and meta.etag
    if written.etag is not None:
        assert written.etag == meta.etag


async def test_etag_changes_with_content(op: Operator) -> None:
    await op.write("file", b"one")
    first = (await op.stat("file")).etag
    if first is None:
        pytest.skip("service reports no etag")
    await op.write("file", b"second content")
    assert (await op.stat("file")).etag != first


async def test_write_result_last_modified_aware(op: Operator) -> None:
    meta = await op.write("file", b"abc")
    assert meta.content_length == 3
    if meta.last_modified is not None:
        assert meta.last_modified.utcoffset() == dt.timedelta(0)


async def test_stat_dir_with_children(op: Operator) -> None:
    await op.write("dir/file", b"x")
    meta = await op.stat("dir/")
    assert meta.is_dir and not meta.is_file
    assert meta.mode is EntryMode.DIR


async def test_stat_created_dir(op: Operator) -> None:
    need(op, "create_dir")
    await op.create_dir("empty/")
    assert (await op.stat("empty/")).is_dir


async def test_stat_root_is_dir(op: Operator) -> None:
    assert (await op.stat("/")).is_dir


async def test_stat_missing(op: Operator) -> None:
    assert (await stat_missing(op, "missing")).path == "missing"


async def test_stat_missing_dir(op: Operator) -> None:
    with pytest.raises(errors.NotFound):
        await op.stat("missing-dir/")


async def test_stat_result_is_a_copy(op: Operator) -> None:
    await op.write("file", b"abc")
    meta = await op.stat("file")
    meta.content_length = 999
    assert (await op.stat("file")).content_length == 3


async def test_exists(op: Operator) -> None:
    assert await op.exists("file") is False
    await op.write("file", b"x")
    assert await op.exists("file") is True
    await op.delete("file")
    assert await op.exists("file") is False


async def test_exists_dir(op: Operator) -> None:
    assert await op.exists("dir/") is False
    await op.write("dir/file", b"x")
    assert await op.exists("dir/") is True


async def test_exists_created_dir(op: Operator) -> None:
    need(op, "create_dir")
    await op.create_dir("made/")
    assert await op.exists("made/") is True


@per_option(conditional_options("stat"))
async def test_stat_option_unsupported(op: Operator, capability: str, options: Options) -> None:
    lacking(op, capability)
    await op.write("file", b"x")
    with pytest.raises(errors.Unsupported):
        await op.stat("file", **options)


async def test_stat_version(op: Operator) -> None:
    need(op, "stat_with_version")
    first = await op.write("file", b"first version")
    await op.write("file", b"2nd")
    assert first.version is not None
    meta = await op.stat("file", version=first.version)
    assert meta.content_length == len(b"first version")
    assert meta.version == first.version
