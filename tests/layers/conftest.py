"""Layer tests run over the in-process memory driver; the ``anyio_backend``
fixture of ``tests/conftest.py`` runs each async test on asyncio and trio."""

from __future__ import annotations

import pytest

from pystorage.raw.accessor import Accessor
from pystorage.services import memory


@pytest.fixture
def mem() -> Accessor:
    """A fresh memory accessor (a real driver, in process)."""
    return memory.build({})
