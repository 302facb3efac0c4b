"""Deleting many paths: batches where the service has them, else concurrent
single deletes (``Operator.delete_many`` and ``Operator.remove_all``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .raw.accessor import Accessor
from .raw.ops import OpDelete
from .raw.path import normalize_path
from .raw.tasks import run_concurrently

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = ["delete_paths", "remove_tree"]

#: paths deleted concurrently on services without batches
DELETE_CONCURRENCY = 8


async def delete_paths(
    accessor: Accessor,
    paths: Iterable[str] | AsyncIterable[str],
    context: Callable[[str, str], contextlib.AbstractContextManager[None]],
) -> None:
    """Delete ``paths`` (any iterable or async iterable) in batches of the
    service's ``delete_max_size``, or :data:`DELETE_CONCURRENCY` at a time;
    ``context(operation, path)`` gives errors their context."""
    batch_size = accessor.info().capability.delete_max_size or 1
    batch: list[str] = []

    async def flush() -> None:
        todo = [p for p in batch if p != "/"]
        batch.clear()
        if not todo:
            return
        with context("delete", todo[0] if len(todo) == 1 else ""):
            if batch_size > 1:
                await accessor.delete_batch(todo)
            else:

                def deleter(p: str) -> Callable[[], Any]:
                    return lambda: accessor.delete(p, OpDelete())

                await run_concurrently([deleter(p) for p in todo], DELETE_CONCURRENCY)

    async with contextlib.aclosing(_iter_paths(paths)) as it:
        async for path in it:
            batch.append(normalize_path(path))
            if len(batch) >= max(batch_size, DELETE_CONCURRENCY * 4):
                await flush()
    await flush()


async def remove_tree(op: Operator, path: str) -> None:
    """Delete directory ``path`` (ending with ``/``), everything below it
    first, deepest directories last."""
    dirs: list[str] = []

    async def files() -> AsyncGenerator[str, None]:
        async for entry in op.list(path, recursive=True):
            if entry.path.endswith("/"):
                dirs.append(entry.path)
            else:
                yield entry.path

    async with contextlib.aclosing(files()) as paths:
        await op.delete_many(paths)
    for d in sorted(dirs, key=lambda d: d.count("/"), reverse=True):
        await op.delete(d)
    if path != "/":
        await op.delete(path)


async def _iter_paths(paths: Iterable[str] | AsyncIterable[str]) -> AsyncGenerator[str, None]:
    if isinstance(paths, str):
        raise TypeError("delete_many takes an iterable of paths, not a single str")
    if isinstance(paths, AsyncIterable):
        async for path in paths:
            yield path
    else:
        for path in paths:
            yield path
