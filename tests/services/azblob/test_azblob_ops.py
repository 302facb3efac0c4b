"""azblob operations beyond the behaviour suite: SAS-token auth, access tiers, token refresh,
listing answers (versions, encoded names), batch splitting."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest

from pystorage import Operator
from pystorage.services.azblob.answers import parse_list_blobs
from pystorage.services.azblob.http import TokenAuth
from tests.fixtures.azurite import AzuriteServer
from tests.fixtures.azurite_proxy import AzuriteProxy

pytestmark = pytest.mark.anyio


async def test_sas_token_auth(azurite: AzuriteServer, root: str, make_op: Callable[..., Operator]) -> None:
    blob = pytest.importorskip("azure.storage.blob")
    from pystorage.services.azblob.config import DEV_ACCOUNT_KEY, DEV_ACCOUNT_NAME

    token = blob.generate_container_sas(
        DEV_ACCOUNT_NAME,
        azurite.container,
        account_key=DEV_ACCOUNT_KEY,
        permission=blob.ContainerSasPermissions(read=True, write=True, delete=True, list=True, create=True),
        expiry=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1),
    )
    op = make_op(**azurite.config(root), sas_token="?" + token)
    assert not op.capability().presign  # a service SAS needs the account key
    await op.write("a", b"1")
    await op.write("b", b"2" * (3 << 20), chunk=1 << 20)
    await op.write("log", b"x", append=True)
    assert await op.read("a") == b"1"
    assert sorted([e.path async for e in op.list("/")]) == ["a", "b", "log"]
    await op.copy("a", "c")
    await op.delete_many(["a", "b", "c", "log"])  # Blob Batch: each sub-request carries the SAS
    assert [e.path async for e in op.list("/")] == []


async def test_access_tier(azurite: AzuriteServer, root: str, make_op: Callable[..., Operator]) -> None:
    blob = pytest.importorskip("azure.storage.blob")
    op = make_op(**azurite.config(root), default_storage_class="Cool")
    await op.write("cool", b"x")
    await op.write("cool-blocks", b"y" * (3 << 20), chunk=1 << 20)
    service = blob.BlobServiceClient.from_connection_string(azurite.connection_string())
    try:
        container = service.get_container_client(azurite.container)
        for name in ("cool", "cool-blocks"):
            assert container.get_blob_client(root + name).get_blob_properties().blob_tier == "Cool"
    finally:
        service.close()


async def test_batches_are_split(
    azurite_proxy: tuple[AzuriteProxy, AzuriteServer], root: str, make_op: Callable[..., Operator]
) -> None:
    proxy, server = azurite_proxy
    op = make_op(**server.config(root), batch_max_operations=3)
    for i in range(7):
        await op.write(f"{i}", b"x")
    proxy.clear()
    await op.delete_many([str(i) for i in range(7)])
    assert len(proxy.recorded("POST")) == 3
    assert [e async for e in op.list("/")] == []


async def test_without_batch(
    azurite_proxy: tuple[AzuriteProxy, AzuriteServer], root: str, make_op: Callable[..., Operator]
) -> None:
    proxy, server = azurite_proxy
    op = make_op(**server.config(root), disable_batch=True)
    for i in range(3):
        await op.write(f"{i}", b"x")
    proxy.clear()
    await op.delete_many([str(i) for i in range(3)])
    assert len(proxy.recorded("DELETE")) == 3 and not proxy.recorded("POST")


class _Token:
    def __init__(self, token: str, expires_on: float) -> None:
        self.token, self.expires_on = token, expires_on


class _Credential:
    def __init__(self) -> None:
        self.calls = 0
        self.lifetime = 3600.0

    async def get_token(self, *scopes: str) -> _Token:
        assert scopes == ("https://storage.azure.com/.default",)
        self.calls += 1
        return _Token(f"token-{self.calls}", time.time() + self.lifetime)


async def test_tokens_cached_and_refreshed_before_expiry() -> None:
    credential = _Credential()
    auth = TokenAuth(credential)
    headers: dict[str, str] = {}
    await auth.authorize("GET", "/c/b", {}, headers)
    await auth.authorize("GET", "/c/b", {}, headers)
    assert credential.calls == 1 and headers["authorization"] == "Bearer token-1"
    credential.lifetime = 60.0  # the next token expires within the refresh margin
    auth._expires = time.time() + 10
    await auth.authorize("GET", "/c/b", {}, headers)
    assert credential.calls == 2 and headers["authorization"] == "Bearer token-2"
    assert "token" not in repr(auth).replace("TokenAuth", "")


def test_list_answer_with_versions_and_encoded_names() -> None:
    payload = b"""<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ContainerName="c"><Prefix>r/</Prefix><Blobs>
<Blob><Name>r/a</Name><VersionId>2024-01-01T00:00:00.0000000Z</VersionId><IsCurrentVersion>true</IsCurrentVersion>
<Properties><Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified><Etag>0x1</Etag>
<Content-Length>3</Content-Length><Content-Type>text/plain</Content-Type><Content-MD5 /></Properties>
<Metadata><Owner>me</Owner></Metadata></Blob>
<Blob><Name>r/a</Name><VersionId>2023-01-01T00:00:00.0000000Z</VersionId>
<Properties><Content-Length>1</Content-Length><Etag>0x0</Etag></Properties></Blob>
<Blob><Name Encoded="true">r/%EF%BF%BEodd</Name>
<Properties><Content-Length>0</Content-Length></Properties></Blob>
<BlobPrefix><Name>r/sub/</Name></BlobPrefix>
</Blobs><NextMarker>tok</NextMarker></EnumerationResults>"""
    page = parse_list_blobs(payload)
    names = [(name, meta.version, current) for name, meta, current in page.blobs]
    assert names == [
        ("r/a", "2024-01-01T00:00:00.0000000Z", True),
        ("r/a", "2023-01-01T00:00:00.0000000Z", False),
        ("r/\ufffeodd", None, True),
    ]
    first = page.blobs[0][1]
    assert first.etag == '"0x1"' and first.content_length == 3 and first.content_type == "text/plain"
    assert first.user_metadata == {"owner": "me"} and first.last_modified is not None
    assert page.prefixes == ["r/sub/"] and page.next_marker == "tok"


def test_garbage_list_answer_is_temporary() -> None:
    from pystorage import errors

    with pytest.raises(errors.Unexpected) as info:
        parse_list_blobs(b"<html>proxy error</html>")
    assert info.value.temporary
