"""The worker-thread hand-off of the ``fs`` driver: one per operation, as cheap as the backend allows.

Measured at 64 concurrent ``open + pread + close`` calls (``docs/performance.md``,
"fs round 4"), CPU per call including the work: ``asyncio.to_thread`` (the raw
``os`` line) 19–21 µs, a :class:`~concurrent.futures.ThreadPoolExecutor`'s
``submit`` awaited through :func:`asyncio.wrap_future` 18–25 µs,
``anyio.to_thread.run_sync`` about 100 µs; the work alone costs 1.4–1.9 µs.
Most of a pool's cost is its machinery per call (a ``concurrent.futures.Future``
with its condition variable, the chained asyncio future, and one
``call_soon_threadsafe`` — a write to the loop's self-pipe and a wake-up — per
result). So under asyncio the calls go to this module's own workers
(:class:`_Workers`): a call is a slot object on a :class:`queue.SimpleQueue`,
a finished call is appended to its loop's deque, and the loop is woken once
for every batch of finished calls, not once per call (4.2–4.7 µs per call,
work included). Under trio the calls go to ``trio.to_thread.run_sync``
directly (anyio adds ~10 % on top of it); any other backend uses anyio's helper.

Whatever the backend, a call made in an already cancelled scope never
starts, and a cancelled caller still waits for a call that has started in
its thread (a call not started yet never runs), so a file is never used by
two threads and nothing happens after the cancellation returns.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import os
import queue
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

__all__ = ["run_shielded", "run_sync"]

T = TypeVar("T")

#: as many threads as asyncio's default executor (the raw-``os`` baseline):
#: more threads only add GIL hand-overs on a small machine
_WORKERS = min(32, (os.cpu_count() or 1) + 4)


def _cancel_checkpoint() -> Callable[[], Awaitable[None]]:
    """anyio's "a cancelled scope stops here" check for asyncio, without the
    backend lookup (``sniffio``) of :func:`anyio.lowlevel.checkpoint_if_cancelled`
    (4.1 µs per call against 1.4 µs); anyio's public helper where its asyncio
    backend class is not where this anyio version keeps it."""
    try:
        from anyio._backends._asyncio import AsyncIOBackend

        check: Callable[[], Awaitable[None]] = AsyncIOBackend.checkpoint_if_cancelled
    except (ImportError, AttributeError):  # pragma: no cover - another anyio layout
        check = anyio.lowlevel.checkpoint_if_cancelled
    return check


class _Call:
    """One call handed to a worker, and its outcome."""

    __slots__ = ("args", "claim", "finished", "func", "future", "loop", "ok", "value", "waiter")

    def __init__(self, func: Callable[..., Any], args: tuple[object, ...], future: asyncio.Future[Any],
                 loop: _Loop) -> None:
        self.func = func
        self.args = args
        self.future = future
        self.loop = loop
        #: popped (atomically) by whoever gets the call first: a worker runs it, a canceller drops it
        self.claim: list[None] = [None]
        self.ok = False
        self.value: Any = None
        #: set on the loop once the outcome has been delivered
        self.finished = False
        #: what a cancelled caller waits on (made only when one waits)
        self.waiter: asyncio.Future[None] | None = None


class _Loop:
    """The finished calls of one event loop, delivered in batches: a worker
    appends a call and wakes the loop only if no delivery is pending yet."""

    __slots__ = ("__weakref__", "done", "loop", "pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)  # a closed loop's state does not keep it alive
        self.done: collections.deque[_Call] = collections.deque()
        self.pending = False

    def finished(self, call: _Call) -> None:
        """(worker thread) Queue ``call``'s outcome for delivery on the loop."""
        self.done.append(call)
        if not self.pending:
            self.pending = True
            loop = self.loop()
            if loop is None:
                return
            try:
                loop.call_soon_threadsafe(self.deliver)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

    def deliver(self) -> None:
        """(event loop) Hand every finished call's outcome to its caller.

        ``pending`` is cleared before the deque is emptied, so a call
        appended meanwhile is either taken here or schedules another delivery.
        """
        self.pending = False
        pop = self.done.popleft
        while self.done:
            call = pop()
            future = call.future
            if not future.done():  # a cancelled caller's future is done already
                if call.ok:
                    future.set_result(call.value)
                else:
                    future.set_exception(call.value)
            call.finished = True
            call.value = None
            waiter = call.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


class _Workers:
    """``_WORKERS`` daemon threads taking calls from one queue (started on
    first use; joined at interpreter exit after the calls queued before it)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop] = weakref.WeakKeyDictionary()
        self._last: _Loop | None = None
        self.check_cancelled = _cancel_checkpoint()

    def loop_state(self, loop: asyncio.AbstractEventLoop) -> _Loop:
        """The delivery state of ``loop`` (the workers start with the first loop)."""
        last = self._last
        if last is not None and last.loop() is loop:
            return last
        with self._lock:
            state = self._loops.get(loop)
            if state is None:
                state = self._loops[loop] = _Loop(loop)
            if not self._threads:
                for i in range(_WORKERS):
                    thread = threading.Thread(target=self._work, name=f"pystorage-fs-{i}", daemon=True)
                    thread.start()
                    self._threads.append(thread)
        self._last = state
        return state

    def submit(
        self, loop: asyncio.AbstractEventLoop, func: Callable[..., Any], args: tuple[object, ...]
    ) -> _Call:
        """Queue ``func(*args)`` for a worker; its outcome arrives in the returned call's future."""
        call = _Call(func, args, loop.create_future(), self.loop_state(loop))
        self.queue.put(call)
        return call

    def _work(self) -> None:
        get = self.queue.get
        while True:
            call = get()
            if call is None:
                return
            try:
                call.claim.pop()
            except IndexError:  # its caller was cancelled before it started
                continue
            try:
                call.value = call.func(*call.args)
                call.ok = True
            except BaseException as exc:  # handed to the caller, as a pool's future does
                call.value = exc
            call.loop.finished(call)
            del call  # hold no result while idle

    def stop(self) -> None:
        """Let the workers finish what is queued, then end them (at exit)."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self.queue.put(None)
        for thread in threads:
            thread.join()


_workers = _Workers()
atexit.register(lambda: _workers.stop())


def _new_workers_after_fork() -> None:  # a child has none of its parent's threads
    global _workers
    _workers = _Workers()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_workers_after_fork)


def _in_trio() -> bool:
    trio = sys.modules.get("trio")
    return trio is not None and bool(trio.lowlevel.in_trio_task())


async def _finish(call: _Call) -> None:
    """Wait, shielded, for a call that a cancellation could not stop."""
    with anyio.CancelScope(shield=True):
        while not call.finished:
            if call.waiter is None:
                call.waiter = call.future.get_loop().create_future()
            try:
                await asyncio.wait([call.waiter])
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
        workers = _workers
        await workers.check_cancelled()  # in a cancelled scope, nothing starts
        call = workers.submit(loop, func, args)
        try:
            result: T = await call.future
            return result
        except asyncio.CancelledError:
            try:
                call.claim.pop()  # not started: it never will
            except IndexError:  # running (or done) already: wait for it
                await _finish(call)
            raise
    import trio.to_thread  # only reached on trio, which is then imported

    return await trio.to_thread.run_sync(func, *args)


async def run_shielded(func: Callable[..., T], *args: object) -> T:
    """Like :func:`run_sync` but shielded from cancellation: for cleanup
    (abort, close) that must run even in a cancelled scope."""
    with anyio.CancelScope(shield=True):
        result = await run_sync(func, *args)
    return result
