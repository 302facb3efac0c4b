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
from ...raw.error_map import ErrorContext

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


def map_os_errors(operation: str, path: str) -> ErrorContext:
    """Translate errors raised in the block (a context manager).

    pystorage errors pass through with their empty context fields filled in;
    any other ``OSError`` is translated by :func:`from_os_error` and chained
    (the drivers' one :class:`~pystorage.raw.error_map.ErrorContext`).

    Args:
        operation: the operation name put on the error.
        path: the path (relative to the root) put on the error.
    """

    def translate(exc: Exception) -> Error | None:
        return from_os_error(exc, operation=operation, path=path) if isinstance(exc, OSError) else None

    return ErrorContext(operation, path, SERVICE, translate)
