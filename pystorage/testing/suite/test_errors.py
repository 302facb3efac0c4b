"""The error contract: one base class, kinds, built-in OSError parents, context fields."""

from __future__ import annotations

import pickle

import pytest

from pystorage import Operator, errors

from .helpers import stat_missing

pytestmark = pytest.mark.anyio


def test_error_kind_values_are_class_names() -> None:
    assert errors.ErrorKind.NOT_FOUND.value == "NotFound"
    for kind in errors.ErrorKind:
        cls = getattr(errors, kind.value)
        assert issubclass(cls, errors.Error)
        assert cls.kind is kind


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.NotFound, FileNotFoundError),
        (errors.PermissionDenied, PermissionError),
        (errors.AlreadyExists, FileExistsError),
        (errors.IsADirectory, IsADirectoryError),
        (errors.NotADirectory, NotADirectoryError),
    ],
)
def test_builtin_parents(cls: type[errors.Error], builtin: type[OSError]) -> None:
    assert issubclass(cls, builtin)
    assert issubclass(cls, errors.Error)


def test_every_kind_shares_the_base() -> None:
    names = ["NotFound", "PermissionDenied", "AlreadyExists", "IsADirectory", "NotADirectory",
             "ConditionNotMatch", "RateLimited", "RangeNotSatisfied", "IsSameFile", "Unsupported",
             "ConfigInvalid", "InvalidPath", "Unexpected"]
    for name in names:
        assert issubclass(getattr(errors, name), errors.Error), name
    assert issubclass(errors.Error, Exception)


async def test_not_found_fields(op: Operator) -> None:
    with pytest.raises(FileNotFoundError) as info:
        await op.read("missing/file")
    err = info.value
    assert isinstance(err, errors.NotFound)
    assert isinstance(err, errors.Error)
    assert err.kind is errors.ErrorKind.NOT_FOUND
    assert err.path == "missing/file"
    assert err.operation == "read"
    assert err.service == op.info.scheme
    assert err.temporary is False


async def test_not_found_path_is_normalised(op: Operator) -> None:
    assert (await stat_missing(op, "/missing//file")).path == "missing/file"


async def test_not_found_on_open(op: Operator) -> None:
    with pytest.raises(errors.NotFound) as info:
        async with op.open("nope", "rb") as reader:
            await reader.read()
    assert info.value.path == "nope"


async def test_error_message_names_path(op: Operator) -> None:
    with pytest.raises(errors.NotFound) as info:
        await op.read("some/missing-object")
    assert "some/missing-object" in str(info.value)


async def test_error_is_picklable(op: Operator) -> None:
    with pytest.raises(errors.NotFound) as info:
        await op.read("missing")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is errors.NotFound
    assert copy.path == "missing"
    assert copy.operation == "read"
    # the native error chained as __cause__ pickles too (dask/tblib ship the chain)
    cause = info.value.__cause__
    if cause is not None:
        assert type(pickle.loads(pickle.dumps(cause))) is type(cause)


async def test_unsupported_fields(op: Operator) -> None:
    if op.capability().presign_read:
        pytest.skip("has presign_read")
    with pytest.raises(errors.Unsupported) as info:
        await op.presign_read("file", 60)
    assert info.value.kind is errors.ErrorKind.UNSUPPORTED
    assert info.value.temporary is False
