"""dask.dataframe.read_parquet on a distributed.LocalCluster with two worker
*processes*: the filesystem (and its operator) is pickled to the workers,
which open their own connections. Over s3-moto and fs; one cluster per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pystorage import Operator
from pystorage.fsspec import PyStorageFileSystem

from ..conftest import make_random_root
from ..fixtures.s3 import S3Server

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings(
    # distributed's own start-up and shutdown chatter (ports, unclosed comms), not ours
    "ignore::DeprecationWarning",
    "ignore::ResourceWarning",
    "ignore::UserWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="1GiB"
    )
    try:
        with distributed.Client(cluster) as c:
            yield c
    finally:
        cluster.close()


def _write_parts(fs: PyStorageFileSystem, n_parts: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    parts = []
    for i in range(n_parts):
        part = pd.DataFrame({"id": np.arange(i * 250, (i + 1) * 250), "x": rng.normal(size=250)})
        with fs.open(f"table/part-{i}.parquet", "wb") as f:
            part.to_parquet(f, index=False)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _check(client: Any, frame: Any, expected: pd.DataFrame) -> None:
    pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes
    got = client.compute(frame).result().sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_dask_read_parquet_s3_filesystem_object(client: Any, moto_s3: S3Server) -> None:
    """An fs built from an Operator object: the operator is pickled to the workers."""
    fs = PyStorageFileSystem(Operator("s3", **moto_s3.config(make_random_root("fsspec-dask"))))
    expected = _write_parts(fs)
    frame = dd.read_parquet("table", filesystem=fs)
    assert frame.npartitions == 4
    _check(client, frame, expected)


def test_dask_read_parquet_fs_storage_options(client: Any, tmp_path: Path) -> None:
    options = {"scheme": "fs", "root": str(tmp_path)}
    fs = PyStorageFileSystem(scheme="fs", root=str(tmp_path))
    expected = _write_parts(fs)
    frame = dd.read_parquet("pystorage://table", storage_options=options)
    _check(client, frame, expected)
