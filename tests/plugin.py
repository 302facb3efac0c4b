"""This project's pytest plugin (loaded by ``-p tests.plugin`` in ``pyproject.toml``):
the session-scoped test servers, and the service cases the behaviour suite
(:mod:`pystorage.testing`) runs against — every ``tests/behavior/cases_*.py``
module defines ``CASES: list[ServiceCase]``, so a new service joins the suite
by adding one such file."""

from __future__ import annotations

import importlib
import pathlib

import pytest

from pystorage.testing import ServiceCase

#: session-scoped server fixtures (S3 servers, fake-gcs-server, Azurite, proxies, fault proxies)
pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.gcs",
    "tests.fixtures.azurite",
    "tests.fixtures.fault_proxy",
]


def pytest_pystorage_cases(config: pytest.Config) -> list[ServiceCase]:
    """The cases of ``tests/behavior/cases_*.py`` (memory, fs, s3 on moto and rclone, gcs, azblob)."""
    found: list[ServiceCase] = []
    for file in sorted((pathlib.Path(__file__).parent / "behavior").glob("cases_*.py")):
        found.extend(importlib.import_module(f"tests.behavior.{file.stem}").CASES)
    return found
