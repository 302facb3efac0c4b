"""Config of the azblob service: keys, validation, credentials, URIs, capability, secrets."""

from __future__ import annotations

import base64
import hashlib
import pickle

import pytest

from pystorage import Operator, errors
from pystorage.services.azblob import CAPABILITY, AzblobAccessor
from pystorage.services.azblob.config import DEV_ACCOUNT_NAME, AzblobConfig
from pystorage.services.azblob.core import resolve_endpoint
from pystorage.services.azblob.http import SasAuth, SharedKeyAuth, TokenAuth
from tests.fixtures.azurite import AZURITE_CONTAINER

KEY = base64.b64encode(b"k" * 64).decode()
CPK = base64.b64encode(bytes(range(32))).decode()


def test_container_required() -> None:
    with pytest.raises(errors.ConfigInvalid, match="container"):
        Operator("azblob", endpoint="http://127.0.0.1:1/devstoreaccount1")


@pytest.mark.parametrize(
    "name",
    ["c", "ab", "a" * 64, "Box", "-box", "box-", "bo--x", "bo_x", "box@acct.dfs.core.windows.net", "$other"],
)
def test_invalid_container_name_refused_before_any_request(name: str) -> None:
    # the port is closed: a request would fail with a transport error, not ConfigInvalid
    with pytest.raises(errors.ConfigInvalid, match="'container'"):
        Operator("azblob", container=name, endpoint="http://127.0.0.1:1/devstoreaccount1")


@pytest.mark.parametrize(
    "name", ["abc", "a" * 63, "a-b-c", "0box9", "$root", "$web", "$logs", AZURITE_CONTAINER]
)
def test_valid_container_names(name: str) -> None:
    op = Operator("azblob", container=name, endpoint="http://127.0.0.1:1/devstoreaccount1")
    assert op.info.name == name


def test_unknown_key_named() -> None:
    with pytest.raises(errors.ConfigInvalid, match="acount_key"):
        Operator("azblob", container="box", account_name="a", acount_key=KEY)


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"endpoint": "ftp://x"}, "endpoint"),
        ({"account_name": "a", "account_key": "not base64!"}, "account_key"),
        ({"account_name": "a", "encryption_key": "c2hvcnQ="}, "encryption_key"),
        (
            {"account_name": "a", "encryption_key": CPK, "encryption_key_sha256": "AAAA"},
            "encryption_key_sha256",
        ),
        ({"account_name": "a", "encryption_key": CPK, "encryption_algorithm": "DES"}, "encryption_algorithm"),
        ({"account_name": "a", "batch_max_operations": 257}, "batch_max_operations"),
        ({"account_name": "a", "read_timeout": 0}, "read_timeout"),
        ({"account_name": "a", "connect_timeout": "inf"}, "connect_timeout"),
        ({"account_name": "a", "default_storage_class": "Glacier"}, "default_storage_class"),
        ({"account_name": "a", "credential": "magic"}, "credential"),
        ({"account_name": "a", "capability_override": "write=true"}, "capability_override"),
        ({"account_name": "a", "capability_override": "nonsense=false"}, "capability_override"),
        ({}, "account_name"),
    ],
)
def test_invalid_values_named(config: dict[str, object], name: str) -> None:
    with pytest.raises(errors.ConfigInvalid, match=name):
        Operator("azblob", container="box", **config)


def test_customer_key_sha256_checked() -> None:
    digest = base64.b64encode(hashlib.sha256(bytes(range(32))).digest()).decode()
    op = Operator(
        "azblob",
        container="box",
        account_name="a",
        account_key=KEY,
        encryption_key=CPK,
        encryption_key_sha256=digest,
    )
    assert op.capability().write_with_sse_c


def test_encryption_key_and_scope_exclusive() -> None:
    with pytest.raises(errors.ConfigInvalid, match="exclude"):
        Operator(
            "azblob",
            container="box",
            account_name="a",
            account_key=KEY,
            encryption_key=CPK,
            encryption_scope="s",
        )


def test_secrets_never_shown() -> None:
    op = Operator("azblob", container="box", account_name="acct", account_key=KEY, encryption_key=CPK)
    inner = op.accessor
    while not isinstance(inner, AzblobAccessor):
        inner = inner.inner  # type: ignore[attr-defined]
    shown = repr(inner) + repr(op) + repr(inner.core.signer) + repr(inner.core.http.auth.__dict__)
    assert KEY not in shown and CPK not in shown
    sas = Operator("azblob", container="box", account_name="acct", sas_token="sv=1&sig=SECRETSIG")
    inner_sas = sas.accessor
    assert isinstance(inner_sas, AzblobAccessor)
    assert "SECRETSIG" not in repr(inner_sas) and "SECRETSIG" not in repr(inner_sas.core.http.auth)


def test_endpoints_and_accounts() -> None:
    assert resolve_endpoint(AzblobConfig(container="box", account_name="acct")) == (
        "https://acct.blob.core.windows.net",
        "",
        "acct",
        False,
    )
    assert resolve_endpoint(
        AzblobConfig(container="box", endpoint="http://127.0.0.1:10000/devstoreaccount1")
    ) == (
        "http://127.0.0.1:10000",
        "/devstoreaccount1",
        DEV_ACCOUNT_NAME,
        True,
    )
    assert resolve_endpoint(
        AzblobConfig(container="box", endpoint="https://other.blob.core.windows.net/")
    ) == (
        "https://other.blob.core.windows.net",
        "",
        "other",
        False,
    )


