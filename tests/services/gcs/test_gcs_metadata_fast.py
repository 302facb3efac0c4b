"""The gcs driver's fast metadata and listing paths build what the plain code builds."""

from __future__ import annotations

import datetime as dt

from multidict import CIMultiDict, CIMultiDictProxy

from pystorage.services.gcs.config import GcsConfig
from pystorage.services.gcs.core import GcsCore, _has_body
from pystorage.services.gcs.lister import _page_entries
from pystorage.services.gcs.metadata import metadata_from_headers, metadata_from_resource
from pystorage.types import EncryptionInfo, Entry, EntryMode, Metadata

_UTC = dt.timezone.utc


def test_resource_metadata_reads_every_field() -> None:
    resource = {
        "name": "a/b",
        "size": "12",
        "contentType": "text/plain",
        "md5Hash": "bWQ1",
        "etag": "CJ2x",
        "updated": "2026-12-02T15:07:36.961191Z",
        "generation": "1796224056979414",
        "cacheControl": "no-cache",
        "contentDisposition": "inline",
        "contentEncoding": "gzip",
        "metadata": {"k": "v"},
        "kmsKeyName": "projects/p/keys/k",
    }
    assert metadata_from_resource(resource) == Metadata(
        mode=EntryMode.FILE,
        content_length=12,
        content_type="text/plain",
        content_md5="bWQ1",
        etag="CJ2x",
        last_modified=dt.datetime(2026, 12, 2, 15, 7, 36, 961191, tzinfo=_UTC),
        version="1796224056979414",
        cache_control="no-cache",
        content_disposition="inline",
        content_encoding="gzip",
        user_metadata={"k": "v"},
        encryption=EncryptionInfo("CMEK", kms_key_id="projects/p/keys/k"),
    )


def _headers(**extra: str) -> CIMultiDictProxy[str]:
    base = {
        "Content-Length": "65536",
        "Content-Range": "bytes 100-65635/1048576",
        "Content-Type": "application/octet-stream",
        "Etag": '"aVBp"',
        "Last-Modified": "Wed, 02 Dec 2026 15:07:36 GMT",
        "X-Goog-Generation": "17",
        "X-Goog-Stored-Content-Encoding": "identity",
    }
    return CIMultiDictProxy(CIMultiDict({**base, **extra}))


def test_header_metadata_with_and_without_a_known_total() -> None:
    headers = _headers(**{"X-Goog-Meta-Color": "blue", "x-goog-meta-n": "1"})
    meta = metadata_from_headers(headers)
    assert meta == Metadata(
        content_length=1048576,
        content_type="application/octet-stream",
        etag="aVBp",
        last_modified=dt.datetime(2026, 12, 2, 15, 7, 36, tzinfo=_UTC),
        version="17",
        user_metadata={"Color": "blue", "n": "1"},
    )
    assert metadata_from_headers(headers, total=1048576) == meta
    assert metadata_from_headers(_headers()).user_metadata is None


def test_header_dates_are_parsed_per_value() -> None:
    first = metadata_from_headers(_headers())
    second = metadata_from_headers(_headers(**{"Last-Modified": "Thu, 03 Dec 2026 01:02:03 GMT"}))
    assert first.last_modified == dt.datetime(2026, 12, 2, 15, 7, 36, tzinfo=_UTC)
    assert second.last_modified == dt.datetime(2026, 12, 3, 1, 2, 3, tzinfo=_UTC)
    assert metadata_from_headers(_headers(**{"Last-Modified": ""})).last_modified is None


def test_blank_bodies() -> None:
    assert [_has_body(b) for b in (b"", b" \r\n\t\x0b\x0c", b"{}", b" {}")] == [False, False, True, True]


def test_page_entries_merge_hide_and_flag_directories() -> None:
    core = GcsCore(GcsConfig(bucket="b", root="/r/", endpoint="http://127.0.0.1:1"))
    items = [
        {"name": "r/d/", "size": "0"},  # the listed directory's marker: dropped
        {"name": "r/d/a", "size": "1"},
        {"name": "r/d/c", "size": "2"},
        {"name": "r/d/.pystorage-multipart/x", "size": "3"},
    ]
    page = {"items": items, "prefixes": ["r/d/b/", "r/d/.pystorage-multipart/"]}
    entries, dirs = _page_entries(core, page, "r/d/", None)
    assert [e.path for e in entries] == ["d/a", "d/b/", "d/c"]
    assert dirs
    assert all(isinstance(e, Entry) for e in entries)
    assert entries[1].metadata == Metadata(mode=EntryMode.DIR)
    files, dirs = _page_entries(core, {"items": items[1:3]}, "r/d/", "r/d/a")
    assert [e.path for e in files] == ["d/c"] and not dirs
