"""The fsspec family's half of :mod:`benchmarks.workloads` (issue 13): its
preparation and timed phase, and the Parquet file it reads (written once by
:mod:`benchmarks.servers` before rclone starts)."""

from __future__ import annotations

import random
from pathlib import Path

from .contenders import Contender
from .servers import Seed, pattern_block
from .workloads import PARQUET_COLUMNS, PARQUET_KEY, PARQUET_ROW_GROUP, KiB, Prepared, Workload, _mib

__all__ = ["fsspec_workloads", "measure_fsspec", "parquet_rows", "prepare_fsspec", "write_parquet"]


def fsspec_workloads(parquet: int, ranges: int, keys: int, ops: int, quick: bool) -> list[Workload]:
    """The fsspec family's workloads (sizes from :func:`benchmarks.workloads.workloads`)."""
    note = " (--quick sizes)" if quick else ""
    groups = max(1, -(-parquet // PARQUET_ROW_GROUP))
    return [
        Workload(
            "fsspec_read_parquet",
            "fsspec",
            "fsspec_parquet",
            f"pandas read_parquet of a {_mib(parquet)} Parquet file, {groups} row groups of "
            f"{_mib(PARQUET_ROW_GROUP)}{note}",
            size=parquet,
            key=PARQUET_KEY,
        ),
        Workload(
            "fsspec_cat_ranges",
            "fsspec",
            "fsspec_cat_ranges",
            f"cat_ranges: {ranges} random 64 KiB ranges of big.bin in one call{note}",
            size=64 * KiB,
            count=ranges,
        ),
        Workload("fsspec_find", "fsspec", "fsspec_find", f"find of {keys} keys{note}", count=keys),
        Workload(
            "fsspec_pipe",
            "fsspec",
            "fsspec_pipe",
            f"pipe of {ops} x 4 KiB files in one call, batch_size 64{note}",
            size=4 * KiB,
            count=ops,
            concurrency=64,
        ),
        Workload(
            "fsspec_cat",
            "fsspec",
            "fsspec_cat",
            f"cat of {ops} x 4 KiB files in one call, batch_size 64{note}",
            size=4 * KiB,
            count=ops,
            concurrency=64,
        ),
    ]


def prepare_fsspec(w: Workload, p: Prepared, token: str, seed: Seed) -> None:
    """The untimed preparation of an fsspec workload (see :func:`benchmarks.workloads.prepare`)."""
    if w.kind == "fsspec_parquet":
        p.keys = [w.key]
        p.expected_bytes = parquet_rows(seed.parquet_size) * PARQUET_COLUMNS * 8
    elif w.kind == "fsspec_cat_ranges":
        p.keys = ["big.bin"]
        rng = random.Random(f"{w.id}/{token}")
        p.offsets = [rng.randrange(0, seed.big_size - w.size) for _ in range(w.count)]
        p.expected_bytes = w.size * w.count
    elif w.kind == "fsspec_find":
        p.keys = ["list"]
        p.expected_count = w.count
    elif w.kind == "fsspec_pipe":
        p.keys = [f"run/{token}/{i:05d}" for i in range(w.count)]
        p.created = list(p.keys)
        p.data = pattern_block()[: w.size]
        p.expected_count = w.count
    elif w.kind == "fsspec_cat":
        p.keys = [f"small/{i:05d}" for i in range(w.count)]
        p.expected_bytes = w.size * w.count
    else:
        raise ValueError(f"unknown workload kind {w.kind!r}")


def parquet_rows(size: int) -> int:
    """Rows of the seeded Parquet file of about ``size`` bytes (8-byte values)."""
    return max(1, size // (8 * PARQUET_COLUMNS))


async def measure_fsspec(c: Contender, w: Workload, p: Prepared) -> tuple[int, int]:
    """The timed phase of an fsspec workload: ``(operations, bytes)``."""
    if w.kind == "fsspec_parquet":
        return 1, await c.read_parquet(p.keys[0])
    if w.kind == "fsspec_cat_ranges":
        ends = [o + w.size for o in p.offsets]
        return w.count, await c.cat_ranges(p.keys[0], p.offsets, ends)
    if w.kind == "fsspec_find":
        return await c.find(p.keys[0]), 0
    if w.kind == "fsspec_pipe":
        await c.pipe_many(dict.fromkeys(p.keys, p.data), w.concurrency)
        return w.count, w.count * len(p.data)
    if w.kind == "fsspec_cat":
        return w.count, await c.cat_many(p.keys, w.concurrency)
    raise ValueError(f"unknown workload kind {w.kind!r}")


def write_parquet(path: Path, size: int) -> None:
    """Write the Parquet file of about ``size`` bytes: :data:`PARQUET_COLUMNS` float64
    columns of seeded random values (incompressible, stored uncompressed), row groups
    of :data:`PARQUET_ROW_GROUP` bytes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = parquet_rows(size)
    rng = np.random.default_rng(20240601)
    table = pa.table({f"c{i}": rng.random(rows) for i in range(PARQUET_COLUMNS)})
    path.parent.mkdir(parents=True, exist_ok=True)
    group = PARQUET_ROW_GROUP // 8 // PARQUET_COLUMNS
    pq.write_table(table, path, row_group_size=group, compression="none")
