"""The data tools users run, unchanged, through the adapter: pandas, pyarrow
datasets, duckdb and zarr (dask is in ``test_dask.py``). Each checks that the
values read equal the values written."""

from __future__ import annotations

from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from pyarrow.fs import FSSpecHandler, PyFileSystem

from pystorage.fsspec import PyStorageFileSystem

from ..conftest import make_random_root
from ..fixtures.s3 import S3Server

pytestmark = pytest.mark.filterwarnings(
    # botocore, pandas and zarr internals, not ours
    "ignore::DeprecationWarning",
)


def _frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "value": rng.normal(size=n),
            "group": np.array(["a", "b", "c", "d"])[np.arange(n) % 4],
        }
    )


@pytest.fixture
def s3_options(moto_s3: S3Server) -> dict[str, Any]:
    """``storage_options`` of protocol ``pystorage`` reaching moto under a fresh root."""
    return {"scheme": "s3", **moto_s3.config(make_random_root("fsspec-tools"))}


def test_entry_point_needs_no_import(s3_options: dict[str, Any]) -> None:
    fs = fsspec.filesystem("pystorage", **s3_options)
    assert isinstance(fs, PyStorageFileSystem)
    fs.pipe_file("x", b"1")
    assert fs.cat_file("x") == b"1"


def test_pandas_parquet_and_csv_with_storage_options(s3_options: dict[str, Any]) -> None:
    df = _frame()
    df.to_parquet("pystorage://data/frame.parquet", storage_options=s3_options, row_group_size=300)
    back = pd.read_parquet("pystorage://data/frame.parquet", storage_options=s3_options)
    pd.testing.assert_frame_equal(back, df)
    some = pd.read_parquet(
        "pystorage://data/frame.parquet",
        storage_options=s3_options,
        columns=["id"],
        filters=[("id", "<", 10)],
    )
    assert some["id"].tolist() == list(range(10))

    df.to_csv("pystorage://data/frame.csv", storage_options=s3_options, index=False)
    back_csv = pd.read_csv("pystorage://data/frame.csv", storage_options=s3_options)
    pd.testing.assert_frame_equal(back_csv, df, check_dtype=False)


def test_pandas_through_registered_s3_protocol(moto_s3: S3Server) -> None:
    from pystorage.fsspec import register

    root = make_random_root("fsspec-s3url")
    config = moto_s3.config()
    options = {k: v for k, v in config.items() if k not in ("bucket", "root")}
    from fsspec.registry import _registry

    previous = _registry.get("s3")
    register("s3")
    try:
        fsspec.filesystem("s3", **options).clear_instance_cache()
        url = f"s3://{moto_s3.bucket}/{root}frame.parquet"
        df = _frame(500)
        df.to_parquet(url, storage_options=options)
        pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=options), df)
        fs = fsspec.filesystem("s3", **options)
        assert fs.ls(f"{moto_s3.bucket}/{root}", detail=False) == [f"{moto_s3.bucket}/{root}frame.parquet"]
    finally:
        if previous is not None:
            fsspec.register_implementation("s3", previous, clobber=True)
        else:
            _registry.pop("s3", None)


def test_pyarrow_dataset_scan_with_filter(s3_options: dict[str, Any]) -> None:
    fs = fsspec.filesystem("pystorage", **s3_options)
    df = _frame()
    table = pa.Table.from_pandas(df, preserve_index=False)
    pafs = PyFileSystem(FSSpecHandler(fs))
    pads.write_dataset(
        table,
        "dataset",
        filesystem=pafs,
        format="parquet",
        partitioning=["group"],
        partitioning_flavor="hive",
    )
    assert len(fs.find("dataset")) == 4
    dataset = pads.dataset("dataset", filesystem=pafs, format="parquet", partitioning="hive")
    got = dataset.to_table(filter=(pads.field("group") == "b") & (pads.field("id") < 100)).to_pandas()
    expected = df[(df.group == "b") & (df.id < 100)]
    assert sorted(got["id"]) == expected["id"].tolist()
    assert np.allclose(got.sort_values("id")["value"].to_numpy(), expected["value"].to_numpy())
    # a single file, read with pre-buffered ranges (cat_ranges underneath)
    pq.write_table(table, "one.parquet", filesystem=pafs, row_group_size=250)
    assert pq.read_table("one.parquet", filesystem=pafs, pre_buffer=True).equals(table)


