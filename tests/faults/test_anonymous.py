"""S3 with no credentials and an ``endpoint`` (an anonymous emulator) sends unsigned requests.

Two anonymous emulators: ``rclone serve s3`` started without ``--auth-key``, and
a moto bucket whose ACL is ``public-read-write`` (moto enforces ACLs on unsigned
requests, so its private test bucket answers them 403, as AWS would). Both
request paths (the lean aiohttp one and aiobotocore) are checked through the
fault proxy, which records that no request carried an ``Authorization`` header
or a presigned signature.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from pystorage import Operator
from tests.conftest import make_random_root
from tests.fixtures.fault_proxy import FaultProxy
from tests.fixtures.s3 import S3Server, _free_port, _wait_for_port, rclone_binary

PUBLIC_BUCKET = "pystorage-public"


@pytest.fixture
def anyio_backend() -> str:
    """aiobotocore is asyncio-only."""
    return "asyncio"


@pytest.fixture(scope="module")
def anonymous_rclone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProxy]:
    """``rclone serve s3`` without ``--auth-key`` (anonymous access), behind a fault proxy."""
    served = tmp_path_factory.mktemp("rclone-anon")
    (served / PUBLIC_BUCKET).mkdir()
    port = _free_port()
    log = served.parent / f"rclone-anon-{port}.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [
                str(rclone_binary()),
                "serve",
                "s3",
                "--addr",
                f"127.0.0.1:{port}",
                "--no-cleanup",
                "--buffer-size=0",
                "--config",
                "",
                str(served),
            ],
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        _wait_for_port(port, process)
        proxy = FaultProxy(f"http://127.0.0.1:{port}").start()
        try:
            yield proxy
        finally:
            proxy.stop()
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def public_moto(moto_s3: S3Server) -> Iterator[FaultProxy]:
    """A public-read-write bucket on the session's moto, behind a fault proxy."""
    client = moto_s3.boto_client()
    client.create_bucket(Bucket=PUBLIC_BUCKET, ACL="public-read-write")
    client.close()
    proxy = FaultProxy(moto_s3.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(params=["rclone", "moto"])
def emulator(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    """The proxy in front of each anonymous emulator (its records cleared)."""
    proxy: FaultProxy = request.getfixturevalue(
        "anonymous_rclone" if request.param == "rclone" else "public_moto"
    )
    proxy.reset()
    yield proxy
    proxy.reset()


@pytest.fixture
def no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment where botocore's default chain finds nothing (and does not ask IMDS)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("disable_config_load", [True, False], ids=["no-config-load", "default-chain"])
@pytest.mark.parametrize("lean_http", [True, False], ids=["lean", "botocore"])
@pytest.mark.anyio
async def test_no_credentials_and_an_endpoint_send_unsigned_requests(
    emulator: FaultProxy, lean_http: bool, disable_config_load: bool, no_aws_environment: None
) -> None:
    op = Operator(
        "s3",
        bucket=PUBLIC_BUCKET,
        root=make_random_root("anon"),
        endpoint=emulator.url,
        region="us-east-1",
        lean_http=lean_http,
        disable_config_load=disable_config_load,
    )
    async with op:
        await op.write("k", b"anonymous")
        assert await op.read("k") == b"anonymous"
        assert (await op.stat("k")).content_length == 9
        big = [bytes([i]) * (5 * 1024 * 1024) for i in range(2)] + [b"tail"]
        await op.write("big", big, chunk=5 * 1024 * 1024)
        assert (await op.stat("big")).content_length == 10 * 1024 * 1024 + 4
        assert [e.path async for e in op.list("/")] == ["big", "k"]
        await op.delete_many(["k", "big"])
        assert [e.path async for e in op.list("/")] == []
        request = await op.presign_read("k", 60)
        assert "Signature" not in request.url
    sent = emulator.recorded()
    assert len(sent) >= 8
    assert all("Authorization" not in r.request.headers for r in sent)
    assert all(not any(q.lower().startswith("x-amz-") for q in r.request.query) for r in sent)
