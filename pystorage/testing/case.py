"""The service cases the behaviour suite runs against.

Each ``tests/behavior/cases_<name>.py`` module defines ``CASES: list[ServiceCase]``;
the suite's ``conftest.py`` imports every such module, so a new service joins
the suite by adding one ``cases_*.py`` file and touching nothing else::

    # tests/behavior/cases_s3.py
    def _make_moto(request: pytest.FixtureRequest, root: str) -> Operator:
        server = request.getfixturevalue("moto_server")      # a session fixture
        return Operator("s3", bucket=server.bucket, root=root, endpoint=server.url, ...)

    CASES = [ServiceCase(id="s3-moto", backends=("asyncio",), make=_make_moto)]

Conventions:
    ``id`` starts with the service scheme (``"s3-moto"`` → ``"s3"``); the suite
    checks ``op.info.scheme`` against it.
    ``make`` must return an Operator rooted at ``root`` (a fresh
    ``"behavior-<hex>/"`` per test) that starts empty; it must not perform I/O
    that needs an event loop (it is called from sync fixtures as well).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pystorage import Operator

__all__ = ["ServiceCase"]


@dataclasses.dataclass(frozen=True)
class ServiceCase:
    """One service configuration the behaviour suite runs against.

    Attributes:
        id: test id, starting with the scheme (``"memory"``, ``"fs"``, ``"s3-moto"``).
        backends: the anyio backends the service supports: ``("asyncio", "trio")``
            for anyio-only drivers, ``("asyncio",)`` for asyncio-only SDKs.
        make: ``make(request, root)`` builds an Operator rooted at ``root``; it
            may use session fixtures through ``request.getfixturevalue``.
    """

    id: str
    backends: tuple[str, ...]
    make: Callable[[pytest.FixtureRequest, str], Operator]

    @property
    def scheme(self) -> str:
        """The service scheme: ``id`` up to its first ``-``."""
        return self.id.split("-", 1)[0]
