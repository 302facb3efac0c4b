"""Finite by default: a stalled server fails a call within the configured bound.

Each test configures short transport timeouts (``read_timeout=0.5``,
``connect_timeout`` and ``pool_timeout`` of 1 s or less), makes the fault proxy
stall one request (before its status line, after its headers, or in the middle
of its body) and checks that the call ends within :data:`BOUND` seconds with a
temporary :class:`~pystorage.errors.Unexpected`, and that under a
``RetryLayer`` the next attempt (not stalled) returns exactly the bytes.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer
from tests.conftest import make_random_root
from tests.fixtures.fault_proxy import (
    Action,
    FaultTarget,
    StallAfterHeaders,
    StallBeforeStatus,
    StallMidBody,
    StallReadingBody,
    When,
)

#: seconds without a byte before a request fails, in these tests
READ_TIMEOUT = 0.5
#: the longest any stalled call may take here (the read timeout plus slack for a loaded machine)
BOUND = 5.0
#: the object the tests read (large enough that a stall can come mid-body)
DATA = os.urandom(300 * 1024)


@pytest.fixture
def anyio_backend() -> str:
    """aiobotocore and gcloud-aio are asyncio-only."""
    return "asyncio"



@pytest.fixture
def root() -> str:
    """A fresh root for this test."""
    return make_random_root("stall")


@pytest.fixture
async def make_op(target: FaultTarget, root: str) -> AsyncIterator[Callable[..., Operator]]:
    """``make_op(**config)``: an operator through the proxy with short timeouts; closed afterwards."""
    made: list[Operator] = []

    def make(**overrides: Any) -> Operator:
        config = {"read_timeout": READ_TIMEOUT, "connect_timeout": 1.0, "pool_timeout": 1.0, **overrides}
        op = Operator(target.scheme, **target.config(root, **config))
        made.append(op)
        return op

    yield make
    for op in made:
        await op.close()


def _retrying(op: Operator) -> Operator:
    return op.layer(RetryLayer(max_times=2, min_delay=0.01, max_delay=0.05, jitter=False))


# which request each operation sends, per service ---------------------------------------------------
def _object_get(target: FaultTarget, key: str) -> When:
    if target.scheme == "gcs":
        return When(method="GET", path=f"/o/{key}", query={"alt": "media"})
    return When(method="GET", path=f"/{key}")


def _object_head(target: FaultTarget, key: str) -> When:
    if target.scheme == "gcs":  # objects.get without alt=media
        return When(method="GET", path=f"/o/{key}", predicate=lambda r: "alt" not in r.query)
    return When(method="HEAD", path=f"/{key}")


def _object_put(target: FaultTarget, key: str) -> When:
    if target.scheme == "gcs":
        return When(method="POST", path="/upload/")
    return When(method="PUT", path=f"/{key}")


def _listing(target: FaultTarget) -> When:
    if target.scheme == "gcs":
        return When(method="GET", query={"prefix": None})
    return When(method="GET", query={"list-type": "2"})


async def _timed(call: Awaitable[Any]) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        await call
    except Exception as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def _assert_temporary_stall(elapsed: float, exc: BaseException | None) -> None:
    assert isinstance(exc, errors.Unexpected), repr(exc)
    assert exc.temporary, exc
    assert elapsed < BOUND, f"the stalled call took {elapsed:.2f} s"


# the tests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "action",
    [StallBeforeStatus(), StallAfterHeaders(), StallMidBody(after=100 * 1024)],
    ids=["before-status", "after-headers", "mid-body"],
)
@pytest.mark.anyio
async def test_stalled_read_fails_within_the_bound(
    target: FaultTarget, root: str, make_op: Callable[..., Operator], action: Action
) -> None:
    op = make_op()
    await op.write("k", DATA)
    fault = target.proxy.inject(action, _object_get(target, f"{root}k"))
    elapsed, exc = await _timed(op.read("k"))
    _assert_temporary_stall(elapsed, exc)
    assert fault.hits == 1


@pytest.mark.parametrize(
    "action", [StallBeforeStatus(), StallMidBody(after=100 * 1024)], ids=["before-status", "mid-body"]
)
@pytest.mark.anyio
async def test_stalled_read_is_retried_to_exact_bytes(
    target: FaultTarget, root: str, make_op: Callable[..., Operator], action: Action
) -> None:
    op = _retrying(make_op())
    await op.write("k", DATA)
    fault = target.proxy.inject(action, _object_get(target, f"{root}k"))
    started = time.monotonic()
    got = await op.read("k")
    assert hashlib.sha256(got).digest() == hashlib.sha256(DATA).digest()
    assert fault.hits == 1
    assert time.monotonic() - started < BOUND


@pytest.mark.anyio
async def test_stalled_stat_fails_within_the_bound_and_is_retried(
    target: FaultTarget, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op()
    meta = await op.write("k", DATA)
    fault = target.proxy.inject(StallBeforeStatus(), _object_head(target, f"{root}k"), times=None)
    _assert_temporary_stall(*await _timed(op.stat("k")))
    target.proxy.reset()
    target.proxy.inject(StallBeforeStatus(), _object_head(target, f"{root}k"))
    stat = await _retrying(op).stat("k")
    assert stat.content_length == len(DATA) and stat.etag == meta.etag
    assert fault.hits >= 1


@pytest.mark.anyio
async def test_stalled_write_fails_within_the_bound_and_is_retried(
    target: FaultTarget, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op()
    fault = target.proxy.inject(StallBeforeStatus(), _object_put(target, f"{root}k"))
    _assert_temporary_stall(*await _timed(op.write("k", DATA)))
    assert fault.hits == 1
    assert not await op.exists("k")  # the stalled PUT was never forwarded
    target.proxy.inject(StallBeforeStatus(), _object_put(target, f"{root}k"))
    await _retrying(op).write("k", DATA)
    assert await op.read("k") == DATA


@pytest.mark.anyio
async def test_a_server_that_stops_reading_an_upload_fails_it_within_the_bound(
    target: FaultTarget, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op()
    big = os.urandom(16 * 1024 * 1024)  # far more than the socket buffers hold
    fault = target.proxy.inject(StallReadingBody(), _object_put(target, f"{root}k"))
    _assert_temporary_stall(*await _timed(op.write("k", big)))
    assert fault.hits == 1


@pytest.mark.parametrize(
    "action", [StallBeforeStatus(), StallAfterHeaders()], ids=["before-status", "after-headers"]
)
@pytest.mark.anyio
async def test_stalled_list_fails_within_the_bound_and_is_retried(
    target: FaultTarget, make_op: Callable[..., Operator], action: Action
) -> None:
    op = make_op()
    for name in ("a", "b", "c"):
        await op.write(name, b"x")
    target.proxy.inject(action, _listing(target))

    async def listing(o: Operator) -> list[str]:
        return [e.path async for e in o.list("/")]

    _assert_temporary_stall(*await _timed(listing(op)))
    target.proxy.inject(action, _listing(target))
    assert await listing(_retrying(op)) == ["a", "b", "c"]


@pytest.mark.anyio
async def test_pool_wait_is_bounded(target: FaultTarget, root: str, make_op: Callable[..., Operator]) -> None:
    # one pooled connection, held by a stalled read: a second call waits pool_timeout, no longer
    op = make_op(pool_size=1, pool_timeout=0.3, read_timeout=30.0)
    await op.write("held", b"h")
    await op.write("other", b"o")
    hold = target.proxy.inject(StallBeforeStatus(), _object_get(target, f"{root}held"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(_timed, op.read("held"))
        assert await anyio.to_thread.run_sync(hold.hit.wait, BOUND)
        elapsed, exc = await _timed(op.stat("other"))
        _assert_temporary_stall(elapsed, exc)
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("lean_http", [False], ids=["botocore"])
@pytest.mark.anyio
async def test_botocore_path_is_bounded_too(faulty_moto: FaultTarget, root: str, lean_http: bool) -> None:
    config = faulty_moto.config(root, read_timeout=READ_TIMEOUT, connect_timeout=1.0, lean_http=lean_http)
    async with Operator("s3", **config) as op:
        await op.write("k", DATA)
        proxy = faulty_moto.proxy
        proxy.inject(StallBeforeStatus(), When(method="HEAD", path=f"{root}k"))
        _assert_temporary_stall(*await _timed(op.stat("k")))
        proxy.inject(StallMidBody(after=1000), When(method="GET", path=f"{root}k"))
        _assert_temporary_stall(*await _timed(op.read("k")))
        proxy.inject(StallBeforeStatus(), When(method="GET", query={"list-type": "2"}))
        _assert_temporary_stall(*await _timed(op.stat("dir/")))
        proxy.inject(StallBeforeStatus(), When(method="PUT", path=f"{root}w"))
        _assert_temporary_stall(*await _timed(op.write("w", b"x")))
        proxy.inject(StallBeforeStatus(), When(method="POST", query={"uploads": None}))
        _assert_temporary_stall(*await _timed(op.write("big", DATA * 20, chunk=5 * 1024 * 1024)))
        assert await _retrying(op).read("k") == DATA


@pytest.mark.parametrize(
    "key,value",
    [
        ("read_timeout", 0),
        ("read_timeout", -1),
        ("read_timeout", float("inf")),
        ("connect_timeout", "soon"),
        ("pool_timeout", 0),
        ("pool_size", 0),
        ("pool_size", 1.5),
    ],
)
@pytest.mark.parametrize("scheme", ["s3", "gcs"])
def test_transport_keys_are_validated(scheme: str, key: str, value: object) -> None:
    with pytest.raises(errors.ConfigInvalid, match=key):
        Operator(scheme, bucket="b", endpoint="http://127.0.0.1:1", **{key: value})


@pytest.mark.parametrize("scheme", ["s3", "gcs"])
def test_transport_defaults_are_finite(scheme: str) -> None:
    from pystorage.raw.http import HttpLimits

    config = Operator(scheme, bucket="b", endpoint="http://127.0.0.1:1").accessor._config  # type: ignore[attr-defined]
    limits = HttpLimits.of(config)
    assert (limits.connect_timeout, limits.read_timeout, limits.pool_timeout, limits.pool_size) == (
        10.0,
        60.0,
        60.0,
        128,
    )
    timeout = limits.client_timeout()
    assert timeout.sock_read == 60.0 and timeout.sock_connect == 10.0 and timeout.connect == 70.0


@pytest.mark.parametrize("scheme", ["s3", "gcs"])
def test_transport_keys_from_a_uri(scheme: str) -> None:
    op = Operator.from_uri(f"{scheme}://b/?endpoint=http://127.0.0.1:1&read_timeout=2.5&pool_size=7")
    config = op.accessor._config  # type: ignore[attr-defined]
    assert (config.read_timeout, config.pool_size) == (2.5, 7)