def test_duckdb_register_filesystem(s3_options: dict[str, Any]) -> None:
    duckdb = pytest.importorskip("duckdb")
    fs = fsspec.filesystem("pystorage", **s3_options)
    df = _frame()
    with fs.open("duck/frame.parquet", "wb") as f:
        df.to_parquet(f)
    con = duckdb.connect()
    try:
        con.register_filesystem(fs)
        got = con.execute(
            "SELECT \"group\", count(*) AS n, sum(id) AS s "
            "FROM read_parquet('pystorage://duck/frame.parquet') "
            "GROUP BY \"group\" ORDER BY \"group\""
        ).fetchall()
    finally:
        con.close()
    expected = [(g, len(part), int(part.id.sum())) for g, part in df.groupby("group")]
    assert got == expected


def test_zarr_v3_fsspec_store(moto_s3: S3Server, s3_options: dict[str, Any]) -> None:
    zarr = pytest.importorskip("zarr", minversion="3")
    from pystorage import Operator

    config = dict(s3_options)
    operator = Operator(config.pop("scheme"), **config)
    fs = PyStorageFileSystem(operator, asynchronous=True)
    store = zarr.storage.FsspecStore(fs, path="arrays/a.zarr")
    data = np.arange(40 * 30, dtype="float64").reshape(40, 30)
    arr = zarr.create_array(store, shape=data.shape, chunks=(16, 8), dtype="float64")
    arr[:] = data
    assert len(fsspec.filesystem("pystorage", **s3_options).find("arrays/a.zarr")) > 4  # chunks are objects
    again = zarr.open_array(zarr.storage.FsspecStore(fs, path="arrays/a.zarr", read_only=True), mode="r")
    np.testing.assert_array_equal(again[:], data)
    np.testing.assert_array_equal(again[5:21, 3:17], data[5:21, 3:17])


@pytest.fixture
def registered() -> Any:
    """Restore fsspec's registry after a test that calls ``register``."""
    from fsspec.registry import _registry

    saved = dict(_registry)
    yield
    _registry.clear()
    _registry.update(saved)


def test_register_file_memory_and_gs(registered: None, tmp_path: Any, request: pytest.FixtureRequest) -> None:
    from pystorage.fsspec import (
        PyStorageGcsFileSystem,
        PyStorageLocalFileSystem,
        PyStorageMemoryFileSystem,
        register,
    )

    register("file", "memory", "gs")
    with fsspec.open(f"file://{tmp_path}/a/b.txt", "wb") as f:
        f.write(b"local")
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"local"
    local = fsspec.filesystem("file")
    assert isinstance(local, PyStorageLocalFileSystem)
    assert local.ls(str(tmp_path / "a"), detail=False) == [f"{tmp_path}/a/b.txt"]

    with fsspec.open("memory://shared/x", "wb") as f:
        f.write(b"in memory")
    assert isinstance(fsspec.filesystem("memory"), PyStorageMemoryFileSystem)
    with fsspec.open("memory://shared/x", "rb") as f:
        assert f.read() == b"in memory"

    server = request.getfixturevalue("gcs_server")
    proxy = request.getfixturevalue("gcs_proxy")
    options = {"endpoint_url": proxy.url, "disable_config_load": True}
    gs = fsspec.filesystem("gs", **options)
    assert isinstance(gs, PyStorageGcsFileSystem)
    root = make_random_root("fsspec-gs")
    df = _frame(300)
    url = f"gs://{server.bucket}/{root}f.parquet"
    df.to_parquet(url, storage_options=options)
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=options), df)
    assert gs.find(f"{server.bucket}/{root}") == [f"{server.bucket}/{root}f.parquet"]
    with pytest.raises(ValueError):
        register("ftp")
