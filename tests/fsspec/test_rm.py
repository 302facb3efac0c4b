"""A recursive ``rm`` on object stores deletes files and the marker objects
that exist, never the directories their keys only imply: on ``rclone serve
s3`` deleting ``dir/`` is an rmdir, which answers 500 "directory not empty"
while rclone is still removing the emptied directories below it (a CI flake of
the abstract suites' teardown)."""

from __future__ import annotations

from typing import Any

import fsspec.asyn
import pytest

from pystorage import Operator, errors
from pystorage.fsspec import PyStorageFileSystem
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

from ..conftest import make_random_root
from .conftest import OBJECT_STORES, MakeOperator


@pytest.fixture(params=OBJECT_STORES)
def store(
    request: pytest.FixtureRequest, make_operator: MakeOperator, monkeypatch: pytest.MonkeyPatch
) -> tuple[PyStorageFileSystem, list[str]]:
    """``(filesystem, paths deleted through it)`` on each object store (a spy on the Operator:
    ``rclone serve s3`` checks signatures, so the recording proxy cannot stand in front of it)."""
    deleted: list[str] = []
    delete, delete_many = Operator.delete, Operator.delete_many

    async def spy_delete(self: Operator, path: str, **kwargs: Any) -> None:
        deleted.append(path)
        await delete(self, path, **kwargs)

    async def spy_delete_many(self: Operator, paths: Any, **kwargs: Any) -> Any:
        paths = list(paths)
        deleted.extend(paths)
        return await delete_many(self, paths, **kwargs)

    monkeypatch.setattr(Operator, "delete", spy_delete)
    monkeypatch.setattr(Operator, "delete_many", spy_delete_many)
    return PyStorageFileSystem(make_operator(request.param)), deleted


def test_recursive_rm_deletes_no_implied_directory(store: tuple[PyStorageFileSystem, list[str]]) -> None:
    fs, deleted = store
    fs.pipe({"t/a/1": b"1", "t/a/b/2": b"2", "t/a/b/c/3": b"3", "t/4": b"4", "keep/5": b"5"})
    fs.rm("t", recursive=True)
    assert sorted(deleted) == ["t/4", "t/a/1", "t/a/b/2", "t/a/b/c/3"]
    assert not fs.exists("t")
    assert fs.find("") == ["keep/5"]


def test_recursive_rm_with_maxdepth_keeps_deeper_files(store: tuple[PyStorageFileSystem, list[str]]) -> None:
    fs, deleted = store
    fs.pipe({"t/1": b"1", "t/a/2": b"2", "t/a/b/3": b"3"})
    fs.rm("t", recursive=True, maxdepth=2)
    assert sorted(deleted) == ["t/1", "t/a/2"]
    assert fs.find("t") == ["t/a/b/3"]


def test_recursive_rm_deletes_the_markers_that_exist(
    s3_proxy: tuple[S3Proxy, S3Server],
) -> None:
    """Markers (``dir/`` objects) are deleted, the base's own included, and only they:
    seen on the wire, on moto (rclone cannot keep markers: create_dir is off there)."""
    proxy, server = s3_proxy
    root = make_random_root("fsspec-rm")
    op = Operator("s3", **server.config(root))
    fs = PyStorageFileSystem(op)
    for marker in ("t/", "t/m/", "t/m/empty/"):
        _create_dir(fs, marker)
    fs.pipe({"t/m/1": b"1", "t/implied/2": b"2"})
    proxy.clear()
    fs.rm("t", recursive=True)
    markers = sorted(f"{root}{m}" for m in ("t/", "t/m/", "t/m/empty/"))
    assert sorted(r.key for r in proxy.recorded("DELETE")) == markers
    assert not fs.exists("t")
    assert fs.find("") == []


def _create_dir(fs: PyStorageFileSystem, path: str) -> None:
    fsspec.asyn.sync(fs.loop, fs.operator.create_dir, path)


@pytest.mark.parametrize("left_behind", [False, True])
def test_a_refused_marker_delete_counts_only_when_nothing_is_left(
    s3_proxy: tuple[S3Proxy, S3Server], monkeypatch: pytest.MonkeyPatch, left_behind: bool
) -> None:
    """``rclone serve s3`` refuses the rmdir of a folder holding its own hidden temp files
    (500): a refused marker delete whose prefix lists nothing is done; one whose prefix
    still lists an object is the error it was."""
    _, server = s3_proxy
    fs = PyStorageFileSystem(Operator("s3", **server.config(make_random_root("fsspec-rm"))))
    _create_dir(fs, "t/m/")
    fs.pipe({"t/m/1": b"1", "t/2": b"2"})
    delete, delete_many = Operator.delete, Operator.delete_many

    async def refusing_delete(self: Operator, path: str, **kwargs: Any) -> None:
        await delete(self, path, **kwargs)  # the marker goes; the server still answers 500
        if path == "t/m/":
            raise errors.Unexpected("Dir.Remove not empty", operation="delete", path=path, service="s3")

    async def keeping_delete_many(self: Operator, paths: Any, **kwargs: Any) -> Any:
        return await delete_many(self, [p for p in paths if not (left_behind and p == "t/m/1")], **kwargs)

    monkeypatch.setattr(Operator, "delete", refusing_delete)
    monkeypatch.setattr(Operator, "delete_many", keeping_delete_many)
    if left_behind:
        with pytest.raises(errors.Unexpected, match=r"Dir\.Remove not empty"):
            fs.rm("t", recursive=True)
        assert fs.find("t") == ["t/m/1"]
    else:
        fs.rm("t", recursive=True)
        assert fs.find("") == []
