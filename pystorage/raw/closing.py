"""The ``with`` and ``await`` protocols of handles: closing on exit, opening on first use."""

from __future__ import annotations

import abc
from collections.abc import Generator
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["ClosesOnExit", "OpensOnFirstUse"]

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


_Handle = TypeVar("_Handle", bound="OpensOnFirstUse")


class OpensOnFirstUse(abc.ABC):
    """A mixin for a handle that opens on first use: ``await handle`` and
    ``async with handle`` open it (:meth:`_open`) and give the handle itself.
    The subclass writes ``__aexit__`` (what leaving means: close, commit or abort)."""

    @abc.abstractmethod
    async def _open(self) -> None:
        """Open the handle; once open, return at once."""

    async def _opened(self: _Handle) -> _Handle:
        await self._open()
        return self

    def __await__(self: _Handle) -> Generator[Any, None, _Handle]:
        return self._opened().__await__()

    async def __aenter__(self: _Handle) -> _Handle:
        return await self._opened()
