"""The workloads of issues 6 and 13, their sizes (full and ``--quick``), and how one is run.

A workload is measured in three steps inside the child process:
``prepare`` (untimed: buffers, offsets, objects to delete), ``measure`` (the
timed phase) and ``cleanup`` (untimed: delete what was written). The seed
objects (``big.bin``, ``small/NNNNN``, ``list/NNNNN``, ``warm.bin``) are written
by :mod:`benchmarks.servers` before the run (and, for the fsspec family,
``fsspec/table.parquet``); anything a child writes goes under ``run/<token>/``
and is removed by the child.

The fsspec family (issue 13, :mod:`benchmarks.workloads_fsspec`) runs on the S3 server.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio

from .contenders import Contender
from .servers import Seed, pattern_block

__all__ = [
    "KIND_METHODS",
    "PARQUET_KEY",
    "Prepared",
    "Workload",
    "cleanup",
    "measure",
    "prepare",
    "seed_for",
    "select",
    "workloads",
]

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

#: workload kind -> the contender methods it needs
KIND_METHODS: dict[str, tuple[str, ...]] = {
    "get_bytes": ("get",),
    "get_stream": ("get_stream",),
    "put_buffer": ("put_buffer",),
    "put_stream": ("put_stream",),
    "ranged": ("get_range",),
    "small_put": ("put",),
    "small_get": ("get",),
    "small_delete": ("delete", "put"),
    "list": ("list",),
    "fsspec_parquet": ("read_parquet",),
    "fsspec_cat_ranges": ("cat_ranges",),
    "fsspec_find": ("find",),
    "fsspec_pipe": ("pipe_many",),
    "fsspec_cat": ("cat_many",),
}

#: kinds whose figure is requests per second (the others are MiB/s)
PER_REQUEST = frozenset({"ranged", "small_put", "small_get", "small_delete", "list"}) | {
    k for k in KIND_METHODS if k.startswith("fsspec_") and k != "fsspec_parquet"
}
#: kinds whose figure is keys per second
_PER_KEY = frozenset({"list", "fsspec_find"})
#: the Parquet file the fsspec family reads (written by :mod:`benchmarks.servers`)
PARQUET_KEY = "fsspec/table.parquet"
#: its float64 columns, and the bytes of one row group (rows = PARQUET_ROW_GROUP // 8 // columns)
PARQUET_COLUMNS = 4
PARQUET_ROW_GROUP = 6 * 1024 * 1024


@dataclass(frozen=True)
class Workload:
    """One workload of one family.

    Attributes:
        id: unique name, e.g. ``"s3_get_bytes"``.
        family: ``"s3"``, ``"gcs"`` or ``"fs"``.
        kind: one of :data:`KIND_METHODS`.
        title: one line for the table.
        size: object size for transfers; item size for ranged and small workloads (bytes).
        count: operations (per-request kinds) or keys to list.
        concurrency: operations in flight (or parts in flight for multipart writes).
        chunk: part size of multipart writes; piece size of streamed reads.
        piece: size of the pieces a streamed write is fed with (default 1 MiB).
        key: the object read (default ``big.bin``).
    """

    id: str
    family: str
    kind: str
    title: str
    size: int = 0
    count: int = 0
    concurrency: int = 1
    chunk: int = 8 * MiB
    piece: int = MiB
    key: str = "big.bin"

    @property
    def per_request(self) -> bool:
        """Whether the figure is operations (or keys) per second rather than MiB/s."""
        return self.kind in PER_REQUEST

    @property
    def unit(self) -> str:
        """``"MiB/s"``, ``"ops/s"`` or ``"keys/s"``."""
        if self.kind in _PER_KEY:
            return "keys/s"
        return "ops/s" if self.per_request else "MiB/s"

    def to_json(self) -> dict[str, Any]:
        """The workload as a JSON-able dict (with ``unit``)."""
        data = asdict(self)
        data["unit"] = self.unit
        return data


@dataclass(frozen=True)
class _Sizes:
    big: int
    ops: int
    ranged_ops: int
    list_keys: int
    fs_big: int
    fs_random_ops: int
    fs_small: int
    fs_list: int
    parquet: int
    fsspec_ranges: int


FULL = _Sizes(
    big=256 * MiB,
    ops=2000,
    ranged_ops=2000,
    list_keys=5000,
    fs_big=1 * GiB,
    fs_random_ops=10_000,
    fs_small=2000,
    fs_list=5000,
    parquet=256 * MiB,
    fsspec_ranges=200,
)
QUICK = _Sizes(
    big=32 * MiB,
    ops=400,
    ranged_ops=400,
    list_keys=1000,
    fs_big=128 * MiB,
    fs_random_ops=2000,
    fs_small=400,
    fs_list=1000,
    parquet=64 * MiB,
    fsspec_ranges=200,
)


def _mib(n: int) -> str:
    return f"{n // GiB} GiB" if n >= GiB and n % GiB == 0 else f"{n // MiB} MiB"


def _object_store(family: str, s: _Sizes) -> list[Workload]:
    big = _mib(s.big)
    out = [
        Workload(f"{family}_get_bytes", family, "get_bytes", f"GET {big} into bytes", size=s.big),
        Workload(
            f"{family}_get_stream", family, "get_stream", f"streamed GET of {big}", size=s.big, chunk=MiB
        ),
    ]
    for conc in (4, 8):
        out.append(
            Workload(
                f"{family}_put_buffer_c{conc}",
                family,
                "put_buffer",
                f"PUT {big} from a buffer, 8 MiB parts, {conc} in flight",
                size=s.big,
                concurrency=conc,
            )
        )
    for conc in (4, 8):
        out.append(
            Workload(
                f"{family}_put_stream_c{conc}",
                family,
                "put_stream",
                f"streamed PUT of {big} (1 MiB pieces), 8 MiB parts, {conc} in flight",
                size=s.big,
                concurrency=conc,
            )
        )
    out += [
        Workload(
            f"{family}_ranged_64k",
            family,
            "ranged",
            f"{s.ranged_ops} random 64 KiB ranged GETs, concurrency 32",
            size=64 * KiB,
            count=s.ranged_ops,
            concurrency=32,
        ),
        Workload(
            f"{family}_small_put",
            family,
            "small_put",
            f"{s.ops} x 4 KiB PUT, concurrency 64",
            size=4 * KiB,
            count=s.ops,
            concurrency=64,
        ),
        Workload(
            f"{family}_small_get",
            family,
            "small_get",
            f"{s.ops} x 4 KiB GET, concurrency 64",
            size=4 * KiB,
            count=s.ops,
            concurrency=64,
        ),
        Workload(
            f"{family}_small_delete",
            family,
            "small_delete",
            f"{s.ops} x DELETE, concurrency 64",
            size=4 * KiB,
            count=s.ops,
            concurrency=64,
        ),
        Workload(f"{family}_list", family, "list", f"list {s.list_keys} keys", count=s.list_keys),
    ]
    return out


def _fs(s: _Sizes) -> list[Workload]:
    big = _mib(s.fs_big)
    return [
        Workload("fs_read_bytes", "fs", "get_bytes", f"read a {big} file into bytes", size=s.fs_big),
        Workload(
            "fs_read_stream", "fs", "get_stream", f"streamed read of {big} (8 MiB pieces)", size=s.fs_big
        ),
        Workload(
            "fs_write_buffer", "fs", "put_buffer", f"write {big} from a buffer", size=s.fs_big, concurrency=1
        ),
        Workload(
            "fs_write_stream",
            "fs",
            "put_stream",
            f"streamed write of {big} (8 MiB pieces)",
            size=s.fs_big,
            concurrency=1,
            piece=8 * MiB,
        ),
        Workload(
            "fs_random_4k",
            "fs",
            "ranged",
            f"{s.fs_random_ops} random 4 KiB reads, concurrency 32",
            size=4 * KiB,
            count=s.fs_random_ops,
            concurrency=32,
        ),
        Workload(
            "fs_small_write",
            "fs",
            "small_put",
            f"{s.fs_small} x 4 KiB file writes, concurrency 64",
            size=4 * KiB,
            count=s.fs_small,
            concurrency=64,
        ),
        Workload(
            "fs_small_read",
            "fs",
            "small_get",
            f"{s.fs_small} x 4 KiB file reads, concurrency 64",
            size=4 * KiB,
            count=s.fs_small,
            concurrency=64,
        ),
        Workload(
            "fs_small_delete",
            "fs",
            "small_delete",
            f"{s.fs_small} x file deletes, concurrency 64",
            size=4 * KiB,
            count=s.fs_small,
            concurrency=64,
        ),
        Workload("fs_list", "fs", "list", f"list a directory of {s.fs_list} files", count=s.fs_list),
    ]


def workloads(quick: bool = False, *, overrides: dict[str, int] | None = None) -> list[Workload]:
    """Every workload, in table order.

    Args:
        quick: the shrunk sizes of ``--quick`` (default False: issue 6's sizes).
        overrides: replace size fields by name (``big``, ``ops``, ``ranged_ops``,
            ``list_keys``, ``fs_big``, ``fs_random_ops``, ``fs_small``, ``fs_list``,
            ``parquet``, ``fsspec_ranges``),
            e.g. for tests (default none).
    """
    from .workloads_fsspec import fsspec_workloads

    sizes = QUICK if quick else FULL
    if overrides:
        sizes = _Sizes(**{**asdict(sizes), **overrides})
    return [
        *_object_store("s3", sizes),
        *_object_store("gcs", sizes),
        *_object_store("azblob", sizes),
        *_fs(sizes),
        *fsspec_workloads(sizes.parquet, sizes.fsspec_ranges, sizes.list_keys, sizes.ops, quick),
    ]


def select(all_workloads: list[Workload], patterns: list[str] | None) -> list[Workload]:
    """The workloads matching any of ``patterns`` (``fnmatch`` globs; a plain word matches as a substring)."""
    if not patterns:
        return list(all_workloads)
    out = []
    for w in all_workloads:
        for p in patterns:
            glob = p if any(c in p for c in "*?[") else f"*{p}*"
            if fnmatch.fnmatchcase(w.id, glob):
                out.append(w)
                break
    return out


def seed_for(selected: list[Workload]) -> Seed:
    """The seed data the selected workloads read (the largest size each needs)."""

    def biggest(families: str, attr: str, kinds: set[str]) -> int:
        names = families.split()  # whole names: "fs" is not "fsspec"
        return max(
            (int(getattr(w, attr)) for w in selected if w.family in names and w.kind in kinds), default=0
        )

    def big_for(families: str) -> int:
        whole = biggest(families, "size", {"get_bytes", "get_stream"})
        if whole:
            return whole
        ranged = {"ranged", "fsspec_cat_ranges"}
        names = families.split()
        return 64 * MiB if any(w.family in names and w.kind in ranged for w in selected) else MiB

    stores = "s3 gcs azblob fsspec"  # the fsspec family reads the S3 server's seed
    return Seed(
        big_size=big_for(stores),
        small_count=biggest(stores, "count", {"small_get", "fsspec_cat"}),
        list_count=biggest(stores, "count", {"list", "fsspec_find"}),
        fs_big_size=big_for("fs"),
        fs_small_count=biggest("fs", "count", {"small_get"}),
        fs_list_count=biggest("fs", "count", {"list"}),
        parquet_size=biggest("fsspec", "size", {"fsspec_parquet"}),
    )


# running one workload -------------------------------------------------------------


@dataclass
class Prepared:
    """What ``prepare`` made for ``measure`` and ``cleanup``.

    Attributes:
        keys: the keys the timed phase works on.
        created: keys written by this child (deleted by ``cleanup``).
        data: the buffer to write (put workloads; the repeated piece of a streamed write).
        offsets: the ranged reads' offsets.
        expected_bytes / expected_count: what a correct run returns.
        object_size: size of the object read (ranged reads).
    """

    keys: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    data: bytes = b""
    offsets: list[int] = field(default_factory=list)
    expected_bytes: int = 0
    expected_count: int = 0
    object_size: int = 0


async def _pool(count: int, concurrency: int, fn: Callable[[int], Awaitable[int]]) -> int:
    """Run ``fn(0..count-1)`` with ``concurrency`` workers; return the sum of the results."""
    indexes = iter(range(count))
    total = 0

    async def worker() -> None:
        nonlocal total
        for i in indexes:
            n = await fn(i)  # not `total += await ...`: that reads `total` before the await
            total += n

    async with anyio.create_task_group() as tg:
        for _ in range(max(1, min(concurrency, count))):
            tg.start_soon(worker)
    return total


def _pieces(size: int, piece: bytes) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        left = size
        while left > 0:
            n = min(left, len(piece))
            yield piece if n == len(piece) else piece[:n]
            left -= n

    return gen()


async def prepare(
    c: Contender, w: Workload, token: str, seed: Seed, helper: Contender | None = None
) -> Prepared:
    """The untimed preparation of ``w`` for contender ``c``.

    ``helper`` (default: ``c`` itself) writes the objects a delete workload
    deletes: any client creates the same objects on the server, and a fast
    one keeps the run short.
    """
    writer = helper or c
    p = Prepared()
    base = f"run/{token}"
    block = pattern_block()
    big = seed.fs_big_size if w.family == "fs" else seed.big_size
    if w.kind in ("get_bytes", "get_stream"):
        p.keys = [w.key]
        p.expected_bytes = w.size
        if w.size != big:
            raise RuntimeError(f"seeded {w.key} has {big} bytes, the workload expects {w.size}")
    elif w.kind == "put_buffer":
        p.keys = [f"{base}/obj"]
        p.created = list(p.keys)
        reps, rest = divmod(w.size, len(block))
        p.data = block * reps + block[:rest]
        p.expected_bytes = w.size
    elif w.kind == "put_stream":
        p.keys = [f"{base}/obj"]
        p.created = list(p.keys)
        p.data = block * (w.piece // len(block)) if w.piece >= len(block) else block[: w.piece]
        p.expected_bytes = w.size
    elif w.kind == "ranged":
        p.keys = [w.key]
        p.object_size = big
        rng = random.Random(f"{w.id}/{token}")
        p.offsets = [rng.randrange(0, big - w.size) for _ in range(w.count)]
        p.expected_bytes = w.size * w.count
    elif w.kind == "small_put":
        p.keys = [f"{base}/{i:05d}" for i in range(w.count)]
        # one untimed object first: the directory exists before the concurrent PUTs (rclone serve s3
        # answers 500 to some concurrent PUTs that each create a new directory: docs/services/s3.md)
        await writer.put(f"{base}/first", block[: w.size])
        p.created = [*p.keys, f"{base}/first"]
        p.data = block[: w.size]
        p.expected_count = w.count
    elif w.kind == "small_get":
        p.keys = [f"small/{i:05d}" for i in range(w.count)]
        p.expected_bytes = w.size * w.count
    elif w.kind == "small_delete":
        p.keys = [f"{base}/{i:05d}" for i in range(w.count)]
        p.created = list(p.keys)  # deleted again by cleanup if the timed phase failed
        data = block[: w.size]

        async def put(i: int) -> int:
            await writer.put(p.keys[i], data)
            return 1

        await _pool(w.count, w.concurrency, put)
        p.expected_count = w.count
    elif w.kind == "list":
        p.keys = ["list/"]
        p.expected_count = w.count
    elif w.kind.startswith("fsspec_"):
        from .workloads_fsspec import prepare_fsspec

        prepare_fsspec(w, p, token, seed)
    else:
        raise ValueError(f"unknown workload kind {w.kind!r}")
    return p


async def warm_up(c: Contender, w: Workload) -> None:
    """Open the client's connections: as many concurrent reads of ``warm.bin`` as the workload's
    concurrency (at most 64), twice; one read for the limit lines."""
    n = 1 if c.role == "limit" else max(1, min(w.concurrency, 64))
    for _ in range(2):

        async def one(i: int) -> int:
            return await c.get("warm.bin")

        await _pool(n, n, one)


async def measure(c: Contender, w: Workload, p: Prepared) -> tuple[int, int]:
    """The timed phase. Returns ``(operations, bytes)`` as reported by the contender."""
    if w.kind == "get_bytes":
        return 1, await c.get(p.keys[0])
    if w.kind == "get_stream":
        return 1, await c.get_stream(p.keys[0], w.chunk)
    if w.kind == "put_buffer":
        await c.put_buffer(p.keys[0], p.data, w.chunk, w.concurrency)
        return 1, len(p.data)
    if w.kind == "put_stream":
        await c.put_stream(p.keys[0], _pieces(w.size, p.data), w.size, w.chunk, w.concurrency)
        return 1, w.size
    if w.kind == "ranged":
        key = p.keys[0]

        async def ranged(i: int) -> int:
            return await c.get_range(key, p.offsets[i], w.size)

        return w.count, await _pool(w.count, w.concurrency, ranged)
    if w.kind == "small_put":

        async def put(i: int) -> int:
            await c.put(p.keys[i], p.data)
            return len(p.data)

        return w.count, await _pool(w.count, w.concurrency, put)
    if w.kind == "small_get":

        async def get(i: int) -> int:
            return await c.get(p.keys[i])

        return w.count, await _pool(w.count, w.concurrency, get)
    if w.kind == "small_delete":

        async def delete(i: int) -> int:
            await c.delete(p.keys[i])
            return 0

        await _pool(w.count, w.concurrency, delete)
        p.created = []
        return w.count, 0
    if w.kind == "list":
        n = await c.list(p.keys[0])
        return n, 0
    if w.kind.startswith("fsspec_"):
        from .workloads_fsspec import measure_fsspec

        return await measure_fsspec(c, w, p)
    raise ValueError(f"unknown workload kind {w.kind!r}")


def check(w: Workload, p: Prepared, ops: int, nbytes: int) -> str | None:
    """Why the timed phase's result is wrong, or ``None`` if it is right."""
    if w.kind in _PER_KEY and ops != p.expected_count:
        return f"listed {ops} keys, expected {p.expected_count}"
    if p.expected_bytes and nbytes != p.expected_bytes:
        return f"moved {nbytes} bytes, expected {p.expected_bytes}"
    return None


async def verify_written(c: Contender, w: Workload, p: Prepared) -> str | None:
    """After a big write, read its last 4 KiB back (untimed) to check the object is complete.

    Skipped (``None``) for small writes, the limit lines and contenders
    without ranged reads.
    """
    if w.kind not in ("put_buffer", "put_stream") or c.role == "limit" or "get_range" in c.unsupported:
        return None
    tail = 4096
    n = await c.get_range(p.keys[0], w.size - tail, tail)
    if n != tail:
        return f"the written object is incomplete: its last {tail} bytes read back as {n} bytes"
    return None


async def cleanup(
    c: Contender, w: Workload, p: Prepared, cfg: dict[str, Any], token: str, helper: Contender | None = None
) -> None:
    """Delete what the child wrote (untimed; errors are ignored), with ``helper`` if given."""
    if not p.created:
        return
    if helper is not None:
        c = helper
    if "delete" in c.unsupported:
        if w.family == "fs":
            import shutil

            await anyio.to_thread.run_sync(
                lambda: shutil.rmtree(f"{cfg['root']}/run/{token}", ignore_errors=True)
            )
        return

    async def delete(i: int) -> int:
        try:
            await c.delete(p.created[i])
        except Exception:  # best-effort cleanup
            pass
        return 0

    await _pool(len(p.created), 32, delete)
    if w.family == "fs":
        import shutil

        await anyio.to_thread.run_sync(
            lambda: shutil.rmtree(f"{cfg['root']}/run/{token}", ignore_errors=True)
        )
