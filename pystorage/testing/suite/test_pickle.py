"""Portable operators: ``pickle`` round-trips every service's operator with its
layers (and ``BlockingOperator``); the copy opens its own clients lazily;
secrets survive the trip but never show in ``repr``."""

from __future__ import annotations

import copy
import logging
import pickle
import time
from typing import Any

import pytest

from pystorage import Operator
from pystorage.layers import (
    ChaosLayer,
    ConcurrentLimitLayer,
    LoggingLayer,
    RetryLayer,
    TimeoutLayer,
)
from pystorage.raw.layer import LayeredAccessor
from pystorage.raw.session import LazySession

from ..case import ServiceCase

LAYERS = (
    LoggingLayer(logger="pystorage.test-pickle", level=logging.DEBUG),
    RetryLayer(max_times=2, min_delay=0.01, max_delay=0.05),
    TimeoutLayer(timeout=30.0, io_timeout=10.0),
    ConcurrentLimitLayer(8),
    ChaosLayer(error_ratio=0.0, seed=7),
)


def _chain(op: Operator) -> list[str]:
    """The class names of the accessor chain, outermost first."""
    names = []
    accessor: Any = op.accessor
    while isinstance(accessor, LayeredAccessor):
        names.append(type(accessor).__name__)
        accessor = accessor.inner
    names.append(type(accessor).__name__)
    return names


def _secrets(op: Operator) -> list[str]:
    origin = op._origin
    assert origin is not None
    config = origin[1]
    keys = ("secret_access_key", "access_key_id", "credential", "token")
    return [str(config[k]) for k in keys if config.get(k)]


def _layered(service_case: ServiceCase, random_root: str, request: pytest.FixtureRequest) -> Operator:
    # two .layer() calls: the recipe must keep the order across calls
    return service_case.make(request, random_root).layer(*LAYERS[2:]).layer(*LAYERS[:2])


def test_pickle_round_trip_keeps_layers_and_config(
    service_case: ServiceCase, random_root: str, request: pytest.FixtureRequest
) -> None:
    op = _layered(service_case, random_root, request)
    copied = pickle.loads(pickle.dumps(op))
    assert isinstance(copied, Operator)
    assert _chain(copied) == _chain(op)
    assert _chain(copied)[:5] == [
        "_LoggingAccessor",
        "_RetryAccessor",
        "_TimeoutAccessor",
        "_ConcurrentLimitAccessor",
        "_ChaosAccessor",
    ]
    assert copied.info == op.info
    assert copied.capability() == op.capability()
    assert copied.accessor is not op.accessor
    assert copied._origin == op._origin  # secrets survive the round trip ...
    for secret in _secrets(op):  # ... but never show
        assert secret not in repr(op) and secret not in repr(copied)
        assert secret not in repr(op.blocking())


def test_pickled_copy_reads_what_the_original_wrote(
    service_case: ServiceCase, random_root: str, request: pytest.FixtureRequest
) -> None:
    original = _layered(service_case, random_root, request).blocking()
    try:
        original.write("dir/object", b"written before pickling")
        copied = pickle.loads(pickle.dumps(original))
        try:
            if service_case.scheme == "memory":
                # a memory operator's copy is a new, empty store
                assert not copied.exists("dir/object")
                copied.write("dir/object", b"written before pickling")
            assert copied.read("dir/object") == b"written before pickling"
            copied.write("dir/second", b"from the copy")
            if service_case.scheme != "memory":
                assert original.read("dir/second") == b"from the copy"
        finally:
            copied.close()
    finally:
        original.close()


def test_copy_module_rebuilds(
    service_case: ServiceCase, random_root: str, request: pytest.FixtureRequest
) -> None:
    op = _layered(service_case, random_root, request)
    for clone in (copy.copy(op), copy.deepcopy(op)):
        assert _chain(clone) == _chain(op) and clone.accessor is not op.accessor


def test_from_accessor_operator_is_not_picklable() -> None:
    op = Operator.from_accessor(Operator("memory").accessor)
    with pytest.raises(TypeError, match="from_accessor"):
        pickle.dumps(op)


def test_every_public_layer_config_pickles() -> None:
    from pystorage import sse
    from pystorage.layers import ServerSideEncryptionLayer

    layers = (*LAYERS, ServerSideEncryptionLayer(sse.CustomerKey(b"k" * 32)))
    for layer in layers:
        assert pickle.loads(pickle.dumps(layer)) == layer
    assert "k" * 32 not in repr(layers[-1])


# fork safety --------------------------------------------------------------------------------------

