"""The synchronous ``with`` protocol of an object that has a ``close()``."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import TypeVar

__all__ = ["ClosesOnExit"]

_Self = TypeVar("_Self", bound="ClosesOnExit")


class ClosesOnExit(abc.ABC):
    """A mixin: ``with obj:`` gives ``obj`` and calls ``obj.close()`` on the way
    out, error or not (as :class:`contextlib.closing` and files do). A subclass
    whose exit depends on the error overrides ``__exit__``."""

    @abc.abstractmethod
    def close(self) -> object:
        """Release what the object holds."""

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
