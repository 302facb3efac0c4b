"""fsspec's own abstract test suites (``fsspec.tests.abstract``) against the
adapter on every service, wired as fsspec wires its memory and local
filesystems (``fs``, ``fs_join``, ``fs_path`` fixtures)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import fsspec.tests.abstract as abstract
import pytest
from fsspec.tests.abstract import AbstractFixtures

from pystorage import errors
from pystorage.fsspec import PyStorageFileSystem

from .conftest import CASE_IDS, OBJECT_STORES, MakeOperator


class _Fixtures(AbstractFixtures):  # type: ignore[misc]
    case_id: str = ""

    @pytest.fixture(scope="class")
    @classmethod
    def fs(cls, make_operator: MakeOperator) -> Iterator[PyStorageFileSystem]:
        # rclone serve s3 answers concurrent PUTs into a new folder with 500 now and then
        # ("Dir.Rename error", docs/services/s3.md); the retried PUT succeeds, but its VFS keeps
        # emptied folders it no longer lists, which later tests of a class see as an existing
        # ``target``. So on rclone the suite's bulk calls run one at a time.
        batch_size = 1 if cls.case_id == "s3-rclone" else None
        yield PyStorageFileSystem(make_operator(cls.case_id), batch_size=batch_size)

    @pytest.fixture
    def fs_join(self) -> Callable[..., str]:
        return lambda *parts: "/".join(parts)

    @pytest.fixture
    def fs_path(self) -> str:
        return "abstract"

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return self.case_id not in OBJECT_STORES


SUITES: dict[str, Any] = {
    "Copy": abstract.AbstractCopyTests,
    "Get": abstract.AbstractGetTests,
    "Put": abstract.AbstractPutTests,
    "Pipe": abstract.AbstractPipeTests,
    "Open": abstract.AbstractOpenTests,
}

#: (case, test) -> why it cannot pass there: a server limitation, shown with a raw client
XFAIL = {
    ("s3-rclone", "test_pipe_exclusive"): (
        "rclone serve s3 ignores If-None-Match on PUT (tests/services/s3/test_s3_quirks.py::"
        "test_conditions[if_not_exists]), so its operator declares write_with_if_not_exists=false "
        "and mode='create' raises Unsupported instead of silently overwriting"
    ),
}

def _xfail(test: Callable[..., Any], reason: str) -> Callable[..., Any]:
    """``test`` marked xfail in one derived class only (a wrapper: marking the
    inherited function itself would mark it in every class)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return test(*args, **kwargs)

    return pytest.mark.xfail(reason=reason, raises=errors.Unsupported, strict=True)(wrapper)


for _case in CASE_IDS:
    for _suite, _base in SUITES.items():
        _name = f"Test{_suite}_{_case.replace('-', '_')}"
        _attrs: dict[str, Any] = {"case_id": _case}
        for (_xcase, _test), _reason in XFAIL.items():
            if _xcase == _case and hasattr(_base, _test):
                _attrs[_test] = _xfail(getattr(_base, _test), _reason)
        globals()[_name] = type(_name, (_base, _Fixtures), _attrs)
