"""pystorage as an fsspec filesystem: pandas, pyarrow, dask, duckdb, polars,
zarr and xarray reach every pystorage service through it.

Two ways in::

    import fsspec
    from pystorage import Operator
    from pystorage.fsspec import PyStorageFileSystem

    fs = PyStorageFileSystem(Operator("s3", bucket="b", region="eu-west-1").layer(RetryLayer()))
    fs = fsspec.filesystem("pystorage", scheme="s3", bucket="b", region="eu-west-1")
    pd.read_parquet("pystorage://data/x.parquet", storage_options={"scheme": "s3", "bucket": "b"})

Paths of protocol ``pystorage`` are relative to the operator's root
(``"data/x.parquet"``). :func:`register` makes ``s3://``, ``gs://``,
``file://`` and ``memory://`` URLs go through pystorage too, with the usual
fsspec path shapes (``bucket/key``, absolute local paths).

Directory semantics follow s3fs/gcsfs on object stores: directories are
prefixes, ``mkdir`` creates nothing, and an empty directory does not exist;
on ``fs`` and ``memory`` directories are real. Nothing is cached between
calls (no listing cache): every answer reflects the store.

The filesystem is an ``AsyncFileSystem``: every ``_method`` runs natively on
pystorage's async API, and fsspec's sync mirror runs them on its IO thread.
It pickles (dask and Ray ship it to workers) as its operator's recipe; after
``os.fork()`` a child uses fresh connections.
"""

from ._file import PyStorageFile
from ._filesystem import CHUNK as CHUNK
from ._filesystem import CONCURRENT as CONCURRENT
from ._filesystem import PyStorageFileSystem
from ._protocols import PyStorageBucketFileSystem as PyStorageBucketFileSystem
from ._protocols import (
    PyStorageGcsFileSystem,
    PyStorageLocalFileSystem,
    PyStorageMemoryFileSystem,
    PyStorageS3FileSystem,
    register,
)

# CHUNK, CONCURRENT and PyStorageBucketFileSystem stay importable from here, as before the split
__all__ = [
    "PyStorageFileSystem",
    "PyStorageFile",
    "PyStorageGcsFileSystem",
    "PyStorageLocalFileSystem",
    "PyStorageMemoryFileSystem",
    "PyStorageS3FileSystem",
    "register",
]