def _auth(op: Operator) -> object:
    accessor = op.accessor
    assert isinstance(accessor, AzblobAccessor)
    return accessor.core.http.auth


def test_credential_choice() -> None:
    assert isinstance(
        _auth(Operator("azblob", container="box", account_name="a", account_key=KEY)), SharedKeyAuth
    )
    assert isinstance(
        _auth(Operator("azblob", container="box", account_name="a", sas_token="?sv=x&sig=y")), SasAuth
    )
    # an emulator endpoint and nothing else: the well-known development account
    dev = Operator("azblob", container="box", endpoint="http://127.0.0.1:10000/devstoreaccount1")
    auth = _auth(dev)
    assert isinstance(auth, SharedKeyAuth) and auth.signer.account == DEV_ACCOUNT_NAME
    assert dev.capability().presign_read


def test_default_credential_needs_azure_identity() -> None:
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        with pytest.raises(errors.ConfigInvalid, match="azblob-identity"):
            Operator("azblob", container="box", account_name="a")
        return
    op = Operator("azblob", container="box", account_name="a")
    assert isinstance(_auth(op), TokenAuth)
    assert not op.capability().presign_read  # a service SAS needs the account key


def test_sas_only_cannot_presign() -> None:
    op = Operator("azblob", container="box", account_name="a", sas_token="sv=x&sig=y")
    assert not op.capability().presign


def test_capability_adjustments() -> None:
    base = Operator("azblob", container="box", account_name="a", account_key=KEY).capability()
    assert base == CAPABILITY
    assert base.write_can_multi and base.write_can_append and not base.multipart
    assert base.delete_max_size == 256
    versioned = Operator("azblob", container="box", account_name="a", account_key=KEY, enable_versioning=True)
    assert versioned.capability().read_with_version and versioned.capability().list_with_versions
    nobatch = Operator("azblob", container="box", account_name="a", account_key=KEY, disable_batch=True)
    assert nobatch.capability().delete_max_size is None
    small = Operator("azblob", container="box", account_name="a", account_key=KEY, batch_max_operations=10)
    assert small.capability().delete_max_size == 10
    override = Operator(
        "azblob",
        container="box",
        account_name="a",
        account_key=KEY,
        capability_override="write_with_sse_c=false,write_multi_max_parts=100",
    )
    assert not override.capability().write_with_sse_c
    assert override.capability().write_multi_max_parts == 100


@pytest.mark.parametrize("scheme", ["azblob", "az", "abfs", "abfss"])
def test_from_uri(scheme: str) -> None:
    op = Operator.from_uri(
        f"{scheme}://box/some/prefix?account_name=acct&account_key={KEY.replace('=', '%3D')}"
    )
    assert op.info.scheme == "azblob"
    assert op.info.name == "box"
    assert op.info.root == "/some/prefix/"


def _endpoint(op: Operator) -> tuple[str, str, str, bool]:
    accessor = op.accessor
    assert isinstance(accessor, AzblobAccessor)
    return resolve_endpoint(accessor.core.config)


@pytest.mark.parametrize("scheme", ["az", "abfs", "abfss"])
@pytest.mark.parametrize("service", ["dfs", "blob"])
def test_from_uri_account_form(scheme: str, service: str) -> None:
    op = Operator.from_uri(
        f"{scheme}://box@acct.{service}.core.windows.net/some/prefix?account_key={KEY.replace('=', '%3D')}"
    )
    assert op.info.name == "box"
    assert op.info.root == "/some/prefix/"
    # the driver speaks the Blob API: a dfs host is reached at the account's blob endpoint
    assert _endpoint(op) == ("https://acct.blob.core.windows.net", "", "acct", False)
    auth = _auth(op)
    assert isinstance(auth, SharedKeyAuth) and auth.signer.account == "acct"


def test_from_uri_account_form_other_host_and_query_override() -> None:
    other = Operator.from_uri("abfss://box@store.example.com:8443/p?sas_token=sv%3D1%26sig%3Dx")
    assert other.info.name == "box"
    assert _endpoint(other) == ("https://store.example.com:8443", "", "store", False)
    # query parameters still override what the host implies
    op = Operator.from_uri(
        "abfs://box@acct.dfs.core.windows.net/?account_name=other&endpoint=http%3A%2F%2F127.0.0.1%3A1%2Fdevstoreaccount1"
    )
    assert op.info.name == "box"
    assert _endpoint(op) == ("http://127.0.0.1:1", "/devstoreaccount1", "other", True)


def test_from_uri_azblob_host_is_the_container_alone() -> None:
    # the @ form is adlfs's; azblob:// takes the container as host, and '@' is not in a container name
    with pytest.raises(errors.ConfigInvalid, match="'container'"):
        Operator.from_uri("azblob://box@acct.dfs.core.windows.net/?account_name=acct")


def test_pickle_round_trip() -> None:
    op = Operator("azblob", container="box", account_name="a", account_key=KEY)
    copy = pickle.loads(pickle.dumps(op))
    assert copy.info == op.info
    assert copy.capability() == op.capability()
