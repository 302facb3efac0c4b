"""The one place where the fs driver turns ``OSError`` into pystorage errors.

Mapping (by exception class first, then by ``errno`` for the rest):

=============================  =====================================
native                         pystorage
=============================  =====================================
``FileNotFoundError``          :class:`~pystorage.errors.NotFound`
``PermissionError``            :class:`~pystorage.errors.PermissionDenied`
``IsADirectoryError``          :class:`~pystorage.errors.IsADirectory`
``NotADirectoryError``         :class:`~pystorage.errors.NotADirectory`
``FileExistsError``            :class:`~pystorage.errors.AlreadyExists`
``shutil.SameFileError``       :class:`~pystorage.errors.IsSameFile`
``ENAMETOOLONG``               :class:`~pystorage.errors.InvalidPath`
any other ``OSError``          :class:`~pystorage.errors.Unexpected`
                               (temporary for ``EAGAIN``/``EBUSY``/``EINTR``)
=============================  =====================================

The native error is chained as ``__cause__``. Messages carry the OS reason
(``strerror``) but never the absolute path on disk: ``Error.path`` is the
path relative to the operator's root.
"""

from __future__ import annotations

import errno
import shutil
from types import TracebackType

from ...errors import (
    AlreadyExists,
    Error,
    InvalidPath,
    IsADirectory,
    IsSameFile,
    NotADirectory,
    NotFound,
    PermissionDenied,
    Unexpected,
)

__all__ = ["SERVICE", "from_os_error", "map_os_errors"]

#: the ``service`` field of every error this driver raises
SERVICE = "fs"

_BY_CLASS: tuple[tuple[type[OSError], type[Error]], ...] = (
    (FileNotFoundError, NotFound),
    (PermissionError, PermissionDenied),
    (IsADirectoryError, IsADirectory),
    (NotADirectoryError, NotADirectory),
    (FileExistsError, AlreadyExists),
    (shutil.SameFileError, IsSameFile),
)

_TEMPORARY_ERRNOS = frozenset({errno.EAGAIN, errno.EBUSY, errno.EINTR})


def from_os_error(exc: OSError, *, operation: str, path: str) -> Error:
    """The pystorage error for a native ``OSError`` (not chained yet: ``raise ... from exc``).

    Args:
        exc: the native error.
        operation: the operation that failed (``"read"`` ...).
        path: the path it failed on, relative to the root.
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    for native, mapped in _BY_CLASS:
        if isinstance(exc, native):
            return mapped(reason, operation=operation, path=path, service=SERVICE)
    if exc.errno == errno.ENAMETOOLONG:
        return InvalidPath(reason, operation=operation, path=path, service=SERVICE)
    return Unexpected(
        reason,
        operation=operation,
        path=path,
        service=SERVICE,
        temporary=exc.errno in _TEMPORARY_ERRNOS,
    )


class map_os_errors:
    """Translate errors raised in the block (a context manager).

    pystorage errors pass through with their empty context fields filled in;
    any other ``OSError`` is translated by :func:`from_os_error` and chained.
    A class rather than a ``@contextmanager`` generator: it wraps every
    operation, and this costs a third as much.

    Args:
        operation: the operation name put on the error.
        path: the path (relative to the root) put on the error.
    """

    __slots__ = ("operation", "path")

    def __init__(self, operation: str, path: str) -> None:
        self.operation = operation
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            return
        if isinstance(exc, Error):  # our own errors are OSErrors too: let them through first
            exc.with_context(operation=self.operation, path=self.path, service=SERVICE)
        elif isinstance(exc, OSError):
            raise from_os_error(exc, operation=self.operation, path=self.path) from exc
