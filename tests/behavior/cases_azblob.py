"""The ``azblob`` service in the behaviour suite: Azurite from npm, signed with the
development account, with the capability override of its quirks
(``AZURITE_CAPABILITY_OVERRIDE`` in ``tests/fixtures/azurite.py``). The
driver runs on asyncio only; ``azblob`` on the default ``h1`` transport,
``azblob-aiohttp`` on ``http_transport="aiohttp"``."""

from __future__ import annotations

import pytest

from pystorage import Operator
from pystorage.testing import ServiceCase

from ..fixtures.azurite import AzuriteServer


def _make_azurite(request: pytest.FixtureRequest, root: str) -> Operator:
    server: AzuriteServer = request.getfixturevalue("azurite")
    return Operator("azblob", **server.config(root))


def _make_azurite_aiohttp(request: pytest.FixtureRequest, root: str) -> Operator:
    server: AzuriteServer = request.getfixturevalue("azurite")
    return Operator("azblob", **server.config(root, http_transport="aiohttp"))


CASES = [
    ServiceCase(id="azblob", backends=("asyncio",), make=_make_azurite),
    ServiceCase(id="azblob-aiohttp", backends=("asyncio",), make=_make_azurite_aiohttp),
]
