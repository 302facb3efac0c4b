"""What every part of the :class:`~pystorage.Operator` stands on: its
accessor, the service's facts, and the path and capability checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from . import errors
from ._options import Options
from .raw.accessor import Accessor, AccessorInfo
from .raw.path import normalize_path
from .types import Capability, OperatorInfo

__all__ = ["OperatorBase"]


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

    @contextlib.contextmanager
    def _context(self, operation: str, path: str) -> Iterator[None]:
        """Fill in the operation, path and service of an error raised inside."""
        try:
            yield
        except errors.Error as exc:
            exc.with_context(operation=operation, path=path, service=self._info.scheme)
            raise

    def _require(self, ok: object, operation: str, path: str, what: str) -> None:
        self._options.require(ok, operation, path, what)

    def _file_path(self, path: str, operation: str) -> str:
        """``path`` normalised; a directory path (``a/``) raises ``IsADirectory``."""
        p = normalize_path(path)
        if p.endswith("/"):
            raise errors.IsADirectory(
                "a path ending with '/' names a directory",
                operation=operation,
                path=p,
                service=self._info.scheme,
            )
        return p
