"""The ``gcs`` service in the behaviour suite: fake-gcs-server behind the test proxy.

fake-gcs-server ignores ``ifGenerationMatch``; the proxy
(``tests/fixtures/gcs_proxy.py``) enforces it, so the condition tests prove
the driver's preconditions. Two cases: ``gcs`` sends anonymous requests (an
emulator endpoint and no credential); ``gcs-sa`` authenticates with a
generated service-account key (OAuth tokens from the proxy's token endpoint)
and so also has presign. Both run on the default ``h1`` transport;
``gcs-aiohttp`` is ``gcs`` on ``http_transport="aiohttp"``. gcloud-aio /
aiohttp are asyncio-only.
"""

from __future__ import annotations

import pytest

from pystorage import Operator
from pystorage.testing import ServiceCase


def _make_gcs(request: pytest.FixtureRequest, root: str, **extra: str) -> Operator:
    proxy = request.getfixturevalue("gcs_proxy")
    server = request.getfixturevalue("gcs_server")
    return Operator(
        "gcs", bucket=server.bucket, root=root, endpoint=proxy.url, disable_config_load=True, **extra
    )


def _make_gcs_aiohttp(request: pytest.FixtureRequest, root: str) -> Operator:
    return _make_gcs(request, root, http_transport="aiohttp")


def _make_gcs_service_account(request: pytest.FixtureRequest, root: str) -> Operator:
    proxy = request.getfixturevalue("gcs_proxy")
    server = request.getfixturevalue("gcs_server")
    account = request.getfixturevalue("gcs_service_account")
    return Operator("gcs", bucket=server.bucket, root=root, endpoint=proxy.url, credential=account.json)


CASES = [
    ServiceCase(id="gcs", backends=("asyncio",), make=_make_gcs),
    ServiceCase(id="gcs-sa", backends=("asyncio",), make=_make_gcs_service_account),
    ServiceCase(id="gcs-aiohttp", backends=("asyncio",), make=_make_gcs_aiohttp),
]
