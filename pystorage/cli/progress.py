"""Progress bars for transfers, drawn with ``rich`` on standard error.

Bars are shown only when standard output and standard error are both
terminals, ``TERM`` is not ``dumb``, and neither ``--quiet`` nor ``--json``
was given; otherwise every call here does nothing. Without ``rich``
installed the command works the same, without bars.

A :class:`Transfers` holds one overall bar (bytes and files done) and one bar
per object in flight that is at least :data:`FILE_BAR_MIN` bytes long. Its
:meth:`Transfers.file` returns a callback taking ``(done, total)``, the
signature of pystorage's ``progress=`` hooks.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import IO, Any, TypeVar

__all__ = ["FILE_BAR_MIN", "FileProgress", "LiveBars", "Transfers", "progress_enabled", "transfer_bars"]

#: objects smaller than this get no bar of their own (they still count in the total)
FILE_BAR_MIN = 4 * 1024 * 1024


def progress_enabled(*, quiet: bool, json_output: bool, streams: tuple[IO[Any], ...] | None = None) -> bool:
    """Whether progress bars should be drawn.

    Args:
        quiet: ``--quiet`` was given.
        json_output: ``--json`` was given.
        streams: the streams that must all be terminals (default: standard
            output and standard error).
    """
    if quiet or json_output or os.environ.get("TERM") == "dumb":
        return False
    for stream in streams if streams is not None else (sys.stdout, sys.stderr):
        try:
            if not stream.isatty():
                return False
        except (AttributeError, ValueError):  # closed or not a real stream
            return False
    return True


def transfer_bars(description: str, console: Any = None) -> Any:
    """A ``rich`` progress display with the columns of a transfer (label, bar,
    bytes, rate, ETA) on ``console`` (default: standard error), or ``None``
    without ``rich`` (it is optional: no bars then)."""
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:
        return None
    return Progress(
        TextColumn(description, justify="left"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console if console is not None else Console(stderr=True),
        transient=False,
    )


_Live = TypeVar("_Live", bound="LiveBars")


class LiveBars:
    """A context manager around ``bars``, a ``rich`` display (``None``: draw
    nothing): started on entering, stopped on leaving."""

    bars: Any = None

    def __enter__(self: _Live) -> _Live:
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bars is not None:
            self._finish(ok=exc_type is None)
            self.bars.stop()

    def _finish(self, *, ok: bool) -> None:
        """Runs just before the bars stop (``ok``: without an exception); nothing by default."""


class FileProgress:
    """The progress of one object; call it as ``progress(done, total)``.

    Created by :meth:`Transfers.file`; :meth:`done` marks the object finished.
    """

    def __init__(self, owner: Transfers, description: str, size: int | None) -> None:
        self._owner = owner
        self._description = description
        self._size = size
        self._seen = 0
        self._task: Any = None
        if owner.bars is not None and (size is None or size >= FILE_BAR_MIN or owner.single):
            self._task = owner.bars.add_task(description, total=size)

    def __call__(self, done: int, total: int | None) -> None:
        """Record that ``done`` bytes of ``total`` (``None``: unknown) were transferred."""
        delta = done - self._seen
        self._seen = done
        bars = self._owner.bars
        if bars is None:
            return
        if self._task is not None:
            bars.update(self._task, completed=done, total=total if total is not None else self._size)
        if delta and self._owner.overall is not None:
            bars.advance(self._owner.overall, delta)

    def done(self) -> None:
        """The object is finished: drop its bar (a single transfer keeps it) and count it."""
        bars = self._owner.bars
        if bars is None:
            return
        if self._task is not None and not self._owner.single:
            bars.remove_task(self._task)
        self._task = None
        self._owner.count_file()


class Transfers(LiveBars):
    """Progress of one command's transfers (a context manager).

    Args:
        enabled: draw bars (see :func:`progress_enabled`); when ``False`` every
            method does nothing.
        single: one object is transferred (one bar, kept at the end) rather
            than a tree (an overall bar plus one per large object in flight).
        description: the overall bar's label (default ``"copying"``).
        console: the ``rich`` console to draw on (default: standard error).
    """

    def __init__(
        self, *, enabled: bool, single: bool = False, description: str = "copying", console: Any = None
    ) -> None:
        self.single = single
        self.bars: Any = None
        self.overall: Any = None
        self._files = 0
        self._description = description
        if not enabled:
            return
        self.bars = transfer_bars("[progress.description]{task.description}", console)
        if self.bars is None:
            return
        if not single:
            self.overall = self.bars.add_task(self._overall_label(), total=None)

    def _overall_label(self) -> str:
        return f"{self._description} ({self._files} file{'' if self._files == 1 else 's'} done)"

    def count_file(self) -> None:
        """Count one finished object in the overall bar."""
        self._files += 1
        if self.bars is not None and self.overall is not None:
            self.bars.update(self.overall, description=self._overall_label())

    def file(self, description: str, size: int | None) -> FileProgress:
        """Start tracking one object of ``size`` bytes (``None``: unknown)."""
        return FileProgress(self, description, size)

    def _finish(self, *, ok: bool) -> None:
        """A tree copied without error ends with its overall bar full."""
        if self.overall is not None and ok:
            overall = next(t for t in self.bars.tasks if t.id == self.overall)
            self.bars.update(self.overall, total=overall.completed, completed=overall.completed)
