"""The frame of a driver's ``map_errors``, written once.

Every HTTP driver runs its requests inside a ``map_errors`` context manager
that fills in the context of pystorage errors raised in the block and turns
native errors into pystorage ones, chained as ``__cause__``. What differs
between drivers is only which native errors they meet and what they become:
a driver writes that as a *translate* function (native error → pystorage
error, or ``None`` for an error it does not translate) and builds its
``map_errors`` with :func:`mapping_errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from ..errors import Error, Unexpected
from .redact import redact

__all__ = ["Translate", "mapping_errors", "temporary_error", "transport_error"]

#: a driver's translation of a native error (``None``: not one it translates)
Translate = Callable[[Exception], Error | None]


@contextlib.contextmanager
def mapping_errors(operation: str, path: str, service: str, translate: Translate) -> Iterator[None]:
    """Run a block, translating what it raises.

    A pystorage error passes through with its empty context fields filled in;
    any other ``Exception`` goes to ``translate`` and the error it returns is
    raised from it; one it does not translate (``None``), and anything that is
    not an ``Exception`` (cancellation), passes through untouched.

    Args:
        operation: the pystorage operation (``"read"``, ``"write"`` ...).
        path: the path it works on, relative to the root.
        service: the driver's scheme, put on the errors.
        translate: the driver's translation of its native errors.
    """
    try:
        yield
    except Error as exc:
        exc.with_context(operation=operation, path=path, service=service)
        raise
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        raise mapped from exc


def temporary_error(text: str, *, operation: str, path: str, service: str) -> Unexpected:
    """A temporary :class:`~pystorage.errors.Unexpected` (a retry may succeed)
    with the redacted ``text``: a failed transport, a malformed answer."""
    return Unexpected(redact(text), operation=operation, path=path, service=service, temporary=True)


def transport_error(exc: BaseException, *, operation: str, path: str, service: str) -> Unexpected:
    """The temporary error of a transport failure (a refused or dropped
    connection, a timeout, a short body): ``"ClientOSError: ..."``, redacted."""
    return temporary_error(f"{type(exc).__name__}: {exc}", operation=operation, path=path, service=service)
