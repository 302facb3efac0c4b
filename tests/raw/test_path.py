"""Path normalisation rules (DESIGN.md "Paths")."""

from __future__ import annotations

import pytest

from pystorage import errors
from pystorage.raw.path import join_root, normalize_path, normalize_root, parent_dirs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a/b", "a/b"),
        ("/a/b", "a/b"),
        ("a//b", "a/b"),
        ("a/./b/", "a/b/"),
        ("dir/", "dir/"),
        ("", "/"),
        ("/", "/"),
        ("///", "/"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected


@pytest.mark.parametrize("bad", ["../x", "a/../b", "a/..", "a\x00b"])
def test_refused(bad: str) -> None:
    with pytest.raises(errors.InvalidPath):
        normalize_path(bad)


def test_not_a_str() -> None:
    with pytest.raises(TypeError, match="bytes"):
        normalize_path(b"a")  # type: ignore[arg-type]


def test_roots() -> None:
    assert normalize_root(None) == "/"
    assert normalize_root("a/b") == "/a/b/"
    assert join_root("/a/", "b/c") == "a/b/c"
    assert join_root("/", "/") == ""
    assert parent_dirs("a/b/c") == ["a/", "a/b/"]
    with pytest.raises(errors.InvalidPath):
        normalize_root("/a/../b")
