"""The frame of a driver's ``map_errors``, written once.

Every HTTP driver runs its requests inside a ``map_errors`` context manager
that fills in the context of pystorage errors raised in the block and turns
native errors into pystorage ones, chained as ``__cause__``. What differs
between drivers is only which native errors they meet and what they become:
a driver writes that as a *translate* function (native error → pystorage
error, or ``None`` for an error it does not translate) and builds its
``map_errors`` as an :class:`ErrorContext` with it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from ..errors import Error, Unexpected
from .redact import redact

__all__ = ["ErrorContext", "Translate", "temporary_error", "transport_error"]

#: a driver's translation of a native error (``None``: not one it translates)
Translate = Callable[[Exception], Error | None]


class ErrorContext:
    """A context manager filling in the operation, path and service of a
    pystorage error raised in the block (the Operator wraps every call in one);
    with ``translate`` (a driver's ``map_errors``), any other ``Exception`` goes
    to ``translate`` and the error it returns is raised from it. An error it does
    not translate (``None``), and anything that is not an ``Exception``
    (cancellation), passes through untouched.

    A class, not a ``@contextmanager`` generator: every call enters one or
    two, and this costs a third as much.

    Args:
        operation: the pystorage operation (``"read"``, ``"write"`` ...).
        path: the path it works on, relative to the root.
        service: the scheme, put on the errors.
        translate: a driver's translation of its native errors.
    """

    __slots__ = ("operation", "path", "service", "translate")

    def __init__(self, operation: str, path: str, service: str, translate: Translate | None = None) -> None:
        self.operation = operation
        self.path = path
        self.service = service
        self.translate = translate

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            return
        if isinstance(exc, Error):
            exc.with_context(operation=self.operation, path=self.path, service=self.service)
        elif self.translate is not None and isinstance(exc, Exception):
            mapped = self.translate(exc)
            if mapped is not None:
                raise mapped from exc


def temporary_error(text: str, *, operation: str, path: str, service: str) -> Unexpected:
    """A temporary :class:`~pystorage.errors.Unexpected` (a retry may succeed)
    with the redacted ``text``: a failed transport, a malformed answer."""
    return Unexpected(redact(text), operation=operation, path=path, service=service, temporary=True)


def transport_error(exc: BaseException, *, operation: str, path: str, service: str) -> Unexpected:
    """The temporary error of a transport failure (a refused or dropped
    connection, a timeout, a short body): ``"ClientOSError: ..."``, redacted."""
    return temporary_error(f"{type(exc).__name__}: {exc}", operation=operation, path=path, service=service)
