"""The reference line of the Parquet target: the same Parquet read through
pystorage's own API (no fsspec): the whole object fetched concurrently, then
the same ``pandas.read_parquet`` on the bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import anyio

from .pystorage_s3 import PystorageS3

__all__ = ["CONTENDER", "PystorageApi"]

_ONLY_PARQUET = "the pystorage API line is the Parquet target's reference only"


class PystorageApi(PystorageS3):
    """``op.read(key, chunk=8 MiB, concurrent=4)`` (the adapter's own read settings), then
    the same ``pandas.read_parquet`` call on the bytes (``pyarrow.BufferReader``, no copy)."""

    name = "pystorage_api"
    family = "fsspec"
    role = "sdk"
    label = "pystorage Operator('s3').read + pyarrow (no fsspec)"
    unsupported: ClassVar[Mapping[str, str]] = {
        kind: _ONLY_PARQUET for kind in ("fsspec_cat_ranges", "fsspec_find", "fsspec_pipe", "fsspec_cat")
    }

    async def read_parquet(self, key: str) -> int:
        """Read the whole file, decode it in a worker thread; the DataFrame's bytes."""
        import pandas as pd
        import pyarrow as pa

        data = await self.op.read(key, chunk=8 << 20, concurrent=4)
        frame = await anyio.to_thread.run_sync(lambda: pd.read_parquet(pa.BufferReader(data)))
        return int(frame.memory_usage(index=False).sum())


CONTENDER = PystorageApi
