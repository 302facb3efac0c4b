"""Error translation of the azblob service (status first, then the service error code)
and finite timeouts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from pystorage import Operator, errors
from pystorage.services.azblob.errors import AzureErrorAnswer, classify, from_answer, map_errors, parse_error
from tests.fixtures.azurite import AzuriteServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("status", "code", "kind", "temporary"),
    [
        (404, "BlobNotFound", errors.NotFound, False),
        (404, "ContainerNotFound", errors.NotFound, False),
        (403, "AuthenticationFailed", errors.PermissionDenied, False),
        (403, "AuthorizationPermissionMismatch", errors.PermissionDenied, False),
        (412, "ConditionNotMet", errors.ConditionNotMatch, False),
        (412, "AppendPositionConditionNotMet", errors.ConditionNotMatch, False),
        (304, "", errors.ConditionNotMatch, False),
        (409, "BlobAlreadyExists", errors.ConditionNotMatch, False),
        (416, "InvalidRange", errors.RangeNotSatisfied, False),
        (503, "ServerBusy", errors.RateLimited, True),
        (500, "OperationTimedOut", errors.RateLimited, True),
        (429, "", errors.RateLimited, True),
        (500, "InternalError", errors.Unexpected, True),
        (502, "", errors.Unexpected, True),
        (400, "Md5Mismatch", errors.ChecksumMismatch, True),
        (409, "BlobUsesCustomerSpecifiedEncryption", errors.PermissionDenied, False),
        (500, "FeatureNotSupported", errors.Unsupported, False),
        (501, "NotImplemented", errors.Unsupported, False),
        (400, "InvalidHeaderValue", errors.ConfigInvalid, False),
        (409, "InvalidBlobType", errors.ConfigInvalid, False),
        (400, "SomethingNew", errors.Unexpected, False),
    ],
)
def test_classify(status: int, code: str, kind: type[errors.Error], temporary: bool) -> None:
    assert classify(status, code) == (kind, temporary)


def test_retry_after_and_message() -> None:
    error = from_answer(503, "ServerBusy", "busy", {"Retry-After": "3"}, "read", "p")
    assert isinstance(error, errors.RateLimited) and error.retry_after == 3.0
    missing = from_answer(404, "ContainerNotFound", "", {}, "read", "p", "box")
    assert "'box'" in missing.message and "container" in missing.message


def test_parse_error() -> None:
    body = (
        b'<?xml version="1.0"?><Error><Code>BlobNotFound</Code><Message>gone\nRequestId:1</Message></Error>'
    )
    assert parse_error(body) == ("BlobNotFound", "gone")
    assert parse_error(b"<<garbage") == ("", "")
    assert parse_error(b"") == ("", "")


def test_map_errors_chains() -> None:
    with pytest.raises(errors.NotFound) as info, map_errors("stat", "a"):
        raise AzureErrorAnswer(404, "BlobNotFound", "", {})
    assert isinstance(info.value.__cause__, AzureErrorAnswer)
    assert info.value.operation == "stat" and info.value.path == "a" and info.value.service == "azblob"


@pytest.fixture
def stalled_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/devstoreaccount1"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


async def test_read_timeout_is_finite(stalled_server: str, make_op: Callable[..., Operator]) -> None:
    op = make_op(container="box", endpoint=stalled_server, read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(errors.Unexpected) as info:
        await op.stat("x")
    assert info.value.temporary
    assert time.monotonic() - started < 5


async def test_connect_refused_is_temporary(make_op: Callable[..., Operator]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    op = make_op(container="box", endpoint=f"http://127.0.0.1:{port}/devstoreaccount1", connect_timeout=1)
    with pytest.raises(errors.Unexpected) as info:
        await op.read("x")
    assert info.value.temporary


async def test_missing_container_is_not_found(
    azurite: AzuriteServer, make_op: Callable[..., Operator]
) -> None:
    op = make_op(container="no-such-container", endpoint=azurite.url)
    with pytest.raises(errors.NotFound, match="'no-such-container'"):
        await op.write("x", b"x")
    with pytest.raises(errors.NotFound, match="container"):  # not an empty listing: the config is wrong
        [e async for e in op.list("/")]


async def test_secrets_not_in_logs_or_errors(
    azurite: AzuriteServer, make_op: Callable[..., Operator], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from pystorage.layers import LoggingLayer

    secret_sig = "c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ%3D%3D"
    key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="  # a 32-byte customer key, base64
    op = make_op(
        container=azurite.container, endpoint=azurite.url, sas_token=f"sv=2021-08-06&sp=r&sig={secret_sig}"
    ).layer(LoggingLayer(level=logging.DEBUG))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(errors.Error) as info:
            await op.read("x")
        keyed = make_op(container=azurite.container, endpoint=azurite.url, encryption_key=key)
        with pytest.raises(errors.Error) as keyed_info:
            await keyed.write("k", b"x")  # Azurite refuses customer keys
    shown = caplog.text + str(info.value) + repr(info.value) + str(keyed_info.value) + repr(keyed)
    assert secret_sig not in shown and "c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ" not in shown
    assert key not in shown
