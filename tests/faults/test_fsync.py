"""fs: opt-in durable commits (``fsync=True``), and the CLI turns them on for fs targets.

``os.fsync`` is recorded (and still called): with ``fsync=True`` every commit
flushes the staged file before it is renamed/linked/appended and the target's
directory after; by default nothing is flushed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from pystorage import Operator, errors
from pystorage.cli.commands import Context
from pystorage.cli.targets import parse_target


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kind (``"file"`` or ``"dir"``) of every descriptor passed to ``os.fsync``."""
    calls: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


async def _write_bytes(op: Operator) -> None:
    await op.write("a/one", b"1" * 1000)


async def _write_stream(op: Operator) -> None:
    async with op.open("a/two", "wb") as w:
        await w.write(b"2" * 1000)


async def _write_if_not_exists(op: Operator) -> None:
    await op.write("a/three", b"3", if_not_exists=True)


async def _append(op: Operator) -> None:
    await op.write("a/log", b"first")
    await op.write("a/log", b"second", append=True)


async def _copy(op: Operator) -> None:
    await op.write("a/src", b"s")
    await op.copy("a/src", "b/copied")


async def _rename(op: Operator) -> None:
    await op.write("a/src", b"s")
    await op.rename("a/src", "c/moved")


CASES: dict[str, Callable[[Operator], object]] = {
    "write": _write_bytes,
    "open-wb": _write_stream,
    "if-not-exists": _write_if_not_exists,
    "append": _append,
    "copy": _copy,
    "rename": _rename,
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.anyio
async def test_fsync_flushes_the_file_and_its_directory(tmp_path: Path, synced: list[str], case: str) -> None:
    op = Operator("fs", root=str(tmp_path), fsync=True)
    await CASES[case](op)  # type: ignore[misc]
    assert "dir" in synced, synced
    if case != "rename":  # a rename moves a file already on disk: only the directories change
        assert "file" in synced, synced


@pytest.mark.anyio
async def test_fsync_is_off_by_default(tmp_path: Path, synced: list[str]) -> None:
    op = Operator("fs", root=str(tmp_path))
    for case in CASES.values():
        await case(op)  # type: ignore[misc]
    assert synced == []


def test_fsync_is_a_validated_bool(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigInvalid, match="fsync"):
        Operator("fs", root=str(tmp_path), fsync="sometimes")
    assert Operator.from_uri(f"fs://{tmp_path}?fsync=true").accessor.driver._core.fsync  # type: ignore[attr-defined]


def _fsync_of(op: Operator) -> bool:
    return bool(op.accessor.driver._core.fsync)  # type: ignore[attr-defined]


def test_the_cli_commits_durably_to_fs_targets(tmp_path: Path) -> None:
    ctx = Context()
    assert _fsync_of(ctx.operator(parse_target(str(tmp_path / "dst") + "/", dict)))
    assert _fsync_of(ctx.operator(parse_target(f"fs://{tmp_path}/x", dict)))
    assert not _fsync_of(ctx.operator(parse_target(f"fs://{tmp_path}/y?fsync=false", dict)))
