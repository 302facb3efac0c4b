"""The behaviour suite as a pytest plugin, so a driver outside this project runs
the same tests as the built-in services (as OpenDAL's behavior tests do).

Run it against any service with a config::

    pytest -p pystorage.testing --pystorage-scheme=s3 \\
        --pystorage-config bucket=my-test-bucket --pystorage-config endpoint=http://127.0.0.1:9000

Every test writes below a fresh random root and skips what the operator's
capability does not declare, so the suite runs against a shared test bucket.
A project with several configurations (one server each) instead implements
the ``pytest_pystorage_cases`` hook in a plugin or ``conftest.py``, returning
:class:`ServiceCase` objects (this project's own ``tests/behavior`` does).
``PYSTORAGE_BEHAVIOR_CASES=memory,fs`` keeps only some case ids.

Requires ``pytest`` and ``anyio``'s pytest plugin (both in the ``test`` extra).
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from .. import Operator
from .case import ServiceCase

__all__ = ["SUITE", "ServiceCase", "pytest_addhooks", "pytest_addoption", "pytest_configure"]

#: the directory holding the suite's test modules
SUITE = pathlib.Path(__file__).parent / "suite"


class _Hooks:
    """The hook this plugin adds."""

    @pytest.hookspec
    def pytest_pystorage_cases(self, config: pytest.Config) -> list[ServiceCase]:  # type: ignore[empty-body]
        """The service cases the behaviour suite runs against (every implementation's
        lists are joined)."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register ``pytest_pystorage_cases``."""
    pluginmanager.add_hookspecs(_Hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--pystorage-scheme``, ``--pystorage-config`` and ``--pystorage-backend``."""
    group = parser.getgroup("pystorage", "pystorage behaviour suite")
    group.addoption("--pystorage-scheme", help="run the behaviour suite against this service scheme")
    group.addoption(
        "--pystorage-config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config key of that service (repeatable)",
    )
    group.addoption(
        "--pystorage-backend",
        action="append",
        default=[],
        choices=("asyncio", "trio"),
        help="the async backends to run on (repeatable; default asyncio)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's marker; with ``--pystorage-scheme`` and no test paths,
    collect the suite itself."""
    config.addinivalue_line("markers", "slow: long-running tests (subprocess RSS checks)")
    if config.getoption("--pystorage-scheme") and not config.args_source == pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(SUITE)]


def option_case(config: pytest.Config) -> ServiceCase | None:
    """The case ``--pystorage-scheme``/``--pystorage-config`` describe, if given."""
    scheme = config.getoption("--pystorage-scheme")
    if not scheme:
        return None
    settings: dict[str, Any] = {}
    for item in config.getoption("--pystorage-config"):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise pytest.UsageError(f"--pystorage-config wants KEY=VALUE, got {item!r}")
        settings[key] = value
    backends = tuple(config.getoption("--pystorage-backend")) or ("asyncio",)

    def make(request: pytest.FixtureRequest, root: str) -> Operator:
        base = str(settings.get("root", "")).rstrip("/")
        return Operator(scheme, **{**settings, "root": f"{base}/{root}" if base else root})

    return ServiceCase(id=scheme, backends=backends, make=make)
