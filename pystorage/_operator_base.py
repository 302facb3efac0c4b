"""What every part of the :class:`~pystorage.Operator` stands on: its
accessor, the service's facts, and the path and capability checks."""

from __future__ import annotations

from . import errors
from ._options import Options
from .raw.accessor import Accessor, AccessorInfo
from .raw.error_map import ErrorContext
from .raw.path import normalize_path
from .types import Capability, OperatorInfo

__all__ = ["ErrorContext", "OperatorBase", "quick_normalize"]


def quick_normalize(path: str) -> str:
    """:func:`~pystorage.raw.path.normalize_path`, with the common case first: a
    ``str`` with no leading ``/``, no ``//``, no segment starting with ``.``
    and no NUL is normalised already (one pass of three substring tests
    instead of a split and a join; ~0.2 µs instead of ~1 µs per call)."""
    if (
        type(path) is str
        and path
        and path[0] not in "/."
        and "//" not in path
        and "/." not in path
        and "\x00" not in path
    ):
        return path
    return normalize_path(path)


class OperatorBase:
    """The accessor an operator drives and the checks of its calls."""

    _accessor: Accessor
    _info: AccessorInfo
    _options: Options

    def _set_accessor(self, accessor: Accessor) -> None:
        self._accessor = accessor
        self._info = info = accessor.info()  # static: read once, not per call
        self._options = Options(info.scheme, info.capability)

    def capability(self) -> Capability:
        """What this service, as configured, can do (frozen)."""
        return self._info.capability

    @property
    def info(self) -> OperatorInfo:
        """Scheme, root and name of the service."""
        info = self._info
        return OperatorInfo(info.scheme, info.root, info.name)

    def _context(self, operation: str, path: str) -> ErrorContext:
        """Fill in the operation, path and service of an error raised inside."""
        return ErrorContext(operation, path, self._info.scheme)

    def _require(self, ok: object, operation: str, path: str, what: str) -> None:
        self._options.require(ok, operation, path, what)

    def _file_path(self, path: str, operation: str) -> str:
        """``path`` normalised; a directory path (``a/``) raises ``IsADirectory``."""
        p = quick_normalize(path)
        if p.endswith("/"):
            raise errors.IsADirectory(
                "a path ending with '/' names a directory",
                operation=operation,
                path=p,
                service=self._info.scheme,
            )
        return p
