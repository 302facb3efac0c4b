"""The fs driver's metadata: etag and mtime derived when first read, otherwise a plain Metadata."""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
from pathlib import Path

from pystorage.services.fs.metadata import StatMetadata, etag_of, metadata_from_stat, modified_at
from pystorage.types import EntryMode, Metadata


def _plain(st: os.stat_result) -> Metadata:
    return Metadata(
        mode=EntryMode.FILE,
        content_length=st.st_size,
        etag=etag_of(st),
        last_modified=modified_at(st.st_mtime_ns),
    )


def test_a_file_reads_like_the_eager_metadata(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"12345")
    st = os.stat(tmp_path / "f")
    meta = metadata_from_stat(st)
    assert isinstance(meta, StatMetadata) and isinstance(meta, Metadata)
    assert meta == _plain(st) and _plain(st) == meta and not meta != _plain(st)
    assert repr(meta) == repr(_plain(st))
    assert dataclasses.asdict(meta) == dataclasses.asdict(_plain(st))
    assert meta.etag == etag_of(st) and meta.last_modified == modified_at(st.st_mtime_ns)


def test_a_directory_has_no_etag(tmp_path: Path) -> None:
    meta = metadata_from_stat(os.stat(tmp_path))
    assert meta.is_dir and meta.content_length == 0 and meta.etag is None
    assert meta.last_modified == modified_at(os.stat(tmp_path).st_mtime_ns)


def test_assigned_fields_win_and_copies_keep_every_field(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    st = os.stat(tmp_path / "f")
    meta = metadata_from_stat(st)
    meta.etag = '"mine"'
    assert meta.etag == '"mine"' and meta.last_modified == modified_at(st.st_mtime_ns)
    for other in (pickle.loads(pickle.dumps(metadata_from_stat(st))), copy.copy(metadata_from_stat(st))):
        assert other == _plain(st)
    replaced = dataclasses.replace(metadata_from_stat(st), content_type="text/plain")
    assert replaced.content_type == "text/plain" and replaced.etag == etag_of(st)


def test_a_different_field_compares_unequal(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    st = os.stat(tmp_path / "f")
    assert metadata_from_stat(st) != dataclasses.replace(_plain(st), etag='"other"')
    assert metadata_from_stat(st) != "not metadata"
