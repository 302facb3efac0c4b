"""The filesystems :func:`register` installs for fsspec's own protocols
(``s3://``, ``gs://``, ``file://``, ``memory://``), with their usual path shapes."""

from __future__ import annotations

import os
import threading
from typing import Any, ClassVar

import fsspec

from .._operator import Operator
from ._filesystem import PyStorageFileSystem

__all__ = [
    "PyStorageBucketFileSystem",
    "PyStorageGcsFileSystem",
    "PyStorageLocalFileSystem",
    "PyStorageMemoryFileSystem",
    "PyStorageS3FileSystem",
    "register",
]

#: s3fs ``client_kwargs`` keys and their pystorage names
_CLIENT_KWARGS = {"region_name": "region", "endpoint_url": "endpoint"}


class PyStorageBucketFileSystem(PyStorageFileSystem):
    """Base of the filesystems :func:`register` installs for ``s3://`` and
    ``gs://`` URLs: the first path segment is the bucket, the config keys
    are shared by all buckets (one operator per bucket, built on first use)."""

    _scheme: ClassVar[str] = ""
    #: s3fs/gcsfs storage_options accepted and renamed to pystorage's keys
    _aliases: ClassVar[dict[str, str]] = {}

    def _operator_from(
        self, operator: Operator | None, scheme: str | None, config: dict[str, Any]
    ) -> Operator:
        """No operator yet: one per bucket, built on first use (see ``_route``);
        the config keys are checked now."""
        if operator is not None or scheme is not None:
            raise TypeError(f"{type(self).__name__} takes config keys, not an operator or scheme=")
        self._config = self._translate(config)
        self._operators: dict[str, Operator] = {}
        self._lock = threading.Lock()
        Operator(self._scheme, bucket="config-check", **self._config)  # invalid config fails now
        return None  # type: ignore[return-value]  # one operator per bucket, see _route

    def __repr__(self) -> str:
        return f"{type(self).__name__}(buckets={sorted(self._operators)!r})"

    @classmethod
    def _translate(cls, config: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in config.items():
            if key == "client_kwargs" and isinstance(value, dict):
                for k, v in value.items():
                    out[_CLIENT_KWARGS.get(str(k), str(k))] = v
            elif key == "anon":
                out["allow_anonymous"] = bool(value)
            else:
                out[cls._aliases.get(key, key)] = value
        return out

    def _route(self, path: str) -> tuple[Operator, str, str]:
        stripped = self._strip_protocol(path).strip("/")
        bucket, _, rel = stripped.partition("/")
        if not bucket:
            raise ValueError(f"{path!r} names no bucket: use {self._protocols()[0]}://bucket/key")
        with self._lock:
            op = self._operators.get(bucket)
            if op is None:
                op = self._operators[bucket] = Operator(self._scheme, bucket=bucket, **self._config)
        return op, rel, bucket + "/"

    def _real_dirs(self, op: Operator) -> bool:
        return False

    @classmethod
    def _get_kwargs_from_urls(cls, path: str) -> dict[str, Any]:
        return {}


class PyStorageS3FileSystem(PyStorageBucketFileSystem):
    """``s3://bucket/key`` through pystorage's s3 service (see :func:`register`).
    Takes pystorage's s3 config keys, or s3fs's ``key``, ``secret``, ``token``,
    ``endpoint_url``, ``anon`` and ``client_kwargs={"region_name": ...}``."""

    protocol = ("s3", "s3a")
    _scheme = "s3"
    _aliases: ClassVar[dict[str, str]] = {
        "key": "access_key_id",
        "secret": "secret_access_key",
        "token": "session_token",
        "endpoint_url": "endpoint",
    }


class PyStorageGcsFileSystem(PyStorageBucketFileSystem):
    """``gs://bucket/key`` (and ``gcs://``) through pystorage's gcs service (see :func:`register`)."""

    protocol = ("gs", "gcs")
    _scheme = "gcs"
    _aliases: ClassVar[dict[str, str]] = {"endpoint_url": "endpoint"}


class PyStorageLocalFileSystem(PyStorageFileSystem):
    """``file://`` and local absolute paths through pystorage's fs service, rooted at ``/``."""

    protocol = ("file", "local")
    root_marker = "/"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Operator("fs", root="/"), **kwargs)

    def _route(self, path: str) -> tuple[Operator, str, str]:
        stripped = self._strip_protocol(path)
        return self.operator, stripped.strip("/"), "/"

    @classmethod
    def _normalise(cls, path: str) -> str:
        return "/" + os.path.abspath(path).strip("/") if path else "/"


#: the store every ``memory://`` URL shares once registered, as in fsspec's own memory filesystem
_MEMORY: Operator | None = None


class PyStorageMemoryFileSystem(PyStorageFileSystem):
    """``memory://`` through pystorage's memory service: one store per process."""

    protocol = ("memory",)
    root_marker = "/"

    def __init__(self, **kwargs: Any) -> None:
        global _MEMORY
        if _MEMORY is None:
            _MEMORY = Operator("memory")
        super().__init__(_MEMORY, **kwargs)

    def _route(self, path: str) -> tuple[Operator, str, str]:
        return self.operator, self._strip_protocol(path).strip("/"), "/"


_BY_PROTOCOL: dict[str, type[PyStorageFileSystem]] = {
    "s3": PyStorageS3FileSystem,
    "s3a": PyStorageS3FileSystem,
    "gs": PyStorageGcsFileSystem,
    "gcs": PyStorageGcsFileSystem,
    "file": PyStorageLocalFileSystem,
    "local": PyStorageLocalFileSystem,
    "memory": PyStorageMemoryFileSystem,
}


def register(*protocols: str) -> None:
    """Make fsspec serve ``protocols`` (default ``"s3"``, ``"s3a"``, ``"gs"``,
    ``"gcs"``) with pystorage, replacing s3fs/gcsfs for this process::

        pystorage.fsspec.register("s3")
        pd.read_parquet("s3://bucket/x.parquet", storage_options={"endpoint": "http://…"})

    Also ``"file"``, ``"local"`` and ``"memory"``. The protocol
    ``pystorage`` is always available (an entry point) and needs no call.

    Raises:
        ValueError: a protocol pystorage does not serve.
    """
    for proto in protocols or ("s3", "s3a", "gs", "gcs"):
        cls = _BY_PROTOCOL.get(proto)
        if cls is None:
            raise ValueError(f"pystorage serves no fsspec protocol {proto!r} (known: {sorted(_BY_PROTOCOL)})")
        fsspec.register_implementation(proto, cls, clobber=True)
