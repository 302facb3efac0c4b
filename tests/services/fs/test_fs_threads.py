"""The worker-thread hand-off: cancellation never leaves a call running behind the caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
    if anyio_backend == "asyncio":  # record what reaches the workers (a started call would race the cancel)
        submit = threads._workers.submit

        def recording(loop: Any, func: Callable[..., Any], args: tuple[object, ...]) -> Any:
            submitted.append(func)
            return submit(loop, func, args)

        monkeypatch.setattr(threads._workers, "submit", recording)
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


async def test_many_concurrent_calls_each_get_their_own_result() -> None:
    results: dict[int, int] = {}

    async def call(i: int) -> None:
        results[i] = await threads.run_sync(pow, i, 2)

    async with anyio.create_task_group() as tg:
        for i in range(500):  # far more than workers: results are delivered in batches
            tg.start_soon(call, i)
    assert results == {i: i * i for i in range(500)}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # trio has its own thread limiter
async def test_a_queued_call_of_a_cancelled_caller_never_runs(anyio_backend: str) -> None:
    release = threading.Event()
    ran: list[int] = []
    blockers_started = threading.Semaphore(0)

    def block() -> None:
        blockers_started.release()
        release.wait(5.0)

    async with anyio.create_task_group() as busy:
        for _ in range(threads._WORKERS):  # every worker busy: the next call stays queued
            busy.start_soon(threads.run_sync, block)
        for _ in range(threads._WORKERS):
            assert await anyio.to_thread.run_sync(blockers_started.acquire, True, 5.0)
        with anyio.move_on_after(0.05) as scope:
            await threads.run_sync(ran.append, 1)
        assert scope.cancelled_caught
        release.set()
    await threads.run_sync(time.sleep, 0)  # the queue has been worked through by now
    assert ran == []


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_bare_task_cancel_waits_for_the_thread(anyio_backend: str) -> None:
    import asyncio

    started, finished = threading.Event(), threading.Event()

    def work() -> int:
        started.set()
        time.sleep(0.2)
        finished.set()
        return 1

    task = asyncio.ensure_future(threads.run_sync(work))
    assert await anyio.to_thread.run_sync(started.wait, 5.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()


def test_one_loop_after_another() -> None:
    import asyncio

    for i in range(3):  # each loop has its own delivery state; a closed one is not reused
        assert asyncio.run(threads.run_sync(pow, i, 3)) == i**3
