"""The shared body of the pystorage contenders (one ``Operator``, the public API only)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from . import Contender

__all__ = ["OnUvloop", "PystorageContender"]

#: the workloads the uvloop rows skip: large transfers move bytes, not requests
_TRANSFER_KINDS = ("get_bytes", "get_stream", "put_buffer", "put_stream")


class PystorageContender(Contender):
    """pystorage through its public ``Operator`` API; subclasses build the operator.

    ``get`` is ``op.read(key)``, ``get_stream`` iterates ``op.open(key, "rb")``
    (one streamed request, default options), ``put_buffer``/``put_stream`` are
    ``op.write(key, data, chunk=, concurrent=)``.
    """

    role = "pystorage"

    def __init__(self) -> None:
        self.op: Any = None

    def operator_config(self, cfg: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The scheme and config keys of the ``Operator`` to build (overridden per family)."""
        raise NotImplementedError

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the operator and open its clients (``async with``-style)."""
        from pystorage import Operator

        scheme, config = self.operator_config(cfg)
        self.op = Operator(scheme, **config)
        await self.op.__aenter__()

    async def get(self, key: str) -> int:
        """``len(await op.read(key))``."""
        return len(await self.op.read(key))

    async def get_stream(self, key: str, chunk: int) -> int:
        """Iterate ``op.open(key, "rb")`` with default options."""
        n = 0
        async with self.op.open(key, "rb") as reader:
            async for piece in reader:
                n += len(piece)
        return n

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``op.read(key, offset=offset, size=size)``."""
        return len(await self.op.read(key, offset=offset, size=size))

    async def put(self, key: str, data: bytes) -> None:
        """``op.write(key, data)``."""
        await self.op.write(key, data)

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """``op.write(key, data, chunk=chunk, concurrent=concurrency)``."""
        await self.op.write(key, data, chunk=chunk, concurrent=concurrency)

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """``op.write(key, source, chunk=chunk, concurrent=concurrency)`` (source is an async iterable)."""
        await self.op.write(key, source, chunk=chunk, concurrent=concurrency)

    async def delete(self, key: str) -> None:
        """``op.delete(key)``."""
        await self.op.delete(key)

    async def list(self, prefix: str) -> int:
        """Count the entries of ``op.list(prefix)``."""
        n = 0
        async for _ in self.op.list(prefix):
            n += 1
        return n

    async def close(self) -> None:
        """``await op.close()``."""
        if self.op is not None:
            await self.op.close()


class OnUvloop(PystorageContender):
    """The family's pystorage contender run on uvloop (``anyio.run(..., use_uvloop=True)``), as
    the CLI runs when uvloop is installed: its own table row, role ``"loop"`` (not a peer), on
    the per-request workloads only (the loop's share of a large transfer is small)."""

    role = "loop"
    event_loop = "uvloop"
    unsupported: ClassVar[Mapping[str, str]] = {
        kind: "the uvloop row runs the per-request workloads only" for kind in _TRANSFER_KINDS
    }
