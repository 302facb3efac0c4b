"""The ``azblob`` service in the behaviour suite: Azurite from npm, signed with the
development account, with the capability override of its quirks
(``AZURITE_CAPABILITY_OVERRIDE`` in ``tests/fixtures/azurite.py``). The
driver is built on aiohttp, asyncio only."""

from __future__ import annotations

import pytest

from pystorage import Operator
from pystorage.testing import ServiceCase

from ..fixtures.azurite import AzuriteServer


def _make_azurite(request: pytest.FixtureRequest, root: str) -> Operator:
    server: AzuriteServer = request.getfixturevalue("azurite")
    return Operator("azblob", **server.config(root))


CASES = [ServiceCase(id="azblob", backends=("asyncio",), make=_make_azurite)]
