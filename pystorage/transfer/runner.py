"""Running a transfer: list both sides, pair, decide, copy with bounded concurrency.

The two listings are read concurrently, each by its own task into a
bounded buffer (``window`` entries, handed over in pages of
:data:`_PAGE`), and paired by a merge-join (listings are in lexicographic
key order on every service), so memory does not grow with the number of
objects. ``jobs`` worker tasks compare or copy the objects, taken from a
rendezvous stream; each holds at most ``chunk × (concurrent + 2)`` bytes.
Deletions (``delete=True``) are spilled to a temporary file and done after
every copy succeeded, so a failed run never deletes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterable
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from .. import errors
from .._operator import Operator, Progress
from ..raw.path import normalize_path
from ..raw.tasks import call_maybe_async, call_progress
from ..types import Entry, Metadata
from .bandwidth import Bandwidth
from .compare import COMPARE_MODES, Verdict, hash_object, listed_md5, merge_join, quick_verdict
from .copier import DEFAULT_CONCURRENT, CopyResult, CopySettings, copy_object
from .filters import PathFilter
from .journal import Journal
from .listing import Listing, Spill, batches, iterate
from .report import CheckReport, Event, FailedObject, TransferReport

__all__ = ["DEFAULT_JOBS", "DEFAULT_WINDOW", "check", "copy_tree", "sync"]

#: objects compared or copied at once when ``jobs`` is not given
DEFAULT_JOBS = 8

#: listing entries buffered ahead, per side
DEFAULT_WINDOW = 1000


#: paths deleted per ``delete_many`` call
_DELETE_BATCH = 1000

#: piece size when hashing for ``compare="checksum"``
_HASH_PIECE = 1024 * 1024

OnEvent = Callable[[Event], Any]


def _prefix(path: str) -> str:
    p = normalize_path(path or "/")
    return "" if p == "/" else p.rstrip("/") + "/"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _check_args(compare: str, jobs: int, chunk: int | None, concurrent: int | None, window: int) -> None:
    if compare not in COMPARE_MODES:
        raise errors.ConfigInvalid(f"compare must be one of {', '.join(COMPARE_MODES)}; got {compare!r}")
    for name, value, allow_none in (
        ("jobs", jobs, False),
        ("chunk", chunk, True),
        ("concurrent", concurrent, True),
        ("window", window, False),
    ):
        if value is None and allow_none:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise errors.ConfigInvalid(f"{name} must be an int >= 1, got {value!r}")


def _job(src: Operator, sp: str, dst: Operator, dp: str) -> dict[str, str]:
    s, d = src.info, dst.info
    return {
        "src": f"{s.scheme}:{s.name}:{s.root}{sp}",
        "dst": f"{d.scheme}:{d.name}:{d.root}{dp}",
    }


@dataclasses.dataclass(eq=False)
class _Job:
    """The state of one :func:`sync` / :func:`copy_tree` run."""

    src: Operator
    sp: str
    dst: Operator
    dp: str
    _: dataclasses.KW_ONLY
    compare: str
    dry_run: bool
    settings: CopySettings
    journal: Journal | None
    throttle: Bandwidth | None
    progress: Progress | None
    on_event: OnEvent | None
    report: TransferReport = dataclasses.field(init=False)
    planned: int = dataclasses.field(default=0, init=False)  # bytes of the objects to copy, known so far
    done: int = dataclasses.field(default=0, init=False)
    kept_uploads: set[str] = dataclasses.field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.report = TransferReport(dry_run=self.dry_run)

    async def event(self, event: Event) -> None:
        if self.on_event is not None:
            await call_maybe_async(self.on_event, event)

    async def moved(self, size: int) -> None:
        self.done += size
        await call_progress(self.progress, self.done, self.planned)

    async def same_by_checksum(self, rel: str, s: Metadata, d: Metadata) -> bool:
        """Compare MD5s: reported ones where a side has one, else hash its bytes; a
        disagreeing MD5 read from an S3 ETag is confirmed by hashing that side."""
        piece = self.settings.chunk or _HASH_PIECE
        src_md5, src_inferred = listed_md5(self.src, s)
        dst_md5, dst_inferred = listed_md5(self.dst, d)
        if src_md5 is None:
            src_md5 = await hash_object(self.src, self.sp + rel, chunk=piece, throttle=self.throttle)
            src_inferred = False
        if dst_md5 is None:
            dst_md5 = await hash_object(self.dst, self.dp + rel, chunk=piece, throttle=self.throttle)
            dst_inferred = False
        if src_md5 == dst_md5:
            return True
        if src_inferred:  # SSE-KMS / SSE-C ETags are not MD5s: look at the bytes before deciding
            src_md5 = await hash_object(self.src, self.sp + rel, chunk=piece, throttle=self.throttle)
        if dst_inferred:
            dst_md5 = await hash_object(self.dst, self.dp + rel, chunk=piece, throttle=self.throttle)
        return src_md5 == dst_md5

    async def copy(self, rel: str, s: Entry, d: Entry | None, verdict: Verdict) -> None:
        size = s.metadata.content_length
        try:
            if verdict is Verdict.NEED_CHECKSUM:
                assert d is not None
                if await self.same_by_checksum(rel, s.metadata, d.metadata):
                    self.report.skipped += 1
                    if self.journal is not None and not self.dry_run:
                        self.journal.record_done(rel, s.metadata, d.metadata)
                    await self.event(Event("skip", rel, size))
                    return
            self.planned += size or 0
            if self.dry_run:
                self.report.copied += 1
                await self.event(Event("copy", rel, size, how="dry-run"))
                return
            result: CopyResult = await copy_object(
                self.src,
                self.sp + rel,
                self.dst,
                self.dp + rel,
                s.metadata,
                self.settings,
                journal=self.journal,
                journal_key=rel,
                throttle=self.throttle,
                moved=self.moved,
            )
        except Exception as exc:
            self.report.add_failure(rel, _one_line(exc))
            if self.journal is not None and self.journal.upload(rel) is not None:
                self.kept_uploads.add(rel)  # resumed by the next run
            await self.event(Event("fail", rel, size, error=_one_line(exc)))
            return
        report = self.report
        report.copied += 1
        report.bytes += result.bytes
        report.bytes_resumed += result.resumed_bytes
        if result.how == "server-side":
            report.server_side += 1
        if self.journal is not None:
            self.journal.record_done(rel, s.metadata, result.metadata)
        await self.event(Event("copy", rel, size, how=result.how))

    async def delete_missing(self, deletes: Spill, source_seen: int) -> None:
        """Delete ``deletes`` (what the source lacks) if the run had no failure;
        refuse with ``NotFound`` when the source listed nothing (``source_seen == 0``)."""
        if not deletes.count:
            return
        if source_seen == 0:
            raise errors.NotFound(
                f"the source {self.sp or '/'!r} is empty or missing: refusing to delete "
                f"{deletes.count} objects at the destination",
                operation="sync",
                path=self.sp or "/",
            )
        if self.report.failed == 0:
            await self.delete_all(deletes)

    async def delete_all(self, paths: Spill) -> None:
        for batch in batches(paths, _DELETE_BATCH):
            if not self.dry_run:
                try:
                    await self.dst.delete_many([self.dp + rel for rel in batch])
                except Exception as exc:
                    for rel in batch:
                        self.report.add_failure(rel, _one_line(exc))
                        await self.event(Event("fail", rel, error=_one_line(exc)))
                    continue
            for rel in batch:
                self.report.deleted += 1
                if self.journal is not None and not self.dry_run:
                    self.journal.forget_done(rel)
                await self.event(Event("delete", rel))

    async def abort_stale_uploads(self) -> None:
        """Abort journaled uploads this run did not keep for resuming (no orphans)."""
        journal = self.journal
        if journal is None or self.dry_run:
            return
        for upload in journal.uploads():
            if upload.path in self.kept_uploads:
                continue
            with contextlib.suppress(errors.NotFound):
                await self.dst.resume_multipart(self.dp + upload.path, upload.upload_id).abort()
            journal.forget_upload(upload.path)


async def _run(
    src: Operator,
    src_path: str,
    dst: Operator,
    dst_path: str,
    *,
    compare: str,
    delete: bool,
    dry_run: bool,
    include: Iterable[str],
    exclude: Iterable[str],
    jobs: int,
    chunk: int | None,
    concurrent: int | None,
    journal: str | os.PathLike[str] | None,
    progress: Progress | None,
    executor: Any,
    bwlimit: int | None,
    on_event: OnEvent | None,
    window: int,
    server_side: bool | None,
) -> TransferReport:
    _check_args(compare, jobs, chunk, concurrent, window)
    sp, dp = _prefix(src_path), _prefix(dst_path)
    same = src is dst
    if same and (sp.startswith(dp) or dp.startswith(sp)):
        raise errors.ConfigInvalid(
            f"source {sp or '/'!r} and destination {dp or '/'!r} overlap in one operator"
        )
    keep = PathFilter(include, exclude)
    settings = CopySettings(
        chunk=chunk,
        concurrent=concurrent or DEFAULT_CONCURRENT,
        server_side=same if server_side is None else bool(server_side and same),
    )
    if executor is not None:
        if bwlimit is not None:
            # one budget shared by every transfer cannot span processes on other machines
            raise errors.ConfigInvalid(
                "bwlimit= is not supported with executor=: limit the workers' bandwidth instead"
            )
        from .executor import run_on_dask

        report: TransferReport = await run_on_dask(
            executor, src, sp, dst, dp, compare=compare, delete=delete, dry_run=dry_run, keep=keep,
            settings=settings, jobs=jobs, journal=journal, progress=progress, on_event=on_event,
            window=window,
        )
        return report
    with contextlib.ExitStack() as stack:
        jr = stack.enter_context(Journal(journal, _job(src, sp, dst, dp))) if journal is not None else None
        deletes = Spill()
        stack.callback(deletes.close)
        job = _Job(
            src, sp, dst, dp,
            compare=compare,
            dry_run=dry_run,
            settings=settings,
            journal=jr,
            throttle=Bandwidth(bwlimit) if bwlimit is not None else None,
            progress=progress,
            on_event=on_event,
        )
        src_listing, dst_listing = Listing(src, sp, keep), Listing(dst, dp, keep)
        # ``jobs`` workers take objects from a rendezvous stream: handing one over waits
        # for a free worker, which bounds the objects in flight (and is cheaper than a task each)
        work, todo = anyio.create_memory_object_stream[tuple[str, Entry, Entry | None, Verdict]](0)

        async def worker(items: MemoryObjectReceiveStream[tuple[str, Entry, Entry | None, Verdict]]) -> None:
            async with items:
                async for rel, s, d, verdict in items:
                    await job.copy(rel, s, d, verdict)

        async with anyio.create_task_group() as tg:
            with todo:
                for _ in range(jobs):
                    tg.start_soon(worker, todo.clone())
            async with (
                work,
                src_listing.read_ahead(tg, window) as src_items,
                dst_listing.read_ahead(tg, window) as dst_items,
            ):
                pairs = merge_join(iterate(src_items), iterate(dst_items))
                async with contextlib.aclosing(pairs):
                    async for rel, s, d in pairs:
                        if s is None:
                            if delete:
                                deletes.add(rel)
                            continue
                        if d is not None:
                            if jr is not None and jr.is_done(rel, s.metadata, d.metadata):
                                verdict = Verdict.SAME
                            else:
                                verdict = quick_verdict(compare, s.metadata, d.metadata)
                            if verdict is Verdict.SAME:
                                job.report.skipped += 1
                                await job.event(Event("skip", rel, s.metadata.content_length))
                                continue
                        else:
                            verdict = Verdict.DIFFER
                        await work.send((rel, s, d, verdict))
        await job.delete_missing(deletes, src_listing.seen)
        if job.report.failed == 0:
            await job.abort_stale_uploads()
        if jr is not None:
            jr.flush()
        return job.report


async def sync(
    src: Operator,
    src_path: str,
    dst: Operator,
    dst_path: str,
    *,
    compare: str = "size_mtime",
    delete: bool = False,
    dry_run: bool = False,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    jobs: int = DEFAULT_JOBS,
    chunk: int | None = None,
    concurrent: int | None = None,
    journal: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    executor: Any = None,
    bwlimit: int | None = None,
    on_event: OnEvent | None = None,
    window: int = DEFAULT_WINDOW,
    server_side: bool | None = None,
) -> TransferReport:
    """Make the tree below ``dst_path`` of ``dst`` hold what is below
    ``src_path`` of ``src``: copy what is missing or differs, and with
    ``delete=True`` delete what the source lacks.

    Args:
        src, src_path: the source operator and directory (``""`` or ``"/"``: its root).
        dst, dst_path: the destination operator and directory.
        compare: how an object present on both sides is judged the same:
            ``"size_mtime"`` (default), ``"size"``, ``"checksum"`` or
            ``"etag"`` (see :mod:`pystorage.transfer.compare`).
        delete: delete destination objects the source lacks — after every
            copy succeeded, never in a run with failures; refused (``NotFound``)
            when the source lists nothing at all.
        dry_run: decide and report (``on_event``, the report's counts) but
            change nothing.
        include, exclude: rclone-like globs on paths relative to the two
            directories (see :mod:`pystorage.transfer.filters`); applied to both
            sides, so excluded destination objects are never deleted.
        jobs: objects compared or copied at once (default 8).
        chunk: part size of uploads (default: 8 MiB, raised to the
            destination's minimum part size).
        concurrent: parts of one object in flight (default 4). Memory held
            is at most ``jobs × chunk × (concurrent + 2)`` plus the listing
            windows.
        journal: a local file (SQLite) recording progress, so that a run
            killed at any point and started again skips what is done and
            verified and resumes large objects from the parts already
            uploaded (destinations with the ``multipart`` capability).
        progress: ``progress(done_bytes, planned_bytes)``, called as bytes
            move; ``planned_bytes`` grows while the listing is read.
        executor: a ``dask.distributed.Client``: run the copies as tasks on
            its workers (see :mod:`pystorage.transfer.executor`).
        bwlimit: bytes per second read from the source, for the whole job.
            Not with ``executor=`` (``ConfigInvalid``): the workers' reads
            share no budget.
        on_event: called with an :class:`~pystorage.transfer.Event` per
            object copied, skipped, deleted or failed (sync or async).
        window: listing entries buffered ahead per side (default 1000).
        server_side: copy with the service's own copy. Default (``None``):
            when ``src is dst`` (one operator: same service, account and
            config); ``False`` always streams. Distinct operators always
            stream, since equal ``info`` does not prove the same endpoint,
            credentials or encryption.

    Returns:
        What was done. Failures of single objects are counted in the report
        (``failed``, ``errors``), not raised; failures of a listing are raised.

    Raises:
        ConfigInvalid: a bad argument, overlapping trees in one operator, a
            journal of another job, or ``journal=`` or ``bwlimit=`` with
            ``executor=``.
        NotFound: ``delete=True`` with an empty or missing source.

    Warning:
        ``delete=True`` deletes data. Run with ``dry_run=True`` first.
    """
    return await _run(
        src, src_path, dst, dst_path,
        compare=compare, delete=delete, dry_run=dry_run, include=include, exclude=exclude, jobs=jobs,
        chunk=chunk, concurrent=concurrent, journal=journal, progress=progress, executor=executor,
        bwlimit=bwlimit, on_event=on_event, window=window, server_side=server_side,
    )


async def copy_tree(
    src: Operator,
    src_path: str,
    dst: Operator,
    dst_path: str,
    *,
    compare: str = "size_mtime",
    dry_run: bool = False,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    jobs: int = DEFAULT_JOBS,
    chunk: int | None = None,
    concurrent: int | None = None,
    journal: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    executor: Any = None,
    bwlimit: int | None = None,
    on_event: OnEvent | None = None,
    window: int = DEFAULT_WINDOW,
    server_side: bool | None = None,
) -> TransferReport:
    """:func:`sync` without deletes: copy what is missing or differs, touch nothing else."""
    return await _run(
        src, src_path, dst, dst_path,
        compare=compare, delete=False, dry_run=dry_run, include=include, exclude=exclude, jobs=jobs,
        chunk=chunk, concurrent=concurrent, journal=journal, progress=progress, executor=executor,
        bwlimit=bwlimit, on_event=on_event, window=window, server_side=server_side,
    )


async def check(
    src: Operator,
    src_path: str,
    dst: Operator,
    dst_path: str,
    *,
    compare: str = "size_mtime",
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    jobs: int = DEFAULT_JOBS,
    window: int = DEFAULT_WINDOW,
) -> CheckReport:
    """Compare two trees without changing either.

    Args:
        compare: as for :func:`sync`; ``"checksum"`` compares the bytes'
            MD5 (reported checksums where both sides have one, else hashed).
        include, exclude, jobs, window: as for :func:`sync`.

    Returns:
        The objects missing on either side and those that differ.
    """
    _check_args(compare, jobs, None, None, window)
    sp, dp = _prefix(src_path), _prefix(dst_path)
    keep = PathFilter(include, exclude)
    report = CheckReport()
    job = _Job(
        src, sp, dst, dp, compare=compare, dry_run=True, settings=CopySettings(), journal=None,
        throttle=None, progress=None, on_event=None,
    )
    slots = anyio.Semaphore(jobs)
    differ: list[str] = []

    async def by_checksum(rel: str, s: Metadata, d: Metadata) -> None:
        try:
            if await job.same_by_checksum(rel, s, d):
                report.matched += 1
            else:
                differ.append(rel)
        except Exception as exc:
            report.failed.append(FailedObject(rel, _one_line(exc)))
        finally:
            slots.release()

    async with anyio.create_task_group() as tg:
        async with (
            Listing(src, sp, keep).read_ahead(tg, window) as src_items,
            Listing(dst, dp, keep).read_ahead(tg, window) as dst_items,
        ):
            pairs = merge_join(iterate(src_items), iterate(dst_items))
            async with contextlib.aclosing(pairs):
                async for rel, s, d in pairs:
                    if d is None:
                        report.missing_on_dst.append(rel)
                    elif s is None:
                        report.missing_on_src.append(rel)
                    else:
                        verdict = quick_verdict(compare, s.metadata, d.metadata)
                        if verdict is Verdict.SAME:
                            report.matched += 1
                        elif verdict is Verdict.DIFFER:
                            differ.append(rel)
                        else:
                            await slots.acquire()
                            tg.start_soon(by_checksum, rel, s.metadata, d.metadata)
    report.differ = sorted(differ)
    return report
