"""Fixtures of the fsspec adapter tests: a ``PyStorageFileSystem`` per service,
built from the behaviour suite's service cases (same servers, fresh random roots)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pystorage import Operator
from pystorage.fsspec import PyStorageFileSystem
from pystorage.layers import RetryLayer
from pystorage.testing import ServiceCase

from ..behavior import cases_fs, cases_gcs, cases_memory, cases_s3
from ..conftest import make_random_root

#: the services the adapter is tested on (gcs: anonymous, through the precondition-enforcing proxy)
CASE_IDS = ("memory", "fs", "s3-moto", "s3-rclone", "gcs")
CASES: dict[str, ServiceCase] = {
    case.id: case
    for case in (*cases_memory.CASES, *cases_fs.CASES, *cases_s3.CASES, *cases_gcs.CASES)
    if case.id in CASE_IDS
}

#: object stores: directories are key prefixes (no empty directories), as in s3fs/gcsfs
OBJECT_STORES = ("s3-moto", "s3-rclone", "gcs")

RETRY = RetryLayer(max_times=3, min_delay=0.05, max_delay=0.5)

MakeOperator = Callable[[str], Operator]


@pytest.fixture(scope="session")
def make_operator(request: pytest.FixtureRequest) -> Callable[[str], Operator]:
    """``make_operator(case_id)``: an operator of that case under a fresh random root."""

    def make(case_id: str) -> Operator:
        # as users should: rclone's local backend intermittently answers 500 to
        # concurrent PUTs creating the same new directory (fsspec puts concurrently)
        return CASES[case_id].make(request, make_random_root("fsspec")).layer(RETRY)

    return make


@pytest.fixture(params=CASE_IDS)
def case_id(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def pfs(case_id: str, make_operator: MakeOperator) -> Iterator[PyStorageFileSystem]:
    """A filesystem over a fresh root of each service."""
    fs = PyStorageFileSystem(make_operator(case_id))
    yield fs
