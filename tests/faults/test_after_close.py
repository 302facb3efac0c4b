"""Calls after ``close()``: the operator reopens its pools cleanly, and the next
``close()`` closes them (decision documented in docs/guide/reliability.md).

Every aiohttp session and h1 pool (the default transport)
the drivers create during a test is tracked; after the final ``close()`` none
may be left open (an unclosed session leaks sockets and warns at garbage collection).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from pystorage import Operator
from pystorage.raw.h1 import H1Pool
from tests.conftest import make_random_root
from tests.fixtures.fault_proxy import FaultTarget


@pytest.fixture
def anyio_backend() -> str:
    """aiobotocore and gcloud-aio are asyncio-only."""
    return "asyncio"


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[aiohttp.ClientSession]]:
    """Every aiohttp session (and h1 pool) created during the test."""
    made: list[Any] = []
    for cls in (aiohttp.ClientSession, H1Pool):

        def init(self: Any, *args: Any, __original: Any = cls.__init__, **kwargs: Any) -> None:
            __original(self, *args, **kwargs)
            made.append(self)

        monkeypatch.setattr(cls, "__init__", init)
    yield made



@pytest.mark.parametrize("lean_http", [True, False], ids=["lean", "botocore"])
@pytest.mark.anyio
async def test_a_call_after_close_reopens_and_the_next_close_closes(
    target: FaultTarget, sessions: list[aiohttp.ClientSession], lean_http: bool
) -> None:
    extra = {"lean_http": lean_http} if target.scheme == "s3" else {}
    if target.scheme == "gcs" and not lean_http:
        pytest.skip("gcs has one request path")
    op = Operator(target.scheme, **target.config(make_random_root("close"), **extra))
    async with op:
        await op.write("k", b"first")
        await op.stat("k")
    assert sessions and all(s.closed for s in sessions)
    first = len(sessions)
    # used again after close: works, on new pools ...
    assert await op.read("k") == b"first"
    await op.write("k", b"second")
    assert [e.path async for e in op.list("/")] == ["k"]
    assert len(sessions) > first
    assert not all(s.closed for s in sessions)
    # ... which the next close() closes
    await op.close()
    assert all(s.closed for s in sessions), [s for s in sessions if not s.closed]
    await op.close()  # idempotent


@pytest.mark.anyio
async def test_layered_operators_share_one_lifecycle(
    target: FaultTarget, sessions: list[aiohttp.ClientSession]
) -> None:
    from pystorage.layers import RetryLayer

    base = Operator(target.scheme, **target.config(make_random_root("close")))
    layered = base.layer(RetryLayer())
    await layered.write("k", b"x")
    await base.close()  # closes the pools the layered operator opened: one accessor below both
    assert all(s.closed for s in sessions)
    assert await layered.read("k") == b"x"
    await layered.close()
    assert all(s.closed for s in sessions)
