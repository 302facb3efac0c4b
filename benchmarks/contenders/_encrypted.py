"""pystorage through ``EncryptionLayer``: the same ``Operator`` calls as the plain
pystorage contender of the family, so the table's "pystorage ×" column is the
cost of client-side encryption.

The seeded objects are plaintext; ``setup()`` (untimed) keeps encrypted copies
of ``big.bin`` and ``warm.bin`` under ``enc-seed/``, made once per server run,
and the GET, ranged and warm-up reads read those copies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from ._pystorage import PystorageContender

__all__ = ["EncryptedContender"]

#: a fixed benchmark key (the copy made by one child is read by the next)
KEY = bytes(range(32))
SEEDED = ("big.bin", "warm.bin")
PREFIX = "enc-seed/"
MiB = 1024 * 1024


class EncryptedContender(PystorageContender):
    """A pystorage contender with ``EncryptionLayer(keyset, segment_size=...)`` on top."""

    role = "layer"
    segment_size: ClassVar[int] = 1024 * 1024

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the layered operator and make sure the encrypted copy of ``big.bin`` exists."""
        from pystorage import Operator
        from pystorage.crypto import Keyset
        from pystorage.layers import EncryptionLayer

        scheme, config = self.operator_config(cfg)
        raw = Operator(scheme, **config)
        await raw.__aenter__()
        keyset = Keyset.from_keys({"1": KEY}, primary="1")
        self.op = raw.layer(EncryptionLayer(keyset, segment_size=self.segment_size))
        for key in SEEDED:
            await self._copy(raw, key)

    async def _copy(self, raw: Any, key: str) -> None:
        from pystorage import errors

        try:
            size = (await raw.stat(key)).content_length
        except errors.NotFound:
            return
        try:
            if (await self.op.stat(PREFIX + key)).content_length == size:
                return
        except (errors.NotFound, errors.DecryptionFailed):
            pass

        async def pieces() -> AsyncIterator[bytes]:
            async with raw.open(key, "rb") as reader:
                async for piece in reader:
                    yield piece

        chunk = max(16 * MiB, raw.capability().write_multi_min_size or 0)
        await self.op.write(PREFIX + key, pieces(), chunk=chunk, concurrent=4)
        await raw.stat(PREFIX + key)  # rclone hashes a new object on its first request: untimed here

    @staticmethod
    def _key(key: str) -> str:
        return PREFIX + key if key in SEEDED else key

    async def get(self, key: str) -> int:
        """``op.read`` of the encrypted copy."""
        return await super().get(self._key(key))

    async def get_stream(self, key: str, chunk: int) -> int:
        """``op.open(..., "rb")`` of the encrypted copy."""
        return await super().get_stream(self._key(key), chunk)

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``op.read(offset=, size=)`` of the encrypted copy."""
        return await super().get_range(self._key(key), offset, size)
