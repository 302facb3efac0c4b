"""Small structured-concurrency helpers on anyio, shared by the engines."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import anyio

__all__ = ["aclose_iterator", "call_maybe_async", "call_progress", "run_concurrently"]

T = TypeVar("T")


async def run_concurrently(funcs: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run ``funcs`` with at most ``limit`` in flight; results in input order.

    The first failure cancels the others and is re-raised as itself (not
    wrapped in an exception group). Cancellation propagates unchanged.
    """
    if len(funcs) == 1:
        return [await funcs[0]()]
    results: list[Any] = [None] * len(funcs)
    failure: list[Exception] = []
    limiter = anyio.CapacityLimiter(max(1, limit))

    async with anyio.create_task_group() as tg:

        async def run(index: int, func: Callable[[], Awaitable[T]]) -> None:
            async with limiter:
                try:
                    results[index] = await func()
                except Exception as exc:
                    if not failure:
                        failure.append(exc)
                    tg.cancel_scope.cancel()

        for index, func in enumerate(funcs):
            tg.start_soon(run, index, func)
    if failure:
        raise failure[0]
    return results


async def call_progress(
    callback: Callable[[int, int | None], Any] | None, done: int, total: int | None
) -> None:
    """Call a sync or async ``progress(done, total)`` callback, if any."""
    if callback is not None:
        await call_maybe_async(callback, done, total)


async def call_maybe_async(func: Callable[..., Any], *args: Any) -> None:
    """Call ``func(*args)`` and await the result if it is awaitable."""
    result = func(*args)
    if inspect.isawaitable(result):
        await result


async def aclose_iterator(it: object) -> None:
    """Close an async iterator if it can be closed (async generators can)."""
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        await aclose()
