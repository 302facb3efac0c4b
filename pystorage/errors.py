"""The pystorage error tree.

Every error raised by pystorage is a :class:`Error`. Each kind of failure has
one subclass, named like its :class:`ErrorKind` value, and where Python has a
matching built-in ``OSError`` the subclass derives from it too, so
``except FileNotFoundError`` keeps working::

    try:
        await op.read("missing")
    except errors.NotFound:          # also a FileNotFoundError
        ...

``temporary`` tells whether trying again may succeed (rate limits, 5xx,
dropped connections, timeouts). :class:`~pystorage.layers.RetryLayer` retries
only temporary errors and marks the error persistent when it gives up.
The native error, when there is one, is chained as ``__cause__``.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "AlreadyExists",
    "ChecksumMismatch",
    "ConditionNotMatch",
    "ConfigInvalid",
    "DecryptionFailed",
    "Error",
    "ErrorKind",
    "InvalidPath",
    "IsADirectory",
    "IsSameFile",
    "NotADirectory",
    "NotFound",
    "PermissionDenied",
    "RangeNotSatisfied",
    "RateLimited",
    "Unexpected",
    "Unsupported",
    "error_for_kind",
]


class ErrorKind(enum.Enum):
    """What went wrong; each value is the name of the matching error class."""

    NOT_FOUND = "NotFound"
    PERMISSION_DENIED = "PermissionDenied"
    ALREADY_EXISTS = "AlreadyExists"
    IS_A_DIRECTORY = "IsADirectory"
    NOT_A_DIRECTORY = "NotADirectory"
    CONDITION_NOT_MATCH = "ConditionNotMatch"
    RATE_LIMITED = "RateLimited"
    RANGE_NOT_SATISFIED = "RangeNotSatisfied"
    IS_SAME_FILE = "IsSameFile"
    UNSUPPORTED = "Unsupported"
    CONFIG_INVALID = "ConfigInvalid"
    INVALID_PATH = "InvalidPath"
    UNEXPECTED = "Unexpected"
    CHECKSUM_MISMATCH = "ChecksumMismatch"
    DECRYPTION_FAILED = "DecryptionFailed"


class Error(Exception):
    """Base class of every pystorage error.

    Attributes:
        kind: the :class:`ErrorKind`.
        message: what went wrong, in words (never contains secrets).
        operation: the operation that failed (``"read"``, ``"write"`` ...), or ``""``.
        path: the path it failed on, relative to the operator's root, or ``""``.
        service: the service scheme (``"s3"``, ``"fs"`` ...), or ``""``.
        temporary: whether retrying may succeed.
        retry_after: seconds the service asked to wait before retrying, if it said.
    """

    kind: ErrorKind = ErrorKind.UNEXPECTED
    #: whether errors of this kind are temporary unless told otherwise
    default_temporary: bool = False

    def __init__(
        self,
        message: str = "",
        *,
        operation: str = "",
        path: str = "",
        service: str = "",
        temporary: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.path = path
        self.service = service
        self.temporary = self.default_temporary if temporary is None else temporary
        self.retry_after = retry_after

    def with_context(self, *, operation: str = "", path: str = "", service: str = "") -> Error:
        """Fill in the context fields that are still empty; returns ``self``."""
        self.operation = self.operation or operation
        self.path = self.path or path
        self.service = self.service or service
        return self

    def __str__(self) -> str:
        where = [
            f"{name}={value!r}"
            for name, value in (
                ("service", self.service),
                ("operation", self.operation),
                ("path", self.path),
            )
            if value
        ]
        if self.temporary:
            where.append("temporary")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.kind.value}: {self.message}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.operation,
                self.path,
                self.service,
                self.temporary,
                self.retry_after,
            ),
        )


def _rebuild(
    cls: type[Error],
    message: str,
    operation: str,
    path: str,
    service: str,
    temporary: bool,
    retry_after: float | None,
) -> Error:
    return cls(
        message, operation=operation, path=path, service=service, temporary=temporary, retry_after=retry_after
    )


class NotFound(Error, FileNotFoundError):
    """The object or directory does not exist."""

    kind = ErrorKind.NOT_FOUND


class PermissionDenied(Error, PermissionError):
    """The credentials do not allow this operation."""

    kind = ErrorKind.PERMISSION_DENIED


class AlreadyExists(Error, FileExistsError):
    """The target already exists."""

    kind = ErrorKind.ALREADY_EXISTS


class IsADirectory(Error, IsADirectoryError):
    """A file operation was given a directory path (one ending with ``/``)."""

    kind = ErrorKind.IS_A_DIRECTORY


class NotADirectory(Error, NotADirectoryError):
    """A directory operation met a file."""

    kind = ErrorKind.NOT_A_DIRECTORY


class ConditionNotMatch(Error):
    """A condition (``if_match``, ``if_not_exists`` ...) did not hold."""

    kind = ErrorKind.CONDITION_NOT_MATCH


class RateLimited(Error):
    """The service asked to slow down; temporary, honours ``retry_after``."""

    kind = ErrorKind.RATE_LIMITED
    default_temporary = True


class RangeNotSatisfied(Error):
    """The requested range starts past the end of the object."""

    kind = ErrorKind.RANGE_NOT_SATISFIED


class IsSameFile(Error):
    """Source and destination of a copy or rename are the same path."""

    kind = ErrorKind.IS_SAME_FILE


class Unsupported(Error):
    """The service (or this configuration of it) cannot do what was asked.

    Raised before any request is sent.
    """

    kind = ErrorKind.UNSUPPORTED


class ConfigInvalid(Error):
    """A configuration value is unknown or invalid; the message names the key."""

    kind = ErrorKind.CONFIG_INVALID


class InvalidPath(Error):
    """A path is refused (``..`` segment, NUL byte ...) before any I/O."""

    kind = ErrorKind.INVALID_PATH


class Unexpected(Error):
    """Anything else: server errors, broken connections, unknown failures."""

    kind = ErrorKind.UNEXPECTED


class ChecksumMismatch(Error):
    """Bytes did not match the checksum the service (or the upload) carried.

    Temporary by default: on a read, a retry re-reads the object.
    """

    kind = ErrorKind.CHECKSUM_MISMATCH
    default_temporary = True


class DecryptionFailed(Error):
    """Client-side encryption: wrong key, tampered, truncated or extended
    ciphertext, or an object that was never encrypted. Persistent."""

    kind = ErrorKind.DECRYPTION_FAILED


_BY_KIND: dict[ErrorKind, type[Error]] = {
    cls.kind: cls
    for cls in (
        NotFound,
        PermissionDenied,
        AlreadyExists,
        IsADirectory,
        NotADirectory,
        ConditionNotMatch,
        RateLimited,
        RangeNotSatisfied,
        IsSameFile,
        Unsupported,
        ConfigInvalid,
        InvalidPath,
        Unexpected,
        ChecksumMismatch,
        DecryptionFailed,
    )
}


def error_for_kind(kind: ErrorKind) -> type[Error]:
    """The error class of ``kind``."""
    return _BY_KIND[kind]
