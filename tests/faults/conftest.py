"""Fixtures shared by the fault tests (the fault proxies themselves are in
``tests/fixtures/fault_proxy.py``)."""

from __future__ import annotations

import pytest

from tests.fixtures.fault_proxy import FaultTarget


@pytest.fixture(params=["moto", "rclone", "gcs"])
def target(request: pytest.FixtureRequest) -> FaultTarget:
    """Each server, through its fault proxy (``faulty_moto``, ``faulty_rclone``, ``faulty_gcs``)."""
    found: FaultTarget = request.getfixturevalue(f"faulty_{request.param}")
    return found
