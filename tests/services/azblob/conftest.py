"""Fixtures of the azblob driver tests (asyncio only: the driver is built on aiohttp).

The servers (``azurite``, ``azurite_proxy``) come from ``tests/fixtures/azurite.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pystorage import Operator
from tests.conftest import make_random_root


@pytest.fixture
def anyio_backend() -> str:
    """The azblob driver is asyncio-only."""
    return "asyncio"


@pytest.fixture
def root() -> str:
    """A fresh random root for this test."""
    return make_random_root("azblob")


@pytest.fixture
async def make_op() -> AsyncIterator[Callable[..., Operator]]:
    """``make_op(**config)``: an azblob Operator, closed after the test."""
    made: list[Operator] = []

    def make(**config: Any) -> Operator:
        op = Operator("azblob", **config)
        made.append(op)
        return op

    yield make
    for op in made:
        await op.close()
