"""The ``memory`` service in the behaviour suite."""

from __future__ import annotations

import pytest

from pystorage import Operator
from pystorage.testing import ServiceCase


def _make_memory(request: pytest.FixtureRequest, root: str) -> Operator:
    return Operator("memory", root=root)


CASES = [ServiceCase(id="memory", backends=("asyncio", "trio"), make=_make_memory)]
