"""What a transfer did (:class:`TransferReport`) and what a check found (:class:`CheckReport`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

__all__ = ["MAX_ERRORS", "CheckReport", "Event", "FailedObject", "TransferReport"]

#: failures kept (with their messages) in a report; the count goes on past it
MAX_ERRORS = 100

#: what happened to one object
Action = Literal["copy", "delete", "skip", "fail"]


@dataclasses.dataclass(frozen=True, slots=True)
class FailedObject:
    """One object that could not be transferred: its path (relative to the
    source or destination prefix) and the error's one-line message."""

    path: str
    error: str


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One object's outcome, passed to a transfer's ``on_event`` callback.

    Attributes:
        action: ``"copy"``, ``"delete"``, ``"skip"`` or ``"fail"``; in a dry
            run ``"copy"`` and ``"delete"`` are what *would* be done.
        path: relative to the source prefix (the destination prefix for deletes).
        size: bytes of the object (``None`` when unknown).
        how: for copies: ``"server-side"``, ``"stream"`` or ``"multipart"``
            (``"resumed"`` when parts of an earlier run were reused).
        error: the failure's message, for ``"fail"``.
    """

    action: Action
    path: str
    size: int | None = None
    how: str | None = None
    error: str | None = None


@dataclasses.dataclass(slots=True)
class TransferReport:
    """The result of :func:`~pystorage.transfer.sync` or :func:`~pystorage.transfer.copy_tree`.

    Attributes:
        copied: objects copied (or, in a dry run, that would be).
        skipped: objects already identical at the destination.
        deleted: destination objects deleted (``sync(delete=True)``).
        failed: objects that could not be copied or deleted.
        bytes: bytes copied, counting server-side copies at their size
            (0 in a dry run).
        bytes_resumed: bytes of multipart parts a previous, interrupted run
            had already uploaded, reused rather than sent again.
        server_side: how many of the copies the service made itself.
        dry_run: nothing was changed.
        errors: the first :data:`MAX_ERRORS` failures.
    """

    copied: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: int = 0
    bytes: int = 0
    bytes_resumed: int = 0
    server_side: int = 0
    dry_run: bool = False
    errors: list[FailedObject] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """``True`` when nothing failed."""
        return self.failed == 0

    def add_failure(self, path: str, error: str) -> None:
        """Count one failure (its message is kept for the first :data:`MAX_ERRORS`)."""
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FailedObject(path, error))

    def as_dict(self) -> dict[str, Any]:
        """Every field, JSON-able."""
        out = dataclasses.asdict(self)
        out["ok"] = self.ok
        return out


@dataclasses.dataclass(slots=True)
class CheckReport:
    """The result of :func:`~pystorage.transfer.check`.

    Paths are relative to the two prefixes, in listing (lexicographic) order.

    Attributes:
        missing_on_dst: objects of the source the destination lacks.
        missing_on_src: objects of the destination the source lacks.
        differ: objects on both sides that are not the same (by the compare mode).
        matched: objects found identical.
        failed: objects that could not be compared (read errors), with messages.
    """

    missing_on_dst: list[str] = dataclasses.field(default_factory=list)
    missing_on_src: list[str] = dataclasses.field(default_factory=list)
    differ: list[str] = dataclasses.field(default_factory=list)
    matched: int = 0
    failed: list[FailedObject] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """``True`` when both sides hold the same objects and every one matched."""
        return not (self.missing_on_dst or self.missing_on_src or self.differ or self.failed)

    def as_dict(self) -> dict[str, Any]:
        """Every field, JSON-able."""
        out = dataclasses.asdict(self)
        out["ok"] = self.ok
        return out
