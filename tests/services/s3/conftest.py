"""Fixtures of the s3 driver tests (asyncio only: aiobotocore is an asyncio library).

The servers (``moto_s3``, ``rclone_s3``, ``s3_proxy``) come from
``tests/fixtures/s3.py``; run with ``-p tests.fixtures.s3`` until it is
registered in ``tests/conftest.py``. Tests taking ``server`` or ``accessor``
run against both servers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pystorage.services import build_accessor
from pystorage.services.s3 import S3Accessor
from tests.conftest import make_random_root
from tests.fixtures.s3 import S3Server


@pytest.fixture
def anyio_backend() -> str:
    """The s3 driver is asyncio-only."""
    return "asyncio"


@pytest.fixture(params=["moto", "rclone"])
def server(request: pytest.FixtureRequest) -> S3Server:
    """Each real S3 server in turn."""
    found: S3Server = request.getfixturevalue(f"{request.param}_s3")
    return found


@pytest.fixture
def root() -> str:
    """A fresh random root for this test."""
    return make_random_root("s3")


@pytest.fixture
async def build() -> AsyncIterator[Callable[[dict[str, Any]], S3Accessor]]:
    """``build(config)``: an accessor from a config dict, closed after the test."""
    made: list[S3Accessor] = []

    def make(config: dict[str, Any]) -> S3Accessor:
        accessor = build_accessor("s3", config)  # SSE config keys applied as the Operator does
        made.append(accessor)
        return accessor

    yield make
    for accessor in made:
        await accessor.close()


@pytest.fixture
def accessor(server: S3Server, root: str, build: Callable[[dict[str, Any]], S3Accessor]) -> S3Accessor:
    """An accessor on ``server``'s test bucket under this test's root."""
    return build(server.config(root))
