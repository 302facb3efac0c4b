"""The gcs error mapping (``pystorage/services/gcs/errors.py``), function by function."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from pystorage import errors
from pystorage.services.gcs.errors import GcsHttpError, from_native, from_status, map_errors


@pytest.mark.parametrize(
    ("status", "cls", "temporary"),
    [
        (404, errors.NotFound, False),
        (401, errors.PermissionDenied, False),
        (403, errors.PermissionDenied, False),
        (412, errors.ConditionNotMatch, False),
        (304, errors.ConditionNotMatch, False),
        (416, errors.RangeNotSatisfied, False),
        (429, errors.RateLimited, True),
        (500, errors.Unexpected, True),
        (502, errors.Unexpected, True),
        (503, errors.Unexpected, True),
        (408, errors.Unexpected, True),
        (400, errors.Unexpected, False),
        (409, errors.Unexpected, False),
    ],
)
def test_from_status(status: int, cls: type[errors.Error], temporary: bool) -> None:
    err = from_status(status, "because", operation="read", path="a/b")
    assert type(err) is cls
    assert err.temporary is temporary
    assert (err.operation, err.path, err.service) == ("read", "a/b", "gcs")
    assert str(status) in str(err) and "because" in str(err)


def test_retry_after_kept() -> None:
    err = from_status(429, "slow down", retry_after=7.0)
    assert isinstance(err, errors.RateLimited)
    assert err.retry_after == 7.0


def test_http_error_from_json_body() -> None:
    body = b'{"error": {"code": 403, "message": "caller does not have storage.objects.get access"}}'
    exc = GcsHttpError.from_body(403, "Forbidden", body, "12")
    assert exc.status == 403
    assert exc.message == "Forbidden: caller does not have storage.objects.get access"
    assert exc.retry_after == 12.0


def test_http_error_from_text_and_empty_bodies() -> None:
    assert GcsHttpError.from_body(404, "Not Found", b"Not Found\n").message == "Not Found"
    assert GcsHttpError.from_body(416, None, b"").message == "HTTP 416"
    assert GcsHttpError.from_body(500, "Oops", b"<html>big page</html>").message == "Oops"
    assert GcsHttpError.from_body(503, "Busy", b"", "soon").retry_after is None


def test_from_native_http_and_connection_errors() -> None:
    mapped = from_native(GcsHttpError(412, "Precondition Failed"), operation="write", path="p")
    assert isinstance(mapped, errors.ConditionNotMatch) and mapped.path == "p"
    for native in (
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("Response payload is not completed"),
        asyncio.TimeoutError(),
        ConnectionResetError(104, "reset"),
    ):
        err = from_native(native, operation="read", path="x")
        assert isinstance(err, errors.Unexpected), native
        assert err.temporary, native
    assert from_native(ValueError("a bug")) is None


def test_token_errors_keep_only_the_status() -> None:
    native = aiohttp.ClientResponseError(
        None,  # type: ignore[arg-type]
        (),
        status=400,
        message='Bad Request: {"error": "invalid_grant", "assertion": "eyJ-secret"}',
    )
    err = from_native(native, operation="stat", path="f")
    assert isinstance(err, errors.Unexpected)
    assert "secret" not in str(err) and "400" in str(err)
    denied = from_native(aiohttp.ClientResponseError(None, (), status=401), operation="stat")  # type: ignore[arg-type]
    assert isinstance(denied, errors.PermissionDenied)


def test_map_errors_chains_and_fills_context() -> None:
    native = GcsHttpError(404, "Not Found")
    with pytest.raises(errors.NotFound) as info, map_errors("stat", "dir/f"):
        raise native
    assert info.value.__cause__ is native
    assert (info.value.operation, info.value.path, info.value.service) == ("stat", "dir/f", "gcs")
    with pytest.raises(errors.ConditionNotMatch) as passed, map_errors("write", "g"):
        raise errors.ConditionNotMatch("no")
    assert (passed.value.operation, passed.value.path, passed.value.service) == ("write", "g", "gcs")
    with pytest.raises(KeyError), map_errors("write", "g"):
        raise KeyError("not translated")
