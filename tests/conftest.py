"""Generic test fixtures shared by every test package.

- ``anyio_backend``: async tests marked ``@pytest.mark.anyio`` run on asyncio
  and on trio. A package whose code is asyncio-only (an SDK built on asyncio)
  overrides it in its own ``conftest.py`` with a fixture returning
  ``"asyncio"``. The behaviour suite (``tests/behavior``) overrides it too and
  parametrises it per service case.
- ``random_root``: a fresh ``"behavior-<hex>/"`` root, so that tests sharing a
  server (or a bucket) never see each other's objects.
"""

from __future__ import annotations

import uuid

import pytest

#: the async backends every anyio-only component must run on
ANYIO_BACKENDS = ("asyncio", "trio")


@pytest.fixture(params=ANYIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The anyio backend to run an ``@pytest.mark.anyio`` test on (both, by default)."""
    backend: str = request.param
    return backend


def make_random_root(prefix: str = "behavior") -> str:
    """A new root of the form ``"<prefix>-<32 hex digits>/"``."""
    return f"{prefix}-{uuid.uuid4().hex}/"


@pytest.fixture
def random_root() -> str:
    """A fresh random root (``"behavior-<hex>/"``) for one test."""
    return make_random_root()
