"""The Shared Key signer and service SAS, checked against the official ``azure-storage-blob``
client (the same inputs must give the same signatures) and against Azurite."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import ClassVar

import aiohttp
import pytest

from pystorage import Operator
from pystorage.services.azblob.config import DEV_ACCOUNT_KEY, DEV_ACCOUNT_NAME
from pystorage.services.azblob.signer import API_VERSION, SharedKeySigner, service_sas
from tests.fixtures.azurite import AzuriteServer

pytestmark = pytest.mark.anyio


def test_service_sas_matches_official_client() -> None:
    pytest.importorskip("azure.storage.blob")
    from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature

    expiry = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    signer = SharedKeySigner(DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY)
    ours = urllib.parse.parse_qs(
        service_sas(signer, container="box", blob="dir/a b.txt", permissions="r", expiry=expiry)
    )
    sdk = BlobSharedAccessSignature(DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY)
    sdk.x_ms_version = API_VERSION  # generate_blob_sas always signs for its newest version
    theirs = urllib.parse.parse_qs(sdk.generate_blob("box", "dir/a b.txt", permission="r", expiry=expiry))
    assert ours["sig"] == theirs["sig"]
    assert ours["se"] == theirs["se"] and ours["sp"] == theirs["sp"] and ours["sr"] == theirs["sr"]


def test_shared_key_matches_official_client() -> None:
    pytest.importorskip("azure.storage.blob")
    from azure.core.pipeline import PipelineRequest
    from azure.core.pipeline.transport import HttpRequest
    from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

    headers = {
        "x-ms-version": API_VERSION,
        "x-ms-date": "Mon, 01 Jan 2029 00:00:00 GMT",
        "x-ms-meta-b": "2",
        "x-ms-meta-a": "1",
        "content-type": "text/plain",
        "content-length": "5",
        "if-match": '"0x1"',
    }
    url = "http://127.0.0.1:10000/devstoreaccount1/box/dir/a%20b.txt?comp=block&blockid=YWJj"
    request = HttpRequest("PUT", url, headers=dict(headers))

    class _Context:
        transport = None
        options: ClassVar[dict[str, object]] = {}

    pipeline_request = PipelineRequest(request, _Context())  # type: ignore[arg-type]
    SharedKeyCredentialPolicy(DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY).on_request(pipeline_request)
    ours = dict(headers)
    SharedKeySigner(DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY).sign(
        "PUT", "/devstoreaccount1/box/dir/a%20b.txt", {"comp": "block", "blockid": "YWJj"}, ours
    )
    assert ours["authorization"] == request.headers["Authorization"]


async def test_presigned_requests_work(azurite: AzuriteServer, root: str) -> None:
    op = Operator("azblob", **azurite.config(root))
    try:
        put = await op.presign_write("up/a b.txt", 60)
        assert put.method == "PUT"
        async with aiohttp.ClientSession() as session:
            async with session.put(put.url, data=b"presigned", headers=dict(put.headers)) as answer:
                assert answer.status == 201, await answer.text()
            get = await op.presign_read("up/a b.txt", dt.timedelta(minutes=1))
            async with session.get(get.url) as answer:
                assert answer.status == 200 and await answer.read() == b"presigned"
            head = await op.presign_stat("up/a b.txt", 60)
            async with session.head(head.url) as answer:
                assert answer.status == 200 and answer.headers["Content-Length"] == "9"
            # a read SAS does not allow writes
            async with session.put(get.url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"}) as answer:
                assert answer.status == 403
        assert await op.read("up/a b.txt") == b"presigned"
    finally:
        await op.close()


async def test_wrong_key_is_permission_denied(azurite: AzuriteServer, root: str) -> None:
    from pystorage import errors

    wrong = "A" * 86 + "=="
    op = Operator("azblob", **azurite.config(root), account_name=DEV_ACCOUNT_NAME, account_key=wrong)
    try:
        with pytest.raises(errors.PermissionDenied) as info:
            await op.write("x", b"x")
        assert wrong not in str(info.value)
    finally:
        await op.close()


def test_service_sas_with_encryption_scope_matches_official_client() -> None:
    pytest.importorskip("azure.storage.blob")
    from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature

    expiry = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    signer = SharedKeySigner(DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY)
    ours = urllib.parse.parse_qs(
        service_sas(signer, container="box", blob="k", permissions="cw", expiry=expiry, encryption_scope="sc")
    )
    sdk = BlobSharedAccessSignature(DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY)
    sdk.x_ms_version = API_VERSION
    theirs = urllib.parse.parse_qs(
        sdk.generate_blob("box", "k", permission="cw", expiry=expiry, encryption_scope="sc")
    )
    assert ours["sig"] == theirs["sig"] and ours["ses"] == ["sc"]
