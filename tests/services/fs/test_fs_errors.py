"""The one error-mapping function of the fs driver."""

from __future__ import annotations

import errno
import shutil

import pytest

from pystorage import errors
from pystorage.services.fs.errors import from_os_error, map_os_errors


@pytest.mark.parametrize(
    ("native", "mapped"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "/abs/x"), errors.NotFound),
        (PermissionError(errno.EACCES, "Permission denied", "/abs/x"), errors.PermissionDenied),
        (PermissionError(errno.EPERM, "Operation not permitted"), errors.PermissionDenied),
        (IsADirectoryError(errno.EISDIR, "Is a directory"), errors.IsADirectory),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory"), errors.NotADirectory),
        (FileExistsError(errno.EEXIST, "File exists"), errors.AlreadyExists),
        (shutil.SameFileError("same"), errors.IsSameFile),
        (OSError(errno.ENAMETOOLONG, "File name too long"), errors.InvalidPath),
        (OSError(errno.ENOSPC, "No space left on device"), errors.Unexpected),
        (OSError("no errno at all"), errors.Unexpected),
    ],
)
def test_mapping(native: OSError, mapped: type[errors.Error]) -> None:
    error = from_os_error(native, operation="read", path="a/x")
    assert type(error) is mapped
    assert (error.operation, error.path, error.service) == ("read", "a/x", "fs")
    assert not error.temporary
    assert "/abs" not in str(error)


@pytest.mark.parametrize("code", [errno.EAGAIN, errno.EBUSY, errno.EINTR])
def test_transient_errnos_are_temporary(code: int) -> None:
    error = from_os_error(OSError(code, "try again"), operation="write", path="f")
    assert type(error) is errors.Unexpected and error.temporary


def test_context_manager_chains_the_native_error() -> None:
    native = FileNotFoundError(errno.ENOENT, "No such file or directory")
    with pytest.raises(errors.NotFound) as info, map_os_errors("stat", "p"):
        raise native
    assert info.value.__cause__ is native
    assert isinstance(info.value, FileNotFoundError)
    assert str(info.value) == "NotFound: No such file or directory (service='fs', operation='stat', path='p')"


def test_context_manager_fills_in_our_own_errors() -> None:
    own = errors.ConditionNotMatch("exists", path="already/set")
    with pytest.raises(errors.ConditionNotMatch) as info, map_os_errors("write", "p"):
        raise own
    assert info.value is own
    assert (own.operation, own.path, own.service) == ("write", "already/set", "fs")


def test_other_exceptions_pass_untouched() -> None:
    with pytest.raises(ValueError), map_os_errors("read", "p"):
        raise ValueError("not an OSError")
