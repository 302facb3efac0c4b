"""Azurite's limitations, each proven with the official ``azure-storage-blob`` client
(or a raw request where that client refuses to send one), and how the driver copes.

- no blob versioning: uploads get no version id, so the behaviour case keeps
  ``enable_versioning`` off (the version capabilities stay undeclared);
- encryption scopes are accepted and ignored: ``write_with_sse_kms=false``
  in ``AZURITE_CAPABILITY_OVERRIDE``;
- customer-provided keys are refused (``FeatureNotSupported`` in strict mode;
  the official client will not even send them over HTTP):
  ``write_with_sse_c=false``; the headers are proven on the wire by the proxy
  (``test_azblob_wire.py``);
- Put Block From URL is not implemented: the driver never uses it (copies are
  Copy Blob, polled);
- a range starting at the blob's length answers ``206 bytes n-(n-1)/n``
  where Azure answers 416: both read as ``b""``;
- List Blobs markers are blob names on Azurite but opaque on Azure: the
  driver applies ``start_after`` on the client and only passes markers back.
Blob Batch does work, so ``delete_max_size`` stays declared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pystorage import Operator, errors, sse
from pystorage.layers import ServerSideEncryptionLayer
from pystorage.raw.ops import OpWrite
from pystorage.services.azblob import AzblobAccessor
from pystorage.services.azblob.errors import map_errors
from tests.fixtures.azurite import AZURITE_CAPABILITY_OVERRIDE, AzuriteServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def container(azurite: AzuriteServer) -> Any:
    blob = pytest.importorskip("azure.storage.blob")
    service = blob.BlobServiceClient.from_connection_string(azurite.connection_string())
    try:
        yield service.get_container_client(azurite.container)
    finally:
        service.close()


def test_override_declares_what_azurite_lacks() -> None:
    assert set(AZURITE_CAPABILITY_OVERRIDE.split(",")) == {
        "write_with_sse_kms=false",
        "write_with_sse_c=false",
    }


def test_no_versioning(container: Any, root: str) -> None:
    client = container.get_blob_client(root + "v")
    first = client.upload_blob(b"1", overwrite=True)
    second = client.upload_blob(b"2", overwrite=True)
    assert first.get("version_id") is None and second.get("version_id") is None
    assert client.get_blob_properties().version_id is None
    listed = list(container.list_blobs(name_starts_with=root, include=["versions"]))
    assert len(listed) == 1


def test_encryption_scope_ignored(container: Any, root: str) -> None:
    client = container.get_blob_client(root + "scoped")
    client.upload_blob(b"x", overwrite=True, encryption_scope="pystorage-scope")
    assert client.get_blob_properties().encryption_scope is None


async def test_encryption_scope_ignored_through_driver(
    azurite: AzuriteServer, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op(container=azurite.container, root=root, endpoint=azurite.url)  # no override
    enc = op.layer(ServerSideEncryptionLayer(sse.Kms(key_id="pystorage-scope")))
    await enc.write("scoped", b"x")
    reported = (await op.stat("scoped")).encryption
    assert reported is None or reported.algorithm != "CMEK"  # the scope was not applied


def test_official_client_refuses_customer_key_over_http(container: Any, root: str) -> None:
    blob = pytest.importorskip("azure.storage.blob")
    key = blob.CustomerProvidedEncryptionKey(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "Yw3NKWbEM2aRElRIu7JbT/QSpJxzLbLIq8G4WBvXEN0="
    )
    with pytest.raises(ValueError, match="HTTPS"):
        container.get_blob_client(root + "cpk").upload_blob(b"x", cpk=key)


async def test_customer_key_refused(
    azurite: AzuriteServer, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op(container=azurite.container, root=root, endpoint=azurite.url)
    accessor = op.accessor
    assert isinstance(accessor, AzblobAccessor)
    with pytest.raises(errors.Unsupported, match="FeatureNotSupported") as info, map_errors("write", "cpk"):
        await accessor.core.put_blob(accessor.core.key("cpk"), b"x", OpWrite(sse=sse.CustomerKey(bytes(32))))
    assert not info.value.temporary
    assert not await op.exists("cpk")
    # declared off: refused before any request
    declared = make_op(**azurite.config(root))
    with pytest.raises(errors.Unsupported):
        await declared.layer(ServerSideEncryptionLayer(sse.CustomerKey(bytes(32)))).write("cpk", b"x")


def test_put_block_from_url_not_implemented(container: Any, root: str) -> None:
    from azure.core.exceptions import HttpResponseError

    source = container.get_blob_client(root + "source")
    source.upload_blob(b"x", overwrite=True)
    with pytest.raises(HttpResponseError, match="not implemented"):
        container.get_blob_client(root + "target").stage_block_from_url("MDAx", source.url)


def test_batch_delete_works(container: Any, root: str) -> None:
    for name in ("a", "b"):
        container.get_blob_client(root + name).upload_blob(b"x", overwrite=True)
    results = container.delete_blobs(root + "a", root + "b")
    assert [r.status_code for r in results] == [202, 202]


def test_range_at_length_is_206_empty(container: Any, root: str) -> None:
    client = container.get_blob_client(root + "five")
    client.upload_blob(b"12345", overwrite=True)
    assert client.download_blob(offset=5, length=3).readall() == b""


async def test_range_at_length_reads_empty(
    azurite: AzuriteServer, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op(**azurite.config(root))
    await op.write("five", b"12345")
    assert await op.read("five", offset=5) == b""
    assert await op.read("five", offset=5, size=3) == b""
    with pytest.raises(errors.RangeNotSatisfied):
        await op.read("five", offset=6)


def test_markers_are_names_on_azurite(container: Any, root: str) -> None:
    for i in range(3):
        container.get_blob_client(f"{root}m/{i}").upload_blob(b"x", overwrite=True)
    pages = container.list_blobs(name_starts_with=root + "m/", results_per_page=2).by_page()
    next(pages)
    assert pages.continuation_token == f"{root}m/1"  # Azure's markers are opaque tokens


async def test_start_after_across_pages(
    azurite: AzuriteServer, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op(**azurite.config(root))
    for i in range(7):
        await op.write(f"p/{i}", b"x")
    found = [e.path async for e in op.list("p/", start_after="p/2", limit=3)]
    assert found == ["p/3", "p/4", "p/5"]
    assert [e.path async for e in op.list("p/", start_after="p/5")] == ["p/6"]


def test_listing_a_control_character_name_fails(container: Any, root: str) -> None:
    # why tests/behavior/test_awkward_keys.py does not list that name on azblob
    from azure.core.exceptions import HttpResponseError

    container.get_blob_client(root + "bell\x07").upload_blob(b"x", overwrite=True)
    assert container.get_blob_client(root + "bell\x07").download_blob().readall() == b"x"
    with pytest.raises(HttpResponseError) as info:
        list(container.list_blobs(name_starts_with=root, retry_total=0))
    assert info.value.status_code == 500
    container.get_blob_client(root + "bell\x07").delete_blob()
