"""The ``s3`` service in the behaviour suite, against two real S3 servers.

- ``s3-moto``: moto's server (an unversioned bucket: versions are tested in
  ``tests/services/s3``, since moto mis-lists prefixes in versioned buckets).
- ``s3-rclone``: ``rclone serve s3``, with the capability overrides its
  quirks need (``RCLONE_CAPABILITY_OVERRIDE`` in ``tests/fixtures/s3.py``):
  conditions it ignores are declared unsupported rather than skipped.
- ``s3-rclone-aiohttp``: the same server on the ``aiohttp`` transport
  (``http_transport="aiohttp"``; the others run on the default, ``h1``).

aiobotocore is asyncio-only, so both run on asyncio only.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pystorage import Operator
from pystorage.testing import ServiceCase

from ..fixtures.s3 import S3Server


def _maker(fixture: str, **overrides: str) -> Callable[[pytest.FixtureRequest, str], Operator]:
    def make(request: pytest.FixtureRequest, root: str) -> Operator:
        server: S3Server = request.getfixturevalue(fixture)
        return Operator("s3", **server.config(root, **overrides))

    return make


CASES = [
    ServiceCase(id="s3-moto", backends=("asyncio",), make=_maker("moto_s3")),
    ServiceCase(id="s3-rclone", backends=("asyncio",), make=_maker("rclone_s3")),
    ServiceCase(
        id="s3-rclone-aiohttp", backends=("asyncio",), make=_maker("rclone_s3", http_transport="aiohttp")
    ),
]
