"""Fixtures of the gcs driver tests (asyncio only: gcloud-aio and aiohttp are asyncio libraries).

The server fixtures (``gcs_server``, ``gcs_proxy``, ``gcs_service_account``)
come from ``tests/fixtures/gcs.py``; run with ``-p tests.fixtures.gcs`` until
it is registered in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from pystorage import Operator
from tests.conftest import make_random_root
from tests.fixtures.gcs import FakeGcsServer
from tests.fixtures.gcs_proxy import GcsProxy


@pytest.fixture
def anyio_backend() -> str:
    """The gcs driver is asyncio-only."""
    return "asyncio"


@pytest.fixture
def proxy(gcs_proxy: GcsProxy) -> Iterator[GcsProxy]:
    """The session proxy, with its records and faults cleared for this test."""
    gcs_proxy.clear()
    yield gcs_proxy
    gcs_proxy.clear()


@pytest.fixture
def root() -> str:
    """A fresh random root for this test."""
    return make_random_root("gcs")


@pytest.fixture
async def make_op(
    gcs_server: FakeGcsServer, proxy: GcsProxy, root: str
) -> AsyncIterator[Callable[..., Operator]]:
    """``make_op(**config)``: an operator on the test bucket through the proxy,
    under this test's root (config keys override); closed after the test."""
    made: list[Operator] = []

    def make(**config: Any) -> Operator:
        values: dict[str, Any] = {
            "bucket": gcs_server.bucket,
            "root": root,
            "endpoint": proxy.url,
            "disable_config_load": True,
        }
        values.update(config)
        op = Operator("gcs", **values)
        made.append(op)
        return op

    yield make
    for op in made:
        await op.close()