#: Python 3.12+ warns about fork() in a process with threads (the servers, the loop thread)
#: seconds a forked child may take (a child waiting on its parent's threads never ends)
CHILD_TIMEOUT = 30.0

fork_warning = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def _connection_holders(op: Operator) -> list[object]:
    """The parent's objects that hold connections or threads: the s3 client and
    its HTTP transport, the gcs session."""
    accessor: Any = op.accessor
    while isinstance(accessor, LayeredAccessor):
        accessor = accessor.inner
    core = getattr(accessor, "_core", None)
    names = ("_client", "_http", "_session")
    holders = [getattr(core, n) for n in names if getattr(core, n, None) is not None]
    # a LazySession outlives a fork; the aiohttp session inside it is what holds connections
    return [h._session if isinstance(h, LazySession) else h for h in holders]


def _holder_ids(blocking: Any) -> list[int]:
    return [id(x) for x in (*_connection_holders(blocking._op), blocking._portal)]


def _child_blocking(blocking: Any, queue: Any) -> None:
    try:
        parent = _holder_ids(blocking)  # as the fork left them (reset by the fork hooks)
        blocking.write("from-child", b"child bytes")
        data = blocking.read("shared")
        mine = [id(x) for x in (*_connection_holders(blocking._op), blocking._portal)]
        blocking.close()
        queue.put(("ok", data, parent, mine))
    except BaseException as exc:  # report, never hang the parent
        queue.put(("error", repr(exc), [], []))


def _run_child(target: Any, *args: Any) -> tuple[Any, ...]:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    return proc, queue


def _finish(proc: Any, queue: Any) -> tuple[Any, ...]:
    import queue as queue_module

    try:
        result: tuple[Any, ...] = queue.get(timeout=CHILD_TIMEOUT)
    except queue_module.Empty:
        proc.kill()
        pytest.fail("the forked child hung (it reused the parent's loop thread or connections?)")
    proc.join(timeout=30)
    assert result[0] == "ok", result[1]
    return result


@fork_warning
def test_forked_child_uses_its_own_connections_and_thread(
    service_case: ServiceCase, blocking_op: Any
) -> None:
    blocking_op.write("shared", b"parent bytes")
    assert blocking_op.read("shared") == b"parent bytes"  # clients and loop thread are open
    assert blocking_op._portal is not None
    before_fork = _holder_ids(blocking_op)
    proc, queue = _run_child(_child_blocking, blocking_op)
    deadline = time.monotonic() + CHILD_TIMEOUT
    while proc.is_alive() and queue.empty() and time.monotonic() < deadline:  # the parent keeps working
        assert blocking_op.read("shared") == b"parent bytes"
    _, data, parent_ids, child_ids = _finish(proc, queue)
    assert data == b"parent bytes"
    assert parent_ids and not set(parent_ids) & set(child_ids), "the child reused a parent's connection"
    assert not set(before_fork) & set(child_ids), "the child reused a parent's connection"
    assert blocking_op.read("shared") == b"parent bytes"
    if service_case.scheme != "memory":  # a forked memory store is the child's own copy
        assert blocking_op.read("from-child") == b"child bytes"


def _child_async(op: Operator, queue: Any) -> None:
    import asyncio

    async def work() -> bytes:
        await op.write("from-child", b"child bytes")
        data = await op.read("shared")
        await op.close()
        return data

    try:
        parent = [id(x) for x in _connection_holders(op)]
        data = asyncio.run(work())
        queue.put(("ok", data, parent, []))
    except BaseException as exc:
        queue.put(("error", repr(exc), [], []))


@fork_warning
@pytest.mark.anyio
async def test_fork_from_inside_a_running_loop(
    service_case: ServiceCase, op: Operator, anyio_backend: str
) -> None:
    """``os.fork()`` while the parent's loop is running (multiprocessing from
    async code): the child runs its own loop on its own connections."""
    import anyio.lowlevel

    if anyio_backend == "trio":
        pytest.skip("trio keeps its run state in the forked child (trio.run refuses to nest); asyncio only")

    await op.write("shared", b"parent bytes")
    proc, queue = _run_child(_child_async, op)
    deadline = time.monotonic() + CHILD_TIMEOUT
    while proc.is_alive() and queue.empty() and time.monotonic() < deadline:
        assert await op.read("shared") == b"parent bytes"
        await anyio.lowlevel.checkpoint()
    _, data, _, _ = _finish(proc, queue)
    assert data == b"parent bytes"
    assert await op.read("shared") == b"parent bytes"
    if service_case.scheme != "memory":
        assert await op.read("from-child") == b"child bytes"
