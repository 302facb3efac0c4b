"""The worker-thread hand-off: cancellation never leaves a call running behind the caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import anyio
import anyio.to_thread
import pytest

from pystorage.services.fs import threads

pytestmark = pytest.mark.anyio


async def test_the_result_and_the_error_come_back() -> None:
    assert await threads.run_sync(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await threads.run_sync(divmod, 1, 0)


async def test_nothing_starts_in_a_cancelled_scope(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted: list[object] = []
    if anyio_backend == "asyncio":  # record what reaches the pool (a started call would race the cancel)

        class Recording:
            def submit(self, func: Callable[..., Any], *args: Any) -> Future[Any]:
                submitted.append(func)
                done: Future[Any] = Future()
                done.set_result(func(*args))
                return done

        monkeypatch.setattr(threads, "_executor", Recording)
    calls: list[int] = []
    with anyio.CancelScope() as scope:
        scope.cancel()
        await threads.run_sync(calls.append, 1)
    assert scope.cancelled_caught
    await anyio.sleep(0.05)  # a call that had been handed to a thread would have run by now
    assert calls == [] and submitted == []


async def test_a_cancelled_caller_waits_for_its_thread() -> None:
    started, finished = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        time.sleep(0.2)
        finished.set()

    async def call() -> None:
        await threads.run_sync(work)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        assert await anyio.to_thread.run_sync(started.wait, 5.0)
        tg.cancel_scope.cancel()
    assert finished.is_set()  # the task group ended only once the call had finished


async def test_a_shielded_call_runs_in_a_cancelled_scope() -> None:
    calls: list[int] = []
    with anyio.CancelScope() as scope:
        scope.cancel()
        await threads.run_shielded(calls.append, 1)
    assert calls == [1]
