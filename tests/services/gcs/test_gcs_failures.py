"""Failures end to end: HTTP statuses injected by the proxy, refused connections, cut
downloads — mapped to the right error kinds, temporary where retrying helps, and
retried by the retry layer only (the driver itself never retries)."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable

import aiohttp
import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer
from pystorage.raw.ops import OpRead
from pystorage.services.gcs.errors import GcsHttpError
from pystorage.sse import Kms
from tests.fixtures.gcs_proxy import GcsProxy

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("status", "cls", "temporary"),
    [
        (503, errors.Unexpected, True),
        (500, errors.Unexpected, True),
        (429, errors.RateLimited, True),
        (403, errors.PermissionDenied, False),
        (401, errors.PermissionDenied, False),
        (400, errors.Unexpected, False),
    ],
)
async def test_statuses_are_mapped(
    make_op: Callable[..., Operator], proxy: GcsProxy, status: int, cls: type[errors.Error], temporary: bool
) -> None:
    op = make_op()
    await op.write("f", b"x")
    proxy.fail_next(status, method="GET", message="told by the proxy", headers={"Retry-After": "3"})
    with pytest.raises(cls) as info:
        await op.stat("f")
    err = info.value
    assert type(err) is cls and err.temporary is temporary
    assert (err.service, err.operation, err.path) == ("gcs", "stat", "f")
    assert "told by the proxy" in str(err) and str(status) in str(err)
    assert isinstance(err.__cause__, GcsHttpError) and err.__cause__.status == status
    assert err.retry_after == 3.0
    assert proxy.url not in str(err)


async def test_not_found_and_missing_delete(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    with pytest.raises(errors.NotFound) as info:
        await op.read("nope")
    assert isinstance(info.value.__cause__, GcsHttpError)
    with pytest.raises(errors.NotFound):
        await op.stat("nope")
    with pytest.raises(errors.NotFound):
        await op.copy("nope", "dst")
    await op.delete("nope")


async def test_no_retry_inside_the_driver(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    await op.write("f", b"x")
    proxy.clear()
    proxy.fail_next(503, method="GET")
    with pytest.raises(errors.Unexpected):
        await op.read("f")
    assert len(proxy.for_name(root + "f")) == 1


async def test_retry_layer_retries_temporary_failures(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op().layer(RetryLayer(max_times=3, min_delay=0.001, max_delay=0.01, jitter=False))
    await op.write("f", b"x")
    proxy.clear()
    proxy.fail_next(503, count=2, method="GET")
    assert await op.read("f") == b"x"
    assert [r.status for r in proxy.for_name(root + "f")] == [503, 503, 200]
    proxy.clear()
    proxy.fail_next(404, count=1, method="GET")
    with pytest.raises(errors.NotFound):
        await op.read("f")
    assert len(proxy.for_name(root + "f")) == 1


async def test_refused_connection_is_temporary() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    op = Operator("gcs", bucket="b", endpoint=f"http://127.0.0.1:{port}", disable_config_load=True)
    try:
        with pytest.raises(errors.Unexpected) as info:
            await op.stat("f")
    finally:
        await op.close()
    assert info.value.temporary
    assert isinstance(info.value.__cause__, (aiohttp.ClientConnectionError, ConnectionError))  # h1 or aiohttp


async def test_cut_download_is_temporary_and_resumed_by_retry(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op()
    data = random.Random(7).randbytes(3 * MiB)
    await op.write("f", data)
    proxy.truncate_next_download(MiB)
    with pytest.raises(errors.Unexpected) as info:
        await op.read("f")
    assert info.value.temporary and info.value.operation == "read"
    retrying = op.layer(RetryLayer(max_times=2, min_delay=0.001, jitter=False))
    proxy.clear()
    proxy.truncate_next_download(MiB + 5)
    assert await retrying.read("f") == data
    ranges = [r.headers.get("Range") for r in proxy.for_name(root + "f") if r.query.get("alt") == "media"]
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")


async def test_cut_small_download_is_temporary(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    """A small body (read whole, in one call) that ends early is a temporary error, never short bytes."""
    op = make_op()
    data = random.Random(8).randbytes(4096)
    await op.write("small", data)
    proxy.truncate_next_download(1000)
    with pytest.raises(errors.Unexpected) as info:
        await op.read("small")
    assert info.value.temporary and info.value.operation == "read"
    proxy.truncate_next_download(1000)
    assert await op.layer(RetryLayer(max_times=2, min_delay=0.001, jitter=False)).read("small") == data


async def test_sse_is_refused_before_any_request(make_op: Callable[..., Operator], proxy: GcsProxy) -> None:
    op = make_op()
    accessor = op.accessor
    proxy.clear()
    # what GCS cannot honour (see tests/services/gcs/test_gcs_sse.py for the specs it can)
    with pytest.raises(errors.Unsupported):
        key = "projects/p/locations/l/keyRings/r/cryptoKeys/k"
        await accessor.read("f", OpRead(sse=Kms(key_id=key, context={})))
    with pytest.raises(errors.ConfigInvalid):
        await accessor.read("f", OpRead(sse=Kms()))
    assert proxy.records == []


async def test_token_endpoint_failure_is_mapped(
    make_op: Callable[..., Operator], proxy: GcsProxy, gcs_service_account: object
) -> None:
    account = gcs_service_account
    op = make_op(credential=account.json)  # type: ignore[attr-defined]
    proxy.fail_next(503, path_contains="/token")
    with pytest.raises(errors.Unexpected) as info:
        await op.stat("f")
    assert info.value.temporary
    assert isinstance(info.value.__cause__, aiohttp.ClientResponseError)
    proxy.fail_next(401, path_contains="/token")
    with pytest.raises(errors.PermissionDenied):
        await op.stat("f")
