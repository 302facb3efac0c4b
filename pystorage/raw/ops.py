"""Options of each accessor call, as frozen keyword-only dataclasses.

Drivers take ``(path, op)`` so that a new option changes no signature.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
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
    "Operation",
]


class Operation(str, enum.Enum):
    """One member per accessor call, for layers, logs, errors and metrics.

    A member *is* the call's public name, the string errors
    (``Error.operation``), log records and spans carry::

        Operation.INITIATE_MULTIPART == "create_multipart"   # True
        f"{Operation.DELETE_BATCH}"                           # "delete_many"

    ``.value`` is the accessor method's name (``"initiate_multipart"``).
    ``write`` (opening a streamed writer) and ``write_once`` are one kind of
    write to users, so both are named ``"write"``, yet they are two members:
    a layer can tell a one-shot write from a stream being opened. Members
    compare by identity with each other (``WRITE_ONCE != WRITE``) and by name
    with plain strings (``WRITE_ONCE == "write"``).
    """

    def __new__(cls, method: str, public: str | None = None) -> Operation:
        member = str.__new__(cls, public or method)
        member._value_ = method
        return member

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str(self), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Operation):
            return self is other
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    STAT = "stat"
    CREATE_DIR = "create_dir"
    READ = "read"
    WRITE = "write"
    WRITE_ONCE = "write_once", "write"
    INITIATE_MULTIPART = "initiate_multipart", "create_multipart"
    WRITE_PART = "write_part"
    COMPLETE_MULTIPART = "complete_multipart"
    ABORT_MULTIPART = "abort_multipart"
    LIST_PARTS = "list_parts"
    LIST_MULTIPART_UPLOADS = "list_multipart_uploads"
    DELETE = "delete"
    DELETE_BATCH = "delete_batch", "delete_many"
    LIST = "list"
    COPY = "copy"
    RENAME = "rename"
    PRESIGN = "presign"

    @property
    def streams(self) -> bool:
        """Whether the call opens a stream (``read``, ``write``) whose life the
        layer's reader/writer wrapper follows past the call."""
        return self in _STREAMS


#: the operations that open a stream
_STREAMS = frozenset({Operation.READ, Operation.WRITE})


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _ObjectOptions:
    """What ``stat`` and ``read`` share: the version, the conditions, the SSE spec."""

    version: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: dt.datetime | None = None
    if_unmodified_since: dt.datetime | None = None
    sse: SseSpec | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpStat(_ObjectOptions):
    """Options of ``stat``."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpRead(_ObjectOptions):
    """Options of one ranged read: bytes ``[offset, offset + size)``;
    ``size=None`` reads to the end."""

    offset: int = 0
    size: int | None = None

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
