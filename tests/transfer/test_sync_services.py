"""``sync`` and ``check`` between real services: fs → s3 (moto), s3 (rclone) →
gcs, gcs → fs, memory → fs, with nested directories, empty files, unicode
names and a three-part object; changes, additions, deletions, ``delete``,
``dry_run`` and ``compare="checksum"``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pystorage import errors
from pystorage.raw.accessor import Accessor, Buffer
from pystorage.raw.layer import Layer, LayeredAccessor
from pystorage.raw.ops import OpWrite
from pystorage.transfer import check, sync
from pystorage.transfer.compare import carried_mtime
from pystorage.types import Part

from .conftest import MakeOperator
from .helpers import PART, digests, pending_uploads, put_tree, read_tree, tree

pytestmark = pytest.mark.anyio

PAIRS = [("fs", "s3-moto"), ("s3-rclone", "gcs"), ("gcs", "fs"), ("memory", "fs")]


@pytest.mark.parametrize(("src_kind", "dst_kind"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
async def test_sync_check_change_delete_dry_run_checksum(
    make_operator: MakeOperator, tmp_path: Path, src_kind: str, dst_kind: str
) -> None:
    src, dst = make_operator(src_kind), make_operator(dst_kind)
    journal = tmp_path / "sync.journal"
    files = tree()
    async with src, dst:
        await put_tree(src, files, "data/")

        # first sync: everything is copied, through the journal (resumable multipart where the
        # destination has it), and the trees are equal
        how: dict[str, str | None] = {}
        report = await sync(src, "data/", dst, "mirror/", chunk=PART, journal=journal,
                            on_event=lambda e: how.__setitem__(e.path, e.how))
        assert report.ok, report.errors
        assert (report.copied, report.skipped, report.deleted) == (len(files), 0, 0)
        assert how["big/multipart.bin"] == ("multipart" if dst.capability().multipart else "stream")
        assert report.bytes == sum(len(d) for d in files.values())
        assert await read_tree(dst, "mirror/") == digests(files)
        assert (await check(src, "data/", dst, "mirror/")).ok
        assert (await check(src, "data/", dst, "mirror/", compare="checksum")).ok
        assert await pending_uploads(dst) == []

        # nothing changed: nothing is copied
        again = await sync(src, "data/", dst, "mirror/", chunk=PART, journal=journal)
        assert (again.copied, again.skipped, again.bytes) == (0, len(files), 0)

        # change one (new size), add one, delete one at the source
        await src.write("data/a/b/c/deep.txt", b"changed and longer " * 10)
        await src.write("data/new/added.txt", b"added")
        await src.delete("data/top.txt")
        expected = {**files, "a/b/c/deep.txt": b"changed and longer " * 10, "new/added.txt": b"added"}
        del expected["top.txt"]
        report = await sync(src, "data/", dst, "mirror/", chunk=PART, journal=journal)
        assert (report.copied, report.deleted, report.failed) == (2, 0, 0)
        found = await check(src, "data/", dst, "mirror/")
        assert (found.missing_on_src, found.missing_on_dst, found.differ) == (["top.txt"], [], [])

        # a dry run of the mirror reports the delete and changes nothing
        events: list[str] = []
        dry = await sync(src, "data/", dst, "mirror/", delete=True, dry_run=True,
                         on_event=lambda e: events.append(f"{e.action}:{e.path}"))
        assert (dry.deleted, dry.copied, dry.dry_run) == (1, 0, True)
        assert "delete:top.txt" in events
        assert await dst.exists("mirror/top.txt")

        # the mirror: the destination holds exactly the source
        report = await sync(src, "data/", dst, "mirror/", delete=True, chunk=PART, journal=journal)
        assert (report.deleted, report.copied, report.failed) == (1, 0, 0)
        assert await read_tree(dst, "mirror/") == digests(expected)
        assert (await check(src, "data/", dst, "mirror/", compare="checksum")).ok

        # same size, destination newer: size_mtime cannot tell, checksum does
        original = expected["ünïcødé/naïve ☃ file.txt"]
        tampered = bytes(reversed(original))
        assert len(tampered) == len(original) and tampered != original
        await dst.write("mirror/ünïcødé/naïve ☃ file.txt", tampered)
        assert (await sync(src, "data/", dst, "mirror/")).copied == 0
        assert (await check(src, "data/", dst, "mirror/")).ok
        found = await check(src, "data/", dst, "mirror/", compare="checksum")
        assert found.differ == ["ünïcødé/naïve ☃ file.txt"]
        fixed = await sync(src, "data/", dst, "mirror/", compare="checksum", journal=journal)
        assert (fixed.copied, fixed.skipped) == (1, len(expected) - 1)
        assert await dst.read("mirror/ünïcødé/naïve ☃ file.txt") == original
        assert (await check(src, "data/", dst, "mirror/", compare="checksum")).ok
        assert await pending_uploads(dst) == []


async def test_fs_source_same_size_same_mtime_change_needs_checksum(make_operator: MakeOperator) -> None:
    src, dst = make_operator("fs"), make_operator("fs")
    async with src, dst:
        await src.write("f.bin", b"0123456789")
        assert (await sync(src, "", dst, "")).copied == 1
        root = Path(src.info.root)
        before = os.stat(root / "f.bin")
        (root / "f.bin").write_bytes(b"9876543210")
        os.utime(root / "f.bin", ns=(before.st_atime_ns, before.st_mtime_ns))
        assert (await sync(src, "", dst, "")).copied == 0  # size and mtime as before
        assert (await check(src, "", dst, "", compare="checksum")).differ == ["f.bin"]
        assert (await sync(src, "", dst, "", compare="checksum")).copied == 1
        assert await dst.read("f.bin") == b"9876543210"


@pytest.mark.parametrize("dst_kind", ["s3-moto", "s3-rclone", "gcs", "memory", "fs"])
async def test_a_second_sync_from_fs_copies_nothing(make_operator: MakeOperator, dst_kind: str) -> None:
    # each destination lists times at its own precision (S3 seconds, rclone milliseconds, GCS the
    # carried mtime): none may make an unchanged tree look changed
    src, dst = make_operator("fs"), make_operator(dst_kind)
    async with src, dst:
        await put_tree(src, {f"d{i % 3}/f{i}": bytes([i]) * (i * 100) for i in range(12)})
        first = await sync(src, "", dst, "")
        assert (first.copied, first.failed) == (12, 0), first.errors
        listed = {e.path: e.metadata async for e in dst.list("/", recursive=True)}
        again = await sync(src, "", dst, "")
        assert (again.copied, again.skipped) == (0, 12), (again, listed)


class _FailPart(Layer):
    """Uploading part 2 of any upload fails persistently."""

    def layer(self, inner: Accessor) -> Accessor:
        return _FailPartAccessor(inner)


class _FailPartAccessor(LayeredAccessor):
    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        if number == 2:
            raise errors.PermissionDenied("injected", operation="write_part", path=path)
        return await super().write_part(path, upload_id, number, data, op)


async def test_multipart_without_journal_is_aborted_on_failure(make_operator: MakeOperator) -> None:
    src, plain = make_operator("fs"), make_operator("s3-moto")
    async with src, plain:
        await src.write("big.bin", os.urandom(2 * PART + 7))
        how: list[str | None] = []
        report = await sync(src, "", plain, "", chunk=PART, on_event=lambda e: how.append(e.how))
        assert (report.copied, how) == (1, ["multipart"])  # parallel ranged reads, native parts
        failing = plain.layer(_FailPart())
        await src.write("big.bin", os.urandom(2 * PART + 8))
        report = await sync(src, "", failing, "", chunk=PART)
        assert (report.copied, report.failed) == (0, 1)
        assert "PermissionDenied" in report.errors[0].error
        assert await pending_uploads(plain) == []  # aborted: nobody could resume it


@pytest.mark.parametrize("dst_kind", ["s3-moto", "gcs", "memory"])
async def test_metadata_is_carried(make_operator: MakeOperator, dst_kind: str) -> None:
    src, dst = make_operator("s3-rclone"), make_operator(dst_kind)
    async with src, dst:
        await src.write("small.json", b"{}", content_type="application/json", cache_control="max-age=60",
                        user_metadata={"owner": "ops"})
        await src.write("big.bin", os.urandom(PART + 3), content_type="application/x-big",
                        user_metadata={"owner": "data"})
        listed = {e.path: e.metadata async for e in src.list("/", recursive=True)}
        assert (await sync(src, "", dst, "", chunk=PART)).copied == 2
        for path, content_type, owner in (("small.json", "application/json", "ops"),
                                          ("big.bin", "application/x-big", "data")):
            meta = await dst.stat(path)
            assert meta.content_type == content_type
            assert meta.user_metadata is not None and meta.user_metadata["owner"] == owner
            assert carried_mtime(meta) == listed[path].last_modified  # the source's time, exactly
        assert (await dst.stat("small.json")).cache_control == "max-age=60"
