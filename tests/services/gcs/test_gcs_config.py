"""Config of the gcs service: keys, credentials, secrets kept out of repr and errors (no server needed)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from pystorage import Operator, errors
from pystorage.raw.config import config_repr, parse_config
from pystorage.services import SERVICES
from pystorage.services.gcs import CAPABILITY, SCHEME, URI_NAME_KEY, GcsAccessor, GcsConfig, build
from pystorage.services.gcs.core import DEFAULT_ENDPOINT
from tests.fixtures.gcs import ServiceAccountKey, make_service_account

ENDPOINT = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def account() -> ServiceAccountKey:
    """A service-account key whose token endpoint nobody listens on (no request is made here)."""
    return make_service_account("http://127.0.0.1:9/token")


def test_registered() -> None:
    assert SERVICES["gcs"] == "pystorage.services.gcs"
    assert SCHEME == "gcs"
    assert URI_NAME_KEY == "bucket"


def test_build_anonymous_with_endpoint() -> None:
    accessor = build({"bucket": "b1", "root": "/a/b", "endpoint": ENDPOINT, "disable_config_load": True})
    assert isinstance(accessor, GcsAccessor)
    info = accessor.info()
    assert (info.scheme, info.name, info.root) == ("gcs", "b1", "/a/b/")
    assert info.capability == CAPABILITY
    assert not info.capability.presign and not info.capability.presign_read
    assert accessor.core.auth.mode == "anonymous"
    assert accessor.core.endpoint == ENDPOINT


def test_capability_is_honest_about_what_is_missing() -> None:
    cap = build({"bucket": "b1", "endpoint": ENDPOINT, "disable_config_load": True}).info().capability
    # appends and multipart uploads are composed; SSE is CMEK / CSEK (S3Managed: Google-managed keys)
    assert cap.write_can_append and cap.multipart and not cap.write_can_multi
    assert cap.write_with_sse_c and cap.write_with_sse_kms and cap.write_with_sse_s3
    assert cap.write_with_if_not_exists and cap.write_with_if_match
    assert cap.read_with_version and cap.stat_with_version and cap.delete_with_version
    assert not cap.list_with_versions and cap.delete_max_size is None


def test_operator_and_uri() -> None:
    op = Operator.from_uri(f"gcs://b2/some/prefix?endpoint={ENDPOINT}&disable_config_load=true")
    assert (op.info.scheme, op.info.name, op.info.root) == ("gcs", "b2", "/some/prefix/")
    assert op.capability().read


def test_bucket_required() -> None:
    with pytest.raises(errors.ConfigInvalid, match="bucket"):
        Operator("gcs", endpoint=ENDPOINT)


@pytest.mark.parametrize("bucket", ["a/b", "x\x00y"])
def test_bad_bucket(bucket: str) -> None:
    with pytest.raises(errors.ConfigInvalid, match="bucket"):
        Operator("gcs", bucket=bucket, endpoint=ENDPOINT)


def test_unknown_key_named() -> None:
    with pytest.raises(errors.ConfigInvalid, match="regoin"):
        Operator("gcs", bucket="b", endpoint=ENDPOINT, regoin="x")


def test_bad_endpoint() -> None:
    with pytest.raises(errors.ConfigInvalid, match="endpoint"):
        Operator("gcs", bucket="b", endpoint="127.0.0.1:9")


def test_bad_predefined_acl() -> None:
    with pytest.raises(errors.ConfigInvalid, match="predefined_acl"):
        Operator("gcs", bucket="b", endpoint=ENDPOINT, predefined_acl="everyone")
    assert Operator("gcs", bucket="b", endpoint=ENDPOINT, predefined_acl="publicRead").capability().write


def test_credentials_are_exclusive(account: ServiceAccountKey) -> None:
    with pytest.raises(errors.ConfigInvalid, match="exclusive"):
        Operator("gcs", bucket="b", credential=account.json, token="abc")


def test_credential_raw_json_enables_presign(account: ServiceAccountKey) -> None:
    accessor = build({"bucket": "b", "endpoint": ENDPOINT, "credential": account.json})
    cap = accessor.info().capability
    assert cap.presign and cap.presign_read and cap.presign_write and cap.presign_stat
    assert accessor.core.auth.mode == "oauth"
    assert accessor.core.service_account is not None
    assert accessor.core.service_account.client_email == account.client_email


def test_credential_base64(account: ServiceAccountKey) -> None:
    encoded = base64.b64encode(account.json.encode()).decode()
    accessor = build({"bucket": "b", "endpoint": ENDPOINT, "credential": encoded})
    assert accessor.info().capability.presign_read


def test_credential_path(account: ServiceAccountKey, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(account.json)
    accessor = build({"bucket": "b", "endpoint": ENDPOINT, "credential_path": str(path)})
    assert accessor.info().capability.presign_read
    with pytest.raises(errors.ConfigInvalid, match="credential_path"):
        build({"bucket": "b", "credential_path": str(tmp_path / "missing.json")})


def test_non_service_account_credential_has_no_presign() -> None:
    user = {
        "type": "authorized_user",
        "client_id": "x",
        "client_secret": "s3cr3t-value",
        "refresh_token": "r",
    }
    accessor = build({"bucket": "b", "endpoint": ENDPOINT, "credential": json.dumps(user)})
    assert accessor.core.auth.mode == "oauth"
    assert not accessor.info().capability.presign


@pytest.mark.parametrize("value", ["not json at all", base64.b64encode(b"[1, 2]").decode(), "{broken"])
def test_bad_credential_never_echoed(value: str) -> None:
    with pytest.raises(errors.ConfigInvalid) as info:
        Operator("gcs", bucket="b", credential=value)
    assert "credential" in str(info.value)
    assert value not in str(info.value)


def test_bad_private_key(account: ServiceAccountKey) -> None:
    broken = dict(account.info, private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(errors.ConfigInvalid, match="private_key") as info:
        Operator("gcs", bucket="b", credential=json.dumps(broken))
    assert "AAAA" not in str(info.value)


def test_secrets_not_in_repr(account: ServiceAccountKey) -> None:
    key_line = account.info["private_key"].splitlines()[1]
    config = parse_config(GcsConfig, "gcs", {"bucket": "b", "credential": account.json})
    for text in (repr(config), config_repr(config)):
        assert key_line not in text and "BEGIN" not in text
    accessor = build({"bucket": "b", "endpoint": ENDPOINT, "credential": account.json})
    for text in (
        repr(accessor),
        repr(accessor.core),
        repr(accessor.core.service_account),
        repr(accessor.core.auth),
    ):
        assert key_line not in text
    static = parse_config(GcsConfig, "gcs", {"bucket": "b", "token": "ya29.very-secret-token"})
    assert "very-secret" not in repr(static) and "very-secret" not in config_repr(static)
    assert "token=<redacted>" in config_repr(static)


def test_static_token_mode() -> None:
    accessor = build({"bucket": "b", "token": "ya29.very-secret-token"})
    assert accessor.core.auth.mode == "static"
    assert "very-secret" not in repr(accessor)
    assert not accessor.info().capability.presign
    assert accessor.core.endpoint == DEFAULT_ENDPOINT


def test_no_credential_without_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    with pytest.raises(errors.ConfigInvalid, match="allow_anonymous"):
        build({"bucket": "b", "disable_config_load": True, "disable_vm_metadata": True})
    assert (
        build({"bucket": "b", "disable_config_load": True, "allow_anonymous": True}).core.auth.mode
        == "anonymous"
    )
    # nothing found and the VM metadata server allowed: gcloud-aio-auth asks it for tokens
    assert build({"bucket": "b", "disable_config_load": True}).core.auth.mode == "oauth"


def test_application_default_credentials(
    account: ServiceAccountKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "adc.json"
    path.write_text(account.json)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    accessor = build({"bucket": "b", "endpoint": ENDPOINT})
    assert accessor.core.auth.mode == "oauth"
    assert accessor.info().capability.presign_read
    ignored = build({"bucket": "b", "endpoint": ENDPOINT, "disable_config_load": True})
    assert ignored.core.auth.mode == "anonymous"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(errors.ConfigInvalid, match="GOOGLE_APPLICATION_CREDENTIALS"):
        build({"bucket": "b", "endpoint": ENDPOINT})


def test_storage_emulator_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")
    accessor = build({"bucket": "b", "disable_config_load": True})
    assert accessor.core.endpoint == "http://127.0.0.1:4443"
    assert accessor.core.auth.mode == "anonymous"
    explicit = build({"bucket": "b", "endpoint": ENDPOINT, "disable_config_load": True})
    assert explicit.core.endpoint == ENDPOINT
