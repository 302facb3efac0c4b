"""The contenders: one small module each, all with the same async interface.

A contender wraps one client library (or a command-line tool, for the limit
lines) behind :class:`Contender`. The runner only needs the registry below to
decide what can run: contender modules import their SDK lazily in
``setup()``, so importing this package never needs the optional peers.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["CONTENDERS", "Contender", "ContenderSpec", "load", "unavailable_reason"]


class Contender:
    """The interface every contender implements (all I/O methods are coroutines).

    Keys are object names relative to the bucket (or paths relative to the fs
    root), e.g. ``"big.bin"``, ``"run/ab12/00001"``. Methods a contender cannot
    do, or workload kinds it does not take part in, are listed in
    ``unsupported`` (method name or workload kind -> reason) and shown as
    ``n/a`` with that reason; such methods raise ``NotImplementedError``.

    Class attributes:
        name: the contender's id (``"pystorage_s3"``).
        family: ``"s3"``, ``"gcs"``, ``"azblob"``, ``"fs"`` or ``"fsspec"`` (fsspec
            filesystems over the S3 server).
        role: ``"pystorage"``, ``"sdk"`` (the raw SDK), ``"peer"``, ``"limit"``, ``"layer"``
            (pystorage with a layer on top, compared with plain pystorage), ``"loop"``
            (the same pystorage code on another event loop; not a peer) or ``"transport"``
            (the same pystorage code on its other HTTP transport; not a peer).
        label: a short human description.
        unsupported: method name or workload kind -> why it is not measured.
        event_loop: the loop the child runs the contender on: ``"asyncio"`` (default)
            or ``"uvloop"``.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    role: ClassVar[str] = ""
    label: ClassVar[str] = ""
    unsupported: ClassVar[Mapping[str, str]] = {}
    event_loop: ClassVar[str] = "asyncio"

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Create the client from the family's settings (endpoint, bucket, credentials, root)."""

    async def get(self, key: str) -> int:
        """Read a whole object into memory (``bytes`` or a zero-copy buffer); return its length."""
        raise NotImplementedError(self.unsupported.get("get", "not implemented"))

    async def get_stream(self, key: str, chunk: int) -> int:
        """Read an object as a stream of pieces (about ``chunk`` bytes), dropping them; return the bytes."""
        raise NotImplementedError(self.unsupported.get("get_stream", "not implemented"))

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """Read bytes ``[offset, offset + size)`` of an object; return how many arrived."""
        raise NotImplementedError(self.unsupported.get("get_range", "not implemented"))

    async def put(self, key: str, data: bytes) -> None:
        """Write a small object in one request."""
        raise NotImplementedError(self.unsupported.get("put", "not implemented"))

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """Write a large in-memory buffer (multipart: ``chunk``-byte parts, ``concurrency`` in flight)."""
        raise NotImplementedError(self.unsupported.get("put_buffer", "not implemented"))

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """Write ``size`` bytes arriving from ``source`` without holding them all (parts of ``chunk``)."""
        raise NotImplementedError(self.unsupported.get("put_stream", "not implemented"))

    async def delete(self, key: str) -> None:
        """Delete one object."""
        raise NotImplementedError(self.unsupported.get("delete", "not implemented"))

    async def list(self, prefix: str) -> int:
        """List the objects directly below ``prefix`` (ends with ``/``); return how many."""
        raise NotImplementedError(self.unsupported.get("list", "not implemented"))

    # the fsspec family (issue 13): keys relative to the bucket, as above
    async def read_parquet(self, key: str) -> int:
        """Read a Parquet file into a pandas DataFrame; return its in-memory bytes (``memory_usage``)."""
        raise NotImplementedError(self.unsupported.get("read_parquet", "not implemented"))

    async def cat_ranges(self, key: str, starts: list[int], ends: list[int]) -> int:
        """Read the ranges ``[starts[i], ends[i])`` of one object in one call; return the bytes."""
        raise NotImplementedError(self.unsupported.get("cat_ranges", "not implemented"))

    async def find(self, prefix: str) -> int:
        """Every file below directory ``prefix`` (recursively); return how many."""
        raise NotImplementedError(self.unsupported.get("find", "not implemented"))

    async def pipe_many(self, files: dict[str, bytes], batch_size: int) -> None:
        """Write many small files in one call, ``batch_size`` at a time."""
        raise NotImplementedError(self.unsupported.get("pipe_many", "not implemented"))

    async def cat_many(self, keys: list[str], batch_size: int) -> int:
        """Read many small files in one call, ``batch_size`` at a time; return the bytes."""
        raise NotImplementedError(self.unsupported.get("cat_many", "not implemented"))

    async def close(self) -> None:
        """Release clients and connections."""


