"""Fixtures of the behaviour suite.

Service cases come from the ``pytest_pystorage_cases`` hook and from
``--pystorage-scheme`` (see :mod:`pystorage.testing`). Tests taking the ``op``
fixture are parametrised over exactly the valid ``(case, anyio backend)``
pairs; tests taking ``blocking_op`` (plain sync tests) over the cases; other
``anyio`` tests here over both backends. Set ``PYSTORAGE_BEHAVIOR_CASES=memory,fs``
to run only some case ids.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pystorage import Operator

from .. import option_case
from ..case import ServiceCase

ANYIO_BACKENDS = ("asyncio", "trio")
_CASES = pytest.StashKey[list[ServiceCase]]()


def cases(config: pytest.Config) -> list[ServiceCase]:
    """The cases of this run (computed once per session)."""
    found = config.stash.get(_CASES, None)
    if found is not None:
        return found
    found = [case for listed in config.hook.pytest_pystorage_cases(config=config) for case in listed]
    given = option_case(config)
    if given is not None:
        found.append(given)
    ids = [case.id for case in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise pytest.UsageError(f"duplicate behaviour case ids: {duplicates}")
    if not found:
        raise pytest.UsageError(
            "the pystorage behaviour suite has no service case: pass --pystorage-scheme "
            "(and --pystorage-config KEY=VALUE) or implement pytest_pystorage_cases"
        )
    wanted = os.environ.get("PYSTORAGE_BEHAVIOR_CASES")
    if wanted:
        keep = {w.strip() for w in wanted.split(",") if w.strip()}
        found = [case for case in found if case.id in keep]
    config.stash[_CASES] = found
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``op`` tests over (case, backend) pairs, ``blocking_op`` tests over cases."""
    names = metafunc.fixturenames
    all_cases = cases(metafunc.config)
    if "op" in names:
        pairs = [(case, backend) for case in all_cases for backend in case.backends]
        metafunc.parametrize(
            ("service_case", "anyio_backend"),
            pairs,
            ids=[f"{case.id}-{backend}" for case, backend in pairs],
        )
    elif "service_case" in names:
        metafunc.parametrize("service_case", all_cases, ids=[case.id for case in all_cases])
        if "anyio_backend" in names:
            raise RuntimeError(f"{metafunc.function.__name__}: async tests must use the op fixture")
    elif "anyio_backend" in names:
        metafunc.parametrize("anyio_backend", ANYIO_BACKENDS, ids=list(ANYIO_BACKENDS))


@pytest.fixture
def anyio_backend() -> str:
    """Always replaced by ``pytest_generate_tests``; present so the top-level
    parametrised fixture does not apply here."""
    raise RuntimeError("anyio_backend is parametrised by pystorage/testing/suite/conftest.py")


@pytest.fixture
def service_case() -> ServiceCase:
    """Always replaced by ``pytest_generate_tests``."""
    raise RuntimeError("service_case is parametrised by pystorage/testing/suite/conftest.py")


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


@pytest.fixture
def random_root() -> str:
    """A fresh random root (``"behavior-<hex>/"``) for one test."""
    return f"behavior-{uuid.uuid4().hex}/"
