"""Running the copies of a transfer on a dask cluster (``executor=`` a
``dask.distributed.Client``; the optional extra ``pystorage[dask]``).

The client lists and pairs both sides exactly as a local run does (the
merge-join, the compare modes, the filters); the objects to copy are
partitioned into batches of at most :data:`BATCH_OBJECTS` objects or
:data:`BATCH_BYTES` bytes, and each batch runs as one dask task,
:func:`transfer_batch`, on a worker: the operators and the batch are pickled
to it (operators are picklable, layers and credentials included), and the
worker copies the batch with the same per-object code as a local run
(:func:`~pystorage.transfer.copier.copy_object`), ``jobs`` objects at once.
At most twice the cluster's thread count of batches are in flight, so the
listing is never held whole. Results (one per object) come back to the
client, which builds the report and does the deletes. A dry run submits
nothing: the client decides each object as a local dry run does (checksums
read where ``compare="checksum"`` needs them, ``jobs`` at a time).

A worker killed mid-run loses its tasks, which dask runs again elsewhere:
every copy writes the whole object under its final name (a multipart
upload is completed only once whole), so running one twice leaves the same
object, never a duplicate or a partial one. Streamed multipart uploads a
killed worker had started are aborted by nothing: clean them with
``dst.abort_multipart_uploads(prefix, older_than=...)``. A journal is not
used with an executor (``ConfigInvalid``): dask's own retries take its
place.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import anyio

from .. import errors
from .._operator import Operator, Progress
from ..raw.tasks import call_progress
from ..types import Metadata
from .compare import Verdict, merge_join, quick_verdict
from .copier import CopySettings, copy_object
from .filters import PathFilter
from .report import Event, TransferReport

__all__ = ["BATCH_BYTES", "BATCH_OBJECTS", "BatchItem", "ItemResult", "run_on_dask", "transfer_batch"]

#: objects per dask task at most
BATCH_OBJECTS = 64
#: bytes per dask task at most (a larger object is a batch of its own)
BATCH_BYTES = 256 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class BatchItem:
    """One object of a batch: its path relative to both prefixes, its source
    listing metadata, and the destination's (``None`` when missing), with
    whether checksums must decide first."""

    rel: str
    source: Metadata
    dest: Metadata | None
    need_checksum: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ItemResult:
    """What a worker did with one :class:`BatchItem`."""

    rel: str
    action: str  # "copy", "skip" or "fail"
    bytes: int = 0
    how: str | None = None
    error: str | None = None


def transfer_batch(
    src: Operator,
    sp: str,
    dst: Operator,
    dp: str,
    items: list[BatchItem],
    settings: CopySettings,
    jobs: int,
) -> list[ItemResult]:
    """The dask task: copy ``items`` (``jobs`` at a time) in a fresh event loop
    on the worker; returns one result per item. Idempotent."""
    return anyio.run(_transfer_batch, src, sp, dst, dp, items, settings, jobs)


async def _transfer_batch(
    src: Operator, sp: str, dst: Operator, dp: str, items: list[BatchItem], settings: CopySettings, jobs: int
) -> list[ItemResult]:
    from .runner import _Job, _one_line

    job = _Job(
        src, sp, dst, dp, compare="checksum", dry_run=False, settings=settings, journal=None,
        throttle=None, progress=None, on_event=None,
    )
    results: list[ItemResult] = []
    limiter = anyio.CapacityLimiter(jobs)

    async def one(item: BatchItem) -> None:
        async with limiter:
            try:
                if item.need_checksum and item.dest is not None:
                    if await job.same_by_checksum(item.rel, item.source, item.dest):
                        results.append(ItemResult(item.rel, "skip"))
                        return
                result = await copy_object(src, sp + item.rel, dst, dp + item.rel, item.source, settings)
            except Exception as exc:
                results.append(ItemResult(item.rel, "fail", error=_one_line(exc)))
            else:
                results.append(ItemResult(item.rel, "copy", result.bytes, result.how))

    try:
        async with anyio.create_task_group() as tg:
            for item in items:
                tg.start_soon(one, item)
    finally:
        with anyio.CancelScope(shield=True):
            await src.close()
            await dst.close()
    return results


async def run_on_dask(
    client: Any,
    src: Operator,
    sp: str,
    dst: Operator,
    dp: str,
    *,
    compare: str,
    delete: bool,
    dry_run: bool,
    keep: PathFilter,
    settings: CopySettings,
    jobs: int,
    journal: str | os.PathLike[str] | None,
    progress: Progress | None,
    on_event: Callable[[Event], Any] | None,
    window: int,
) -> TransferReport:
    """:func:`~pystorage.transfer.sync` with the copies run as dask tasks (see the module docs)."""
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise errors.ConfigInvalid("executor= needs dask.distributed: pip install 'pystorage[dask]'") from exc
    if journal is not None:
        raise errors.ConfigInvalid("journal= is not used with executor=: dask re-runs lost tasks itself")
    from .listing import Listing, Spill, iterate
    from .runner import _Job, _one_line

    wait: Callable[..., Any] = distributed.wait

    job = _Job(
        src, sp, dst, dp, compare=compare, dry_run=dry_run, settings=settings, journal=None,
        throttle=None, progress=progress, on_event=on_event,
    )
    report = job.report
    deletes = Spill()
    threads = sum(dict(client.nthreads()).values()) or 1
    in_flight: set[Any] = set()
    batch: list[BatchItem] = []
    batch_bytes = 0

    async def settle(futures: set[Any], *, all_of_them: bool) -> None:
        done, _ = await anyio.to_thread.run_sync(
            lambda: wait(list(futures), return_when="ALL_COMPLETED" if all_of_them else "FIRST_COMPLETED")
        )
        for future in done:
            futures.discard(future)
            results: list[ItemResult] = await anyio.to_thread.run_sync(future.result)
            for r in results:
                if r.action == "skip":
                    report.skipped += 1
                    await job.event(Event("skip", r.rel))
                elif r.action == "fail":
                    report.add_failure(r.rel, r.error or "failed")
                    await job.event(Event("fail", r.rel, error=r.error))
                else:
                    report.copied += 1
                    report.bytes += r.bytes
                    report.server_side += r.how == "server-side"
                    job.done += r.bytes
                    await job.event(Event("copy", r.rel, r.bytes, how=r.how))
            await call_progress(progress, job.done, job.planned)

    limiter = anyio.CapacityLimiter(jobs)

    async def would_copy(item: BatchItem) -> None:
        """A dry run decides on the client as a local run does: checksums read, nothing copied."""
        size = item.source.content_length
        async with limiter:
            try:
                if item.need_checksum and item.dest is not None:
                    if await job.same_by_checksum(item.rel, item.source, item.dest):
                        job.planned -= size or 0
                        report.skipped += 1
                        await job.event(Event("skip", item.rel, size))
                        return
            except Exception as exc:
                report.add_failure(item.rel, _one_line(exc))
                await job.event(Event("fail", item.rel, size, error=_one_line(exc)))
                return
            report.copied += 1
            await job.event(Event("copy", item.rel, size, how="dry-run"))

    async def submit(items: list[BatchItem]) -> None:
        if dry_run:
            async with anyio.create_task_group() as dry:
                for item in items:
                    dry.start_soon(would_copy, item)
            return
        while len(in_flight) >= 2 * threads:
            await settle(in_flight, all_of_them=False)
        in_flight.add(client.submit(transfer_batch, src, sp, dst, dp, items, settings, jobs, pure=False))

    src_listing, dst_listing = Listing(src, sp, keep), Listing(dst, dp, keep)
    try:
        async with anyio.create_task_group() as tg:
            async with (
                src_listing.read_ahead(tg, window) as src_items,
                dst_listing.read_ahead(tg, window) as dst_items,
            ):
                async for rel, s, d in merge_join(iterate(src_items), iterate(dst_items)):
                    if s is None:
                        if delete:
                            deletes.add(rel)
                        continue
                    verdict = Verdict.DIFFER if d is None else quick_verdict(compare, s.metadata, d.metadata)
                    if verdict is Verdict.SAME:
                        report.skipped += 1
                        await job.event(Event("skip", rel, s.metadata.content_length))
                        continue
                    job.planned += s.metadata.content_length or 0
                    batch.append(BatchItem(rel, s.metadata, d.metadata if d else None,
                                           verdict is Verdict.NEED_CHECKSUM))
                    batch_bytes += s.metadata.content_length or 0
                    if len(batch) >= BATCH_OBJECTS or batch_bytes >= BATCH_BYTES:
                        await submit(batch)
                        batch, batch_bytes = [], 0
        if batch:
            await submit(batch)
        if in_flight:
            await settle(in_flight, all_of_them=True)
        await job.delete_missing(deletes, src_listing.seen)
    finally:
        deletes.close()
        for future in in_flight:
            future.cancel()
    return report
