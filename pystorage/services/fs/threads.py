"""The worker-thread hand-off of the ``fs`` driver: one per operation, as cheap as the backend allows.

Measured at 64 concurrent 4 KiB reads (``docs/performance.md``, "fs driver,
round 2"): ``anyio.to_thread.run_sync`` costs about 100 µs of CPU per call
under asyncio, a thread pool's ``submit`` awaited through
:func:`asyncio.wrap_future` (what ``loop.run_in_executor`` does) about 35 µs.
So under asyncio the calls go to a thread pool of the size of asyncio's
default executor; under trio they go to ``trio.to_thread.run_sync`` directly
(anyio adds ~10 % on top of it); any other backend uses anyio's helper.

Whatever the backend, a call made in an already cancelled scope never
starts, and a cancelled caller still waits for a call that has started in
its thread (a call not started yet never runs), so a file is never used by
two threads and nothing happens after the cancellation returns.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

__all__ = ["run_shielded", "run_sync"]

T = TypeVar("T")

#: as many threads as asyncio's default executor (the raw-``os`` baseline):
#: more threads only add GIL hand-overs on a small machine
_WORKERS = min(32, (os.cpu_count() or 1) + 4)
_checkpoint_if_cancelled = anyio.lowlevel.checkpoint_if_cancelled
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    pool = _pool
    if pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="pystorage-fs")
            pool = _pool
    return pool


def _forget_pool_after_fork() -> None:  # a child has none of its parent's threads
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _in_trio() -> bool:
    trio = sys.modules.get("trio")
    return trio is not None and bool(trio.lowlevel.in_trio_task())


async def _finish(future: Future[T], loop: asyncio.AbstractEventLoop) -> None:
    """Wait, shielded, for a call that a cancellation could not stop."""
    with anyio.CancelScope(shield=True):
        while not future.done():
            try:
                await asyncio.wait([asyncio.wrap_future(future, loop=loop)])
            except asyncio.CancelledError:  # a bare task.cancel(): still wait
                continue


async def run_sync(func: Callable[..., T], *args: object) -> T:
    """Run blocking ``func(*args)`` in a worker thread (one hand-off).

    A cancelled caller still waits for the thread to finish, so a file is
    never used by two threads.
    """
    if not _in_trio():
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # neither trio nor asyncio: anyio knows the backend
            return await anyio.to_thread.run_sync(func, *args)
        await _checkpoint_if_cancelled()  # in a cancelled scope, nothing starts (~1 µs)
        future = _executor().submit(func, *args)
        try:
            return await asyncio.wrap_future(future, loop=loop)
        except asyncio.CancelledError:
            if not future.cancel():  # running (or done) already: wait for it
                await _finish(future, loop)
            raise
    import trio.to_thread  # only reached on trio, which is then imported

    return await trio.to_thread.run_sync(func, *args)


async def run_shielded(func: Callable[..., T], *args: object) -> T:
    """Like :func:`run_sync` but shielded from cancellation: for cleanup
    (abort, close) that must run even in a cancelled scope."""
    with anyio.CancelScope(shield=True):
        result = await run_sync(func, *args)
    return result
