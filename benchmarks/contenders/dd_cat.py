"""The fs limit line: ``cat`` / ``dd`` processes (whole-file reads and streamed writes only)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import anyio

from . import Contender
from .curl_s3 import run_tool

__all__ = ["CONTENDER", "DdCat"]

_WHY = "the dd/cat line covers whole-file reads and writes only"


class DdCat(Contender):
    """``cat FILE > /dev/null`` (``get``), ``dd bs=chunk`` to ``/dev/null`` (``get_stream``),
    ``dd if=/dev/zero bs=chunk`` (writes; the data source is not consumed)."""

    name = "dd_cat"
    family = "fs"
    role = "limit"
    label = "cat / dd processes (limit line)"
    unsupported: ClassVar[Mapping[str, str]] = {
        "get_range": _WHY,
        "put": _WHY,
        "delete": _WHY,
        "list": _WHY,
        "small_get": _WHY + " (one process per small file would measure process start-up)",
    }

    def __init__(self) -> None:
        self.root = ""

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Remember the root."""
        self.root = cfg["root"]

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key)

    async def get(self, key: str) -> int:
        """``cat FILE`` with stdout on ``/dev/null``."""
        path = self._path(key)
        await run_tool(["sh", "-c", 'exec cat -- "$1" > /dev/null', "cat", path])
        return (await anyio.Path(path).stat()).st_size

    async def get_stream(self, key: str, chunk: int) -> int:
        """``dd if=FILE of=/dev/null bs=chunk``."""
        path = self._path(key)
        await run_tool(["dd", f"if={path}", "of=/dev/null", f"bs={chunk}", "status=none"])
        return (await anyio.Path(path).stat()).st_size

    async def _write(self, key: str, size: int, chunk: int) -> None:
        path = self._path(key)
        await anyio.Path(path).parent.mkdir(parents=True, exist_ok=True)
        count = -(-size // chunk)
        await run_tool(["dd", "if=/dev/zero", f"of={path}", f"bs={chunk}", f"count={count}", "status=none"])

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """``dd if=/dev/zero of=FILE bs=chunk count=...`` (same size as ``data``)."""
        await self._write(key, len(data), chunk)

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """``dd if=/dev/zero of=FILE bs=chunk count=...``."""
        await self._write(key, size, chunk)


CONTENDER = DdCat
