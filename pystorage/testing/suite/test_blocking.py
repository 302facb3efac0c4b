"""``Operator.blocking()``: the same operations, synchronous, from plain sync code (no event loop)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from pystorage import Entry, Metadata, errors


def test_blocking_methods_are_sync(blocking_op: Any) -> None:
    for name in ("read", "write", "stat", "exists", "delete", "list", "delete_many", "remove_all"):
        method = getattr(blocking_op, name)
        assert not inspect.iscoroutinefunction(method), name
        assert not inspect.isasyncgenfunction(method), name


def test_blocking_write_read_stat(blocking_op: Any) -> None:
    meta = blocking_op.write("dir/file", b"hello blocking")
    assert isinstance(meta, Metadata)
    assert meta.content_length == 14
    assert blocking_op.read("dir/file") == b"hello blocking"
    assert blocking_op.read("dir/file", offset=6, size=5) == b"block"
    stat = blocking_op.stat("dir/file")
    assert stat.content_length == 14 and stat.is_file
    assert blocking_op.exists("dir/file") is True


def test_blocking_write_iterable(blocking_op: Any) -> None:
    blocking_op.write("file", [b"a", b"b", b"c"])
    assert blocking_op.read("file") == b"abc"


def test_blocking_list(blocking_op: Any) -> None:
    for path in ("dir/a", "dir/b", "dir/sub/c"):
        blocking_op.write(path, b"x")
    entries = list(blocking_op.list("dir/"))
    assert all(isinstance(e, Entry) for e in entries)
    assert {e.path for e in entries} == {"dir/a", "dir/b", "dir/sub/"}


def test_blocking_delete(blocking_op: Any) -> None:
    blocking_op.write("a", b"x")
    blocking_op.write("b", b"x")
    blocking_op.write("c/d", b"x")
    blocking_op.delete("a")
    blocking_op.delete("missing")
    assert blocking_op.exists("a") is False
    blocking_op.delete_many(["b"])
    blocking_op.remove_all("c/")
    assert list(blocking_op.list("/")) == []


def test_blocking_errors(blocking_op: Any) -> None:
    with pytest.raises(errors.NotFound):
        blocking_op.read("missing")
    with pytest.raises(errors.InvalidPath):
        blocking_op.read("../x")
    with pytest.raises(errors.RangeNotSatisfied):
        blocking_op.write("f", b"abc")
        blocking_op.read("f", offset=4)


def test_blocking_capability_and_info(blocking_op: Any) -> None:
    assert blocking_op.capability().read is True
    assert blocking_op.info.scheme
