"""Fixtures of the fs driver tests: a real temp dir, on asyncio and trio."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio.to_thread

from pystorage.raw.ops import OpList, OpRead, OpWrite
from pystorage.services.fs import FsAccessor, build, threads
from pystorage.types import Entry, Metadata


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs on both backends."""
    backend: str = request.param
    return backend


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The operator's root directory (its parent stands for "outside the root")."""
    directory = tmp_path / "root"
    directory.mkdir()
    return directory


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the root, with a secret file in it."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret").write_bytes(b"secret")
    return directory


@pytest.fixture
def acc(root: Path) -> FsAccessor:
    """A driver built the way the Operator builds it."""
    return build({"root": str(root)})


@dataclasses.dataclass
class FsHelper:
    """Shortcuts over the accessor."""

    acc: FsAccessor

    async def put(self, path: str, data: bytes, **opts: Any) -> Metadata:
        """One-shot write with ``OpWrite(**opts)``."""
        return await self.acc.write_once(path, data, OpWrite(**opts))

    async def get(self, path: str, **opts: Any) -> bytes:
        """Read everything the reader of ``OpRead(**opts)`` delivers, then close it."""
        reader = await self.acc.read(path, OpRead(**opts))
        try:
            parts = []
            while chunk := await reader.read():
                parts.append(chunk)
            return b"".join(parts)
        finally:
            await reader.aclose()

    async def ls(self, path: str = "/", **opts: Any) -> list[str]:
        """The paths of a listing with ``OpList(**opts)``."""
        return [e.path for e in await self.entries(path, **opts)]

    async def entries(self, path: str = "/", **opts: Any) -> list[Entry]:
        """The entries of a listing with ``OpList(**opts)``."""
        return [e async for e in self.acc.list(path, OpList(**opts))]


@pytest.fixture
def fs(acc: FsAccessor) -> FsHelper:
    """Read/write/list shortcuts over ``acc``."""
    return FsHelper(acc)


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the functions handed to a worker thread, in order (the fs
    driver's thread pool under asyncio, ``trio.to_thread.run_sync`` under trio)."""
    calls: list[str] = []
    workers = threads._workers
    submit = workers.submit

    def counting_submit(loop: Any, func: Callable[..., Any], args: tuple[object, ...]) -> Any:
        calls.append(getattr(func, "__name__", repr(func)))
        return submit(loop, func, args)

    original = trio.to_thread.run_sync

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__name__", repr(func)))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(workers, "submit", counting_submit)
    monkeypatch.setattr(trio.to_thread, "run_sync", counting)
    yield calls


def temp_files(directory: Path) -> list[str]:
    """The writers' temp files anywhere below ``directory``."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*.pystorage-tmp"))


@pytest.fixture
def temps() -> Callable[[Path], list[str]]:
    """:func:`temp_files`, as a fixture."""
    return temp_files
