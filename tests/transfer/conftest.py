"""Fixtures of the transfer tests: operators on the session's real servers.

aiobotocore and gcloud-aio are asyncio-only, so these tests run on asyncio;
the memory/fs-only unit tests override nothing and run on both backends
where they say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from pystorage import Operator
from pystorage.layers import RetryLayer

from ..fixtures.gcs import FakeGcsServer
from ..fixtures.s3 import S3Server

#: builds an operator for one side of a transfer: ``make(kind)``
MakeOperator = Callable[[str], Operator]


@pytest.fixture
def anyio_backend() -> str:
    """The transfer tests talk to S3 and GCS through asyncio-only SDKs."""
    return "asyncio"


@pytest.fixture
def make_operator(request: pytest.FixtureRequest, tmp_path: Path) -> MakeOperator:
    """``make(kind)``: a fresh, empty operator of ``kind`` (``"memory"``,
    ``"fs"``, ``"s3-moto"``, ``"s3-rclone"``, ``"gcs"``) under a random root.

    Network operators get a short ``RetryLayer``, as every real transfer has
    (the CLI adds one): the local servers answer an occasional 500 under load
    (rclone serve s3 with concurrent PUTs), which is not what these tests test.
    """

    def make(kind: str) -> Operator:
        root = f"transfer-{uuid.uuid4().hex}/"
        if kind == "memory":
            return Operator("memory")
        if kind == "fs":
            return Operator("fs", root=str(tmp_path / root))
        retry = RetryLayer(max_times=3, min_delay=0.05, max_delay=0.5)
        if kind in ("s3-moto", "s3-rclone"):
            server: S3Server = request.getfixturevalue(kind.replace("s3-", "") + "_s3")
            return Operator("s3", **server.config(root)).layer(retry)
        if kind == "gcs":
            gcs: FakeGcsServer = request.getfixturevalue("gcs_server")
            op = Operator("gcs", bucket=gcs.bucket, root=root, endpoint=gcs.url, disable_config_load=True)
            return op.layer(retry)
        raise ValueError(kind)

    return make
