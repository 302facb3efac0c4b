"""``pystorage sync`` and ``pystorage check``: whole trees between any two targets.

Both are thin over :mod:`pystorage.transfer`: ``sync SRC DST`` makes DST hold
what SRC holds (``--delete`` also removes what SRC lacks); ``check SRC DST``
compares them and changes nothing. Exit codes as for every command, plus:
``sync`` exits 1 when any object failed, ``check`` exits 1 when the trees
differ.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

from .. import errors
from ..transfer import CheckReport, Event, TransferReport, check, sync
from .commands import Context, UsageError
from .progress import LiveBars, transfer_bars

__all__ = ["JobProgress", "cmd_check", "cmd_sync", "compare_mode"]


def compare_mode(args: argparse.Namespace) -> str:
    """The compare mode from ``--checksum`` / ``--size-only`` / ``--compare``."""
    chosen = [m for m, on in (("checksum", args.checksum), ("size", args.size_only)) if on]
    if args.compare is not None:
        chosen.append(args.compare)
    if len(set(chosen)) > 1:
        raise UsageError("give one of --checksum, --size-only and --compare")
    return chosen[0] if chosen else "size_mtime"


def _compare_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options ``sync`` and ``check`` share: the compare mode, the filters and ``--jobs``."""
    return {
        "compare": compare_mode(args),
        "include": args.include or (),
        "exclude": args.exclude or (),
        "jobs": args.jobs,
    }


class JobProgress(LiveBars):
    """One ``rich`` bar for a whole job: bytes, objects, rate and ETA (a context manager).

    The total grows as the listing is read; with ``enabled=False`` (or
    without ``rich``) every method does nothing.
    """

    def __init__(self, *, enabled: bool, label: str) -> None:
        self._label = label
        self.bars: Any = None
        self._task: Any = None
        self.copied = self.skipped = self.deleted = self.failed = 0
        if not enabled:
            return
        self.bars = transfer_bars("{task.description}")
        if self.bars is None:
            return
        self._task = self.bars.add_task(self._describe(), total=None)

    def _describe(self) -> str:
        parts = [f"{self.copied} copied", f"{self.skipped} skipped"]
        if self.deleted:
            parts.append(f"{self.deleted} deleted")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return f"{self._label} ({', '.join(parts)})"

    def bytes(self, done: int, planned: int | None) -> None:
        """The ``progress(done, planned)`` callback of a transfer."""
        if self.bars is not None:
            self.bars.update(self._task, completed=done, total=planned or None)

    def event(self, event: Event) -> None:
        """Count one object's outcome."""
        name = {"copy": "copied", "skip": "skipped", "delete": "deleted", "fail": "failed"}[event.action]
        setattr(self, name, getattr(self, name) + 1)
        if self.bars is not None:
            self.bars.update(self._task, description=self._describe())



async def _trees(ctx: Context, args: argparse.Namespace) -> tuple[Any, str, Any, str]:
    src, dst = ctx.target(args.src), ctx.target(args.dst)
    if src.is_stdio or dst.is_stdio:
        raise UsageError(f"{args.command} takes two trees, not '-'")
    src_op = ctx.operator(src)
    if not src.names_dir:
        with contextlib.suppress(errors.NotFound):
            if (await src_op.stat(src.path)).is_file:
                raise UsageError(f"{src.display()!r} is a file: {args.command} takes directories (use cp)")
    return src_op, src.path, ctx.operator(dst), dst.path


async def cmd_sync(ctx: Context, args: argparse.Namespace) -> int:
    """``sync SRC DST``: copy what is missing or differs below SRC into DST;
    ``--delete`` also removes what SRC lacks; ``--dry-run`` only reports.

    Output: with ``--json`` one object per object copied, deleted or failed
    (``{"op": "copy", "path", "size", "how"}``) and a summary
    ``{"op": "sync", ...TransferReport}``; as text, with ``-v``, one line per
    object, then one summary line. Exit code 1 when any object failed.
    """
    src_op, src_path, dst_op, dst_path = await _trees(ctx, args)
    started = time.monotonic()
    verb = "would copy" if args.dry_run else "copy"

    with JobProgress(enabled=ctx.progress, label="syncing") as bars:

        def on_event(event: Event) -> None:
            bars.event(event)
            if event.action == "skip":
                return
            if ctx.json_output:
                record: dict[str, Any] = {"op": event.action, "path": event.path}
                if event.size is not None:
                    record["size"] = event.size
                if event.how is not None:
                    record["how"] = event.how
                if event.error is not None:
                    record["error"] = event.error
                if args.dry_run:
                    record["dry_run"] = True
                ctx.emit(record)
            elif event.action == "fail":
                ctx.note(f"failed: {event.path}: {event.error}")
            elif ctx.verbose:
                word = verb if event.action == "copy" else ("would delete" if args.dry_run else "delete")
                ctx.line(f"{word}: {event.path}")

        report: TransferReport = await sync(
            src_op, src_path, dst_op, dst_path, **_compare_options(args),
            delete=args.delete, dry_run=args.dry_run, chunk=args.chunk, concurrent=args.concurrent,
            journal=args.journal, progress=bars.bytes, bwlimit=args.bwlimit, on_event=on_event,
        )
    elapsed = time.monotonic() - started
    if ctx.json_output:
        ctx.emit({"op": "sync", **report.as_dict(), "seconds": round(elapsed, 3)})
    else:
        ctx.line(
            f"{'dry run: ' if report.dry_run else ''}{report.copied} copied, {report.skipped} skipped, "
            f"{report.deleted} deleted, {report.failed} failed; {report.bytes} bytes in {elapsed:.1f} s"
            + (f" ({report.bytes_resumed} bytes resumed)" if report.bytes_resumed else "")
        )
    return 0 if report.ok else 1


async def cmd_check(ctx: Context, args: argparse.Namespace) -> int:
    """``check SRC DST``: report objects missing on either side or differing.

    Output: with ``--json`` one object ``{"op": "check", ...CheckReport}``;
    as text one line per difference (``missing on destination: PATH``,
    ``missing on source: PATH``, ``differ: PATH``, ``failed: PATH: ERROR``)
    and a summary line. Exit code 1 when the trees differ.
    """
    src_op, src_path, dst_op, dst_path = await _trees(ctx, args)
    report: CheckReport = await check(src_op, src_path, dst_op, dst_path, **_compare_options(args))
    if ctx.json_output:
        ctx.emit({"op": "check", **report.as_dict()})
    else:
        for path in report.missing_on_dst:
            ctx.line(f"missing on destination: {path}")
        for path in report.missing_on_src:
            ctx.line(f"missing on source: {path}")
        for path in report.differ:
            ctx.line(f"differ: {path}")
        for failure in report.failed:
            ctx.line(f"failed: {failure.path}: {failure.error}")
        differences = len(report.missing_on_dst) + len(report.missing_on_src) + len(report.differ)
        ctx.line(f"{report.matched} matched, {differences} differences, {len(report.failed)} failed")
    return 0 if report.ok else 1
