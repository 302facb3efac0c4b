"""The drivers' fast constructors build the same objects as the public ones."""

from __future__ import annotations

import dataclasses

import pytest

from pystorage._operator_base import quick_normalize
from pystorage.raw.path import normalize_path
from pystorage.types import Entry, EntryMode, Metadata, new_entry, new_metadata


def test_new_metadata_sets_every_field() -> None:
    meta = new_metadata(EntryMode.FILE, 3, '"e"', None)
    for field in dataclasses.fields(Metadata):
        getattr(meta, field.name)  # an unset slot raises AttributeError
    assert meta == Metadata(mode=EntryMode.FILE, content_length=3, etag='"e"')


def test_new_metadata_takes_every_field() -> None:
    values = {field.name: f"v-{field.name}" for field in dataclasses.fields(Metadata)}
    assert set(values) == set(new_metadata.__code__.co_varnames[: new_metadata.__code__.co_argcount])
    meta = new_metadata(**values)  # type: ignore[arg-type]
    for field in dataclasses.fields(Metadata):
        assert getattr(meta, field.name) == values[field.name]
    assert meta == Metadata(**values)  # type: ignore[arg-type]


def test_new_entry_equals_and_stays_frozen() -> None:
    meta = new_metadata(EntryMode.DIR, 0)
    entry = new_entry("a/", meta)
    assert entry == Entry("a/", meta)
    assert hash(new_entry("a", None)) == hash(Entry("a", None))  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.path = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    "path",
    ["a", "a/b", "a/b/", "/a", "a//b", "./a", "a/./b", "a/.", ".hidden", "a/.x", "", "/", "f.txt", "a/b.c/"],
)
def test_quick_normalize_agrees(path: str) -> None:
    assert quick_normalize(path) == normalize_path(path)
