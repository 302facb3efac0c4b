"""Config and construction of the fs driver."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pystorage import errors
from pystorage.raw.ops import OpWrite
from pystorage.services import fs as fs_service
from pystorage.services import service_module
from pystorage.services.fs import CAPABILITY, build


def test_registry_finds_the_module() -> None:
    module = service_module("fs")
    assert module is fs_service
    assert module.SCHEME == "fs"
    assert module.URI_NAME_KEY is None


def test_root_is_required() -> None:
    with pytest.raises(errors.ConfigInvalid, match="'root'") as info:
        build({})
    assert info.value.service == "fs"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigInvalid, match="'fsync_everything'"):
        build({"root": str(tmp_path), "fsync_everything": True})


def test_missing_root_is_created(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    acc = build({"root": str(root)})
    assert root.is_dir()
    assert acc.info().root == str(root) + "/"


def test_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(errors.ConfigInvalid, match="'root'"):
        build({"root": str(tmp_path / "file")})


def test_relative_root_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    acc = build({"root": "data/../data2"})
    assert acc.info().root == str(tmp_path / "data2") + "/"
    assert (tmp_path / "data2").is_dir()


def test_info(tmp_path: Path) -> None:
    info = build({"root": str(tmp_path) + "//"}).info()
    assert info.scheme == "fs"
    assert info.root == str(tmp_path) + "/"
    assert info.name == info.root
    assert info.capability is CAPABILITY


def test_capability_declares_exactly_what_fs_does() -> None:
    declared = {name for name, value in CAPABILITY.as_dict().items() if value is True}
    assert declared == {
        "stat", "read", "read_with_if_match", "write", "write_can_empty", "write_can_append",
        "write_with_if_not_exists", "create_dir", "delete", "copy", "rename", "list",
        "list_with_limit", "list_with_start_after", "list_with_recursive", "blocking",
    }
    assert CAPABILITY.write_multi_min_size is None
    assert CAPABILITY.delete_max_size is None


def test_repr_names_the_root(tmp_path: Path) -> None:
    assert str(tmp_path) in repr(build({"root": str(tmp_path)}))


@pytest.mark.anyio
async def test_atomic_write_dir_holds_the_temp_files(tmp_path: Path) -> None:
    root, staging = tmp_path / "root", tmp_path / "staging"
    acc = build({"root": str(root), "atomic_write_dir": str(staging)})
    assert staging.is_dir()
    writer = await acc.write("d/f", OpWrite())
    await writer.write(b"abc")
    staged = [p.name for p in staging.iterdir()]
    assert len(staged) == 1 and staged[0].startswith(".f.") and staged[0].endswith(".pystorage-tmp")
    assert not (root / "d" / "f").exists()
    meta = await writer.close()
    assert meta.content_length == 3
    assert (root / "d" / "f").read_bytes() == b"abc"
    assert list(staging.iterdir()) == []


def test_atomic_write_dir_on_another_device_is_refused(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system at hand")
    staging = shm / f"pystorage-test-{os.getpid()}"
    try:
        with pytest.raises(errors.ConfigInvalid, match="atomic_write_dir"):
            build({"root": str(tmp_path), "atomic_write_dir": str(staging)})
    finally:
        if staging.exists():
            staging.rmdir()