@dataclass(frozen=True)
class ContenderSpec:
    """What the runner knows about a contender without importing its SDK.

    Attributes:
        name: the id used on the command line.
        module: the module under ``benchmarks.contenders``; it exposes ``CONTENDER``, its class.
        requires: top-level modules that must be importable.
        service: for pystorage contenders, the scheme that must be registered in
            ``pystorage.services.SERVICES`` (default ``None``).
        executables: command-line tools that must be on ``PATH`` (default none).
        install_note: said after a missing package's name (default none), e.g. why it
            cannot be installed here.
    """

    name: str
    module: str
    requires: tuple[str, ...] = ()
    service: str | None = None
    executables: tuple[str, ...] = ()
    install_note: str = ""


#: every contender, in table order within each family
CONTENDERS: dict[str, ContenderSpec] = {
    spec.name: spec
    for spec in (
        ContenderSpec("pystorage_s3", "pystorage_s3", ("pystorage",), service="s3"),
        ContenderSpec("pystorage_s3_uvloop", "pystorage_s3_uvloop", ("pystorage", "uvloop"), service="s3"),
        ContenderSpec("pystorage_s3_aiohttp", "pystorage_s3_aiohttp", ("pystorage",), service="s3"),
        ContenderSpec("pystorage_s3_enc", "pystorage_s3_enc", ("pystorage", "cryptography"), service="s3"),
        ContenderSpec(
            "pystorage_s3_enc4k", "pystorage_s3_enc4k", ("pystorage", "cryptography"), service="s3"
        ),
        ContenderSpec("aiobotocore_s3", "aiobotocore_s3", ("aiobotocore",)),
        ContenderSpec("s3fs", "s3fs_s3", ("s3fs",)),
        ContenderSpec("opendal_s3", "opendal_s3", ("opendal",)),
        ContenderSpec("obstore_s3", "obstore_s3", ("obstore",)),
        ContenderSpec("curl", "curl_s3", ("botocore",), executables=("curl",)),
        ContenderSpec("pystorage_gcs", "pystorage_gcs", ("pystorage",), service="gcs"),
        ContenderSpec("gcloud_aio_gcs", "gcloud_aio_gcs", ("gcloud.aio.storage", "aiohttp")),
        ContenderSpec("opendal_gcs", "opendal_gcs", ("opendal",)),
        ContenderSpec("pystorage_azblob", "pystorage_azblob", ("pystorage",), service="azblob"),
        ContenderSpec("azure_blob_aio", "azure_blob_aio", ("azure.storage.blob", "aiohttp")),
        ContenderSpec("opendal_azblob", "opendal_azblob", ("opendal",)),
        ContenderSpec("obstore_azblob", "obstore_azblob", ("obstore",)),
        ContenderSpec("pystorage_fs", "pystorage_fs", ("pystorage",), service="fs"),
        ContenderSpec("pystorage_fs_uvloop", "pystorage_fs_uvloop", ("pystorage", "uvloop"), service="fs"),
        ContenderSpec("pystorage_fs_enc", "pystorage_fs_enc", ("pystorage", "cryptography"), service="fs"),
        ContenderSpec("os_fs", "os_fs", ("anyio",)),
        ContenderSpec("dd_cat", "dd_cat", (), executables=("dd", "cat")),
        ContenderSpec("pystorage_fsspec", "pystorage_fsspec", ("pystorage", "pandas"), service="s3"),
        ContenderSpec("pystorage_api", "pystorage_api", ("pystorage", "pyarrow", "pandas"), service="s3"),
        ContenderSpec("s3fs_fsspec", "s3fs_fsspec", ("s3fs", "pandas")),
        ContenderSpec("obstore_fsspec", "obstore_fsspec", ("obstore", "pandas")),
        ContenderSpec(
            "opendalfs",
            "opendalfs_fsspec",
            ("opendalfs", "pandas"),
            install_note=" (its releases on PyPI need Python >= 3.12)",
        ),
    )
}


def _module_missing(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):  # a missing parent package
        return True


def unavailable_reason(name: str) -> str | None:
    """Why contender ``name`` cannot run here (a missing package, tool or service), or ``None``."""
    import shutil

    spec = CONTENDERS.get(name)
    if spec is None:
        return f"unknown contender {name!r}"
    for module in spec.requires:
        if _module_missing(module):
            return f"package {module!r} is not installed{spec.install_note}"
    for exe in spec.executables:
        if shutil.which(exe) is None:
            return f"{exe!r} is not on PATH"
    if spec.service is not None:
        from pystorage.services import SERVICES

        if spec.service not in SERVICES:
            return f"pystorage service {spec.service!r} is not registered yet"
        if _module_missing(SERVICES[spec.service]):
            return f"pystorage service module {SERVICES[spec.service]} is missing"
    return None


def load(name: str) -> type[Contender]:
    """Import and return the ``Contender`` class of contender ``name``."""
    spec = CONTENDERS[name]
    module = importlib.import_module(f"{__name__}.{spec.module}")
    cls: type[Contender] = module.CONTENDER
    return cls
