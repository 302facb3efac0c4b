"""The ``fs`` service in the behaviour suite: a fresh directory per test under pytest's temp dir."""

from __future__ import annotations

import pytest

from pystorage import Operator
from pystorage.testing import ServiceCase


def _make_fs(request: pytest.FixtureRequest, root: str) -> Operator:
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    directory = factory.getbasetemp() / "fs-behavior" / root
    directory.mkdir(parents=True, exist_ok=True)
    return Operator("fs", root=str(directory))


CASES = [ServiceCase(id="fs", backends=("asyncio", "trio"), make=_make_fs)]
