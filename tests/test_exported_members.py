"""The public namespace: a sorted ``__all__`` of importable, documented names."""

from __future__ import annotations
import __future__

import inspect
import types

import pytest

import pystorage

EXPECTED = {"Capability", "Entry", "EntryMode", "Metadata", "Operator", "PresignedRequest", "errors", "sse"}


def test_all_is_sorted() -> None:
    assert list(pystorage.__all__) == sorted(pystorage.__all__)


def test_all_has_no_duplicates() -> None:
    assert len(set(pystorage.__all__)) == len(pystorage.__all__)


def test_expected_names_exported() -> None:
    missing = EXPECTED - set(pystorage.__all__)
    assert not missing, f"missing from pystorage.__all__: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(pystorage.__all__))
def test_exported_name_importable_and_documented(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from pystorage import {name}", namespace)
    obj = namespace[name]
    assert obj is getattr(pystorage, name)
    if isinstance(obj, (type, types.ModuleType, types.FunctionType)):
        doc = obj.__doc__
        assert doc and doc.strip(), f"{name} has no docstring"
        assert not doc.startswith(f"{name}("), f"{name} has only the dataclass-generated docstring"


def test_public_names_are_in_all() -> None:
    public = {
        name for name, value in vars(pystorage).items()
        if not name.startswith("_")
        and not isinstance(value, (types.ModuleType, __future__._Feature))
    }
    extra = public - set(pystorage.__all__)
    assert not extra, f"public names missing from __all__: {sorted(extra)}"


def test_operator_methods_documented() -> None:
    undocumented = [
        name for name, member in inspect.getmembers(pystorage.Operator)
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
        and not (member.__doc__ or "").strip()
    ]
    assert not undocumented, f"Operator members without a docstring: {undocumented}"


def test_operator_has_contract_methods() -> None:
    names = ["read", "write", "open", "stat", "exists", "list", "delete", "delete_many", "remove_all",
             "create_dir", "copy", "rename", "presign_read", "presign_write", "presign_stat", "capability",
             "blocking", "layer", "close", "from_uri", "create_multipart", "resume_multipart",
             "list_multipart_uploads", "abort_multipart_uploads"]
    missing = [n for n in names if not hasattr(pystorage.Operator, n)]
    assert not missing, missing


def test_layers_exported() -> None:
    import pystorage.layers as layers

    names = {"RetryLayer", "TimeoutLayer", "LoggingLayer", "ConcurrentLimitLayer",
             "ServerSideEncryptionLayer", "ChaosLayer", "TracingLayer", "MetricsLayer"}
    assert names <= set(layers.__all__)
    assert list(layers.__all__) == sorted(layers.__all__)
    for name in names:
        assert (getattr(layers, name).__doc__ or "").strip(), name


def test_sse_and_errors_exported() -> None:
    assert {"S3Managed", "Kms", "CustomerKey"} <= set(pystorage.sse.__all__)
    assert {"Error", "ErrorKind", "NotFound", "Unsupported", "ConfigInvalid", "InvalidPath"} <= set(
        pystorage.errors.__all__
    )
    for module in (pystorage.sse, pystorage.errors):
        assert list(module.__all__) == sorted(module.__all__)
        for name in module.__all__:
            assert (getattr(module, name).__doc__ or "").strip(), f"{module.__name__}.{name}"
