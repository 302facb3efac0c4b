"""Root confinement: symlinks never lead outside the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from pystorage import errors
from pystorage.raw.ops import OpCopy, OpCreateDir, OpDelete, OpRead, OpRename, OpStat, OpWrite
from pystorage.services.fs import build

pytestmark = pytest.mark.anyio


def names(directory: Path) -> list[str]:
    """What is in ``directory``."""
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def escapes(root: Path, outside: Path) -> Path:
    """``root/out`` -> the outside dir, ``root/secret`` -> the outside file."""
    (root / "out").symlink_to(outside)
    (root / "secret").symlink_to(outside / "secret")
    return outside


async def test_reads_through_an_escaping_symlink_are_refused(fs, escapes: Path) -> None:
    for path in ("secret", "out/secret"):
        with pytest.raises(errors.PermissionDenied) as info:
            await fs.acc.read(path, OpRead())
        assert (info.value.operation, info.value.path, info.value.service) == ("read", path, "fs")
        assert "outside the root" in info.value.message
        with pytest.raises(errors.PermissionDenied):
            await fs.acc.stat(path, OpStat())


async def test_writes_through_an_escaping_symlink_are_refused(fs, escapes: Path, temps) -> None:
    for path in ("out/new", "out/deeper/new", "secret"):
        with pytest.raises(errors.PermissionDenied):
            await fs.put(path, b"pwned")
        with pytest.raises(errors.PermissionDenied):
            await fs.acc.write(path, OpWrite())
        with pytest.raises(errors.PermissionDenied):
            await fs.put(path, b"pwned", append=True)
    assert names(escapes) == ["secret"]
    assert (escapes / "secret").read_bytes() == b"secret"
    assert temps(escapes) == []


async def test_other_operations_are_refused(fs, escapes: Path) -> None:
    await fs.put("mine", b"mine")
    with pytest.raises(errors.PermissionDenied):
        await fs.acc.create_dir("out/d/", OpCreateDir())
    with pytest.raises(errors.PermissionDenied):
        await fs.acc.copy("secret", "copied", OpCopy())
    with pytest.raises(errors.PermissionDenied):
        await fs.acc.copy("mine", "out/copied", OpCopy())
    with pytest.raises(errors.PermissionDenied):
        await fs.acc.rename("mine", "out/moved", OpRename())
    with pytest.raises(errors.PermissionDenied):
        await fs.acc.rename("out/secret", "stolen", OpRename())
    with pytest.raises(errors.PermissionDenied):
        await fs.acc.delete("out/secret", OpDelete())
    assert names(escapes) == ["secret"]


async def test_deleting_an_escaping_symlink_removes_only_the_link(fs, root: Path, escapes: Path) -> None:
    await fs.acc.delete("secret", OpDelete())
    await fs.acc.delete("out/", OpDelete())
    assert not (root / "secret").is_symlink() and not (root / "out").is_symlink()
    assert (escapes / "secret").read_bytes() == b"secret"


async def test_listing_skips_escaping_symlinks(fs, root: Path, escapes: Path) -> None:
    await fs.put("d/f", b"x")
    (root / "d" / "up").symlink_to(root.parent)
    (root / "dangling").symlink_to(root / "nowhere")
    assert await fs.ls("/") == ["d/"]
    assert await fs.ls("/", recursive=True) == ["d/", "d/f"]
    with pytest.raises(errors.PermissionDenied) as info:
        await fs.ls("out/")
    assert (info.value.operation, info.value.path) == ("list", "out/")


async def test_symlinks_inside_the_root_work(fs, root: Path) -> None:
    await fs.put("real/f", b"inside")
    (root / "alias").symlink_to(root / "real")  # absolute target
    (root / "file-alias").symlink_to("real/f")  # relative target
    assert await fs.get("alias/f") == b"inside"
    assert await fs.get("file-alias") == b"inside"
    assert (await fs.acc.stat("alias/", OpStat())).is_dir
    assert (await fs.acc.stat("file-alias", OpStat())).content_length == 6
    await fs.put("alias/g", b"through the link")
    assert (root / "real" / "g").read_bytes() == b"through the link"
    await fs.put("file-alias", b"new!!!")  # replaces the file it points to, keeps the link
    assert (root / "file-alias").is_symlink()
    assert (root / "real" / "f").read_bytes() == b"new!!!"
    assert await fs.ls("alias/") == ["alias/f", "alias/g"]
    # listed as what they point to; a symlinked directory is not descended into (no cycles)
    entries = {e.path: e.metadata for e in await fs.entries("/", recursive=True)}
    assert list(entries) == ["alias/", "file-alias", "real/", "real/f", "real/g"]
    assert entries["alias/"].is_dir and entries["file-alias"].content_length == 6


async def test_a_symlink_loop_is_harmless(fs, root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    await fs.put("f", b"x")
    assert await fs.ls("/", recursive=True) == ["f"]
    with pytest.raises(errors.Error):
        await fs.acc.read("loop", OpRead())


async def test_a_root_reached_through_a_symlink(tmp_path: Path, root: Path) -> None:
    (tmp_path / "via").symlink_to(root)
    acc = build({"root": str(tmp_path / "via")})
    await acc.write_once("f", b"ok", OpWrite())
    assert (root / "f").read_bytes() == b"ok"
    assert acc.info().root == str(tmp_path / "via") + "/"
