"""Options of each accessor call, as frozen keyword-only dataclasses.

Drivers take ``(path, op)`` so that a new option changes no signature.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from ..sse import SseSpec

__all__ = [
    "OpCopy",
    "OpCreateDir",
    "OpDelete",
    "OpList",
    "OpPresign",
    "OpRead",
    "OpRename",
    "OpStat",
    "OpWrite",
]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpStat:
    """Options of ``stat``."""

    version: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: dt.datetime | None = None
    if_unmodified_since: dt.datetime | None = None
    sse: SseSpec | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpRead:
    """Options of one ranged read: bytes ``[offset, offset + size)``;
    ``size=None`` reads to the end."""

    offset: int = 0
    size: int | None = None
    version: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: dt.datetime | None = None
    if_unmodified_since: dt.datetime | None = None
    sse: SseSpec | None = None

    def shifted(self, delivered: int) -> OpRead:
        """The same read, resumed after ``delivered`` bytes."""
        size = None if self.size is None else self.size - delivered
        return dataclasses.replace(self, offset=self.offset + delivered, size=size)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpWrite:
    """Options of a write (one-shot, streamed or multipart)."""

    content_type: str | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    user_metadata: Mapping[str, str] | None = None
    if_not_exists: bool = False
    if_match: str | None = None
    if_none_match: str | None = None
    append: bool = False
    chunk: int | None = None
    concurrent: int = 1
    sse: SseSpec | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpList:
    """Options of ``list``: ``start_after`` is relative to the root."""

    recursive: bool = False
    limit: int | None = None
    start_after: str | None = None
    versions: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpDelete:
    """Options of ``delete``."""

    version: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpCreateDir:
    """Options of ``create_dir``."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpCopy:
    """Options of ``copy``."""

    sse: SseSpec | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpRename:
    """Options of ``rename``."""

    sse: SseSpec | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpPresign:
    """Options of a presign: ``method`` is ``"GET"``, ``"PUT"`` or ``"HEAD"``."""

    method: str
    expire: dt.timedelta
    write: OpWrite | None = None
    sse: SseSpec | None = None
