"""Fixtures of the behaviour suite.

Service cases come from every ``tests/behavior/cases_*.py`` module (each defines
``CASES: list[ServiceCase]``). Tests taking the ``op`` fixture are parametrised
over exactly the valid ``(case, anyio backend)`` pairs; tests taking
``blocking_op`` (plain sync tests) over the cases; other ``anyio`` tests here
over both backends. Set ``PYSTORAGE_BEHAVIOR_CASES=memory,fs`` to run only
some case ids.
"""

from __future__ import annotations

import importlib
import os
import pathlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pystorage import Operator

from .case import ServiceCase

ANYIO_BACKENDS = ("asyncio", "trio")


def _load_cases() -> list[ServiceCase]:
    cases: list[ServiceCase] = []
    for file in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
        module = importlib.import_module(f"{__package__}.{file.stem}")
        cases.extend(module.CASES)
    ids = [case.id for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate behaviour case ids: {duplicates}")
    wanted = os.environ.get("PYSTORAGE_BEHAVIOR_CASES")
    if wanted:
        keep = {w.strip() for w in wanted.split(",") if w.strip()}
        cases = [case for case in cases if case.id in keep]
    return cases


CASES: list[ServiceCase] = _load_cases()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``op`` tests over (case, backend) pairs, ``blocking_op`` tests over cases."""
    names = metafunc.fixturenames
    if "op" in names:
        pairs = [(case, backend) for case in CASES for backend in case.backends]
        metafunc.parametrize(
            ("service_case", "anyio_backend"),
            pairs,
            ids=[f"{case.id}-{backend}" for case, backend in pairs],
        )
    elif "service_case" in names:
        metafunc.parametrize("service_case", CASES, ids=[case.id for case in CASES])
        if "anyio_backend" in names:
            raise RuntimeError(f"{metafunc.function.__name__}: async tests must use the op fixture")
    elif "anyio_backend" in names:
        metafunc.parametrize("anyio_backend", ANYIO_BACKENDS, ids=list(ANYIO_BACKENDS))


@pytest.fixture
def anyio_backend() -> str:
    """Always replaced by ``pytest_generate_tests``; present so the top-level
    parametrised fixture does not apply here."""
    raise RuntimeError("anyio_backend is parametrised by tests/behavior/conftest.py")


@pytest.fixture
def service_case() -> ServiceCase:
    """Always replaced by ``pytest_generate_tests``."""
    raise RuntimeError("service_case is parametrised by tests/behavior/conftest.py")


@pytest.fixture
async def op(
    service_case: ServiceCase, random_root: str, request: pytest.FixtureRequest
) -> AsyncIterator[Operator]:
    """An Operator of the case under a fresh random root; closed afterwards."""
    operator = service_case.make(request, random_root)
    try:
        yield operator
    finally:
        await operator.close()


@pytest.fixture
def blocking_op(service_case: ServiceCase, random_root: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``Operator.blocking()`` of the case under a fresh random root, for plain sync tests."""
    operator = service_case.make(request, random_root)
    blocking = operator.blocking()
    try:
        yield blocking
    finally:
        blocking.close()
