"""The pooled client: lazy creation, open/close, credentials and anonymous access, redaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from pystorage import Operator, errors
from pystorage.raw.ops import OpRead, OpStat, OpWrite
from pystorage.services.s3 import S3Accessor
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

Build = Callable[[dict[str, Any]], S3Accessor]


@pytest.mark.anyio
async def test_client_is_lazy_shared_and_reopens(moto_s3: S3Server, root: str, build: Build) -> None:
    accessor = build(moto_s3.config(root))
    core = accessor.core
    assert core._client is None  # nothing happens at build time
    clients = set()

    async def use(i: int) -> None:
        await accessor.write_once(f"f{i}", b"x", OpWrite())
        clients.add(id(await core.client()))

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(use, i)
    assert len(clients) == 1  # one pooled client, created once under the lock
    await accessor.close()
    assert core._client is None
    await accessor.close()  # twice is fine
    assert (await accessor.stat("f1", OpStat())).content_length == 1  # reopened lazily
    await accessor.open()
    assert core._client is not None


@pytest.mark.anyio
async def test_operator_context_opens_and_closes(moto_s3: S3Server, root: str) -> None:
    op = Operator("s3", **moto_s3.config(root))
    async with op:
        await op.write("x", b"data")
        assert await op.read("x") == b"data"
    async with op:  # reusable after close
        assert await op.exists("x")


@pytest.mark.anyio
async def test_anonymous_when_nothing_is_found(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    proxy, server = s3_proxy
    config = server.config(root)
    del config["access_key_id"], config["secret_access_key"]
    accessor = build(config)  # disable_config_load=True, endpoint set: unsigned
    await accessor.write_once("anon", b"x", OpWrite())
    put = proxy.recorded("PUT")[-1]
    assert put.status == 200 and "Authorization" not in put.headers
    assert "X-Amz-Date" not in put.headers


@pytest.mark.anyio
async def test_explicit_keys_are_signed(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root, session_token="session-token-value"))
    await accessor.write_once("signed", b"x", OpWrite())
    put = proxy.recorded("PUT")[-1]
    assert put.headers["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={server.access_key_id}/")
    assert put.headers["X-Amz-Security-Token"] == "session-token-value"


@pytest.mark.anyio
async def test_default_chain_reads_the_environment(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, server = s3_proxy
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMTHEENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment")
    config = server.config(root, disable_config_load=False)
    del config["access_key_id"], config["secret_access_key"]
    accessor = build(config)
    await accessor.write_once("env", b"x", OpWrite())
    assert "Credential=AKIAFROMTHEENVIRONMENT/" in proxy.recorded("PUT")[-1].headers["Authorization"]


@pytest.mark.anyio
async def test_no_credentials_and_no_endpoint_is_config_invalid(build: Build) -> None:
    accessor = build({"bucket": "b", "disable_config_load": True})
    with pytest.raises(errors.ConfigInvalid, match="allow_anonymous"):
        await accessor.stat("x", OpStat())


@pytest.mark.anyio
async def test_secrets_never_logged(
    rclone_s3: S3Server, root: str, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    # botocore (the credential chain) and aiohttp log at DEBUG; none of it shows a secret
    accessor = build(rclone_s3.config(root, session_token="session-token-secret-value"))
    wrong = build(rclone_s3.config(root, secret_access_key="wrong-secret-access-key"))
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "aiobotocore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        await accessor.write_once("f", b"x", OpWrite())  # rclone ignores the session token
        with pytest.raises(errors.NotFound):
            await accessor.read("missing", OpRead())
        with pytest.raises(errors.PermissionDenied) as info:
            await wrong.write_once("f", b"x", OpWrite())
    finally:
        for name in ("botocore", "aiobotocore"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    text = caplog.text + str(info.value) + repr(info.value)
    assert "botocore" in text  # the SDK's records were captured
    secrets = (
        rclone_s3.secret_access_key,
        rclone_s3.access_key_id,
        "session-token-secret-value",
        "wrong-secret-access-key",
    )
    for secret in secrets:
        assert secret not in text


def test_operator_survives_a_new_event_loop(moto_s3: S3Server, root: str) -> None:
    """Each asyncio.run is a new loop: the client of the old one is replaced."""
    import asyncio

    op = Operator("s3", **moto_s3.config(root))

    async def use(data: bytes) -> bytes:
        await op.write("x", data)
        try:
            return await op.read("x")
        finally:
            await op.close()

    assert asyncio.run(use(b"first")) == b"first"
    assert asyncio.run(use(b"second")) == b"second"
    blocking = op.blocking()
    try:
        assert blocking.read("x") == b"second"
    finally:
        blocking.close()
