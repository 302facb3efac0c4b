"""Config parsing and the capability it yields (no server needed)."""

from __future__ import annotations

import pytest

from pystorage import Operator, errors
from pystorage.services import s3
from pystorage.services.s3 import CAPABILITY, S3Config, capability_for
from pystorage.services.s3.config import parse_capability_override

SECRETS = {"access_key_id": "AKIAEXAMPLEKEYID", "secret_access_key": "very-secret-value/xyz"}


def test_bucket_is_required() -> None:
    with pytest.raises(errors.ConfigInvalid, match="'bucket'"):
        s3.build({})


def test_unknown_key_is_named() -> None:
    with pytest.raises(errors.ConfigInvalid, match="'bucktet'"):
        s3.build({"bucket": "b", "bucktet": "x"})


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"bucket": "a/b"}, "bucket"),
        ({"bucket": "b", "endpoint": "127.0.0.1:9000"}, "endpoint"),
        ({"bucket": "b", "access_key_id": "x"}, "secret_access_key"),
        ({"bucket": "b", "session_token": "t"}, "session_token"),
        ({"bucket": "b", "checksum_algorithm": "crc99"}, "checksum_algorithm"),
        ({"bucket": "b", "batch_max_operations": 0}, "batch_max_operations"),
        ({"bucket": "b", "batch_max_operations": 1001}, "batch_max_operations"),
        ({"bucket": "b", "enable_versioning": "maybe"}, "enable_versioning"),
    ],
)
def test_invalid_values_name_the_key(config: dict[str, object], key: str) -> None:
    with pytest.raises(errors.ConfigInvalid, match=key):
        s3.build(config)


def test_uri_strings_are_coerced() -> None:
    accessor = s3.build(
        {
            "bucket": "b",
            "enable_virtual_host_style": "true",
            "batch_max_operations": "10",
            "checksum_algorithm": "SHA256",
        }
    )
    assert accessor.info().capability.delete_max_size == 10
    assert "checksum_algorithm='sha256'" in repr(accessor)
    assert "enable_virtual_host_style=True" in repr(accessor)


def test_secrets_never_in_repr_or_errors() -> None:
    accessor = s3.build({"bucket": "b", "session_token": "session-token-value", **SECRETS})
    text = repr(accessor) + repr(Operator("s3", bucket="b", **SECRETS))
    for secret in (*SECRETS.values(), "session-token-value"):
        assert secret not in text
    assert "access_key_id=<redacted>" in repr(accessor)
    with pytest.raises(errors.ConfigInvalid) as info:
        s3.build({"bucket": "b", "access_key_id": SECRETS["access_key_id"], "secret_access_key": 42})
    assert SECRETS["access_key_id"] not in str(info.value)
    assert "42" not in str(info.value)


def test_info_and_root() -> None:
    accessor = s3.build({"bucket": "b", "root": "/a//b/"})
    info = accessor.info()
    assert (info.scheme, info.root, info.name) == ("s3", "/a/b/", "b")
    assert accessor.core.key("x/y") == "a/b/x/y"
    assert accessor.core.key("/") == "a/b/"
    assert s3.build({"bucket": "b"}).core.key("x") == "x"


def test_from_uri() -> None:
    op = Operator.from_uri("s3://bkt/some/prefix?region=eu-west-1&endpoint=http://127.0.0.1:9&enable_versioning=true")
    assert op.info.name == "bkt"
    assert op.info.root == "/some/prefix/"
    assert op.capability().read_with_version


def test_default_capability_is_honest() -> None:
    cap = s3.build({"bucket": "b"}).info().capability
    assert cap == capability_for(S3Config(bucket="b"))
    assert cap.multipart and cap.write_can_multi and not cap.write_can_append
    assert (cap.write_multi_min_size, cap.write_multi_max_size, cap.write_multi_max_parts) == (
        5 * 1024**2,
        5 * 1024**3,
        10_000,
    )
    assert cap.delete_max_size == 1000
    assert cap.presign and cap.presign_read and cap.presign_write and cap.presign_stat
    assert cap.write_with_if_not_exists and cap.write_with_if_match and not cap.write_with_if_none_match
    # versions need a versioned bucket
    assert not (cap.read_with_version or cap.stat_with_version or cap.list_with_versions)
    assert cap.write_with_sse_s3 and cap.write_with_sse_kms and cap.write_with_sse_c


def test_versioning_and_if_match_switches() -> None:
    cap = capability_for(S3Config(bucket="b", enable_versioning=True, disable_write_with_if_match=True))
    assert cap.read_with_version and cap.stat_with_version
    assert cap.delete_with_version and cap.list_with_versions
    assert not cap.write_with_if_match
    assert cap.write_with_if_not_exists


def test_capability_override_string_and_mapping() -> None:
    cap = capability_for(
        S3Config(
            bucket="b",
            capability_override="read_with_if_match=false, create_dir=0,write_multi_max_parts=1000",
        )
    )
    assert not cap.read_with_if_match and not cap.create_dir
    assert cap.write_multi_max_parts == 1000
    assert cap.read_with_if_none_match  # untouched
    override = {"presign": False, "write_multi_min_size": 1}
    cap = capability_for(S3Config(bucket="b", capability_override=override))
    assert not cap.presign and cap.write_multi_min_size == 1
    assert CAPABILITY.presign  # the module constant is not changed


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("no_such_cap=false", "unknown capability 'no_such_cap'"),
        ("write_can_append=true", "can only be set to false"),
        ({"write_can_append": True}, "can only be set to false"),
        ("write_multi_min_size=-3", "positive int"),
        ("write_multi_min_size=none", "positive int"),
        ("create_dir", "not name=value"),
        (42, "str or a mapping"),
    ],
)
def test_capability_override_refuses_claims(value: object, match: str) -> None:
    with pytest.raises(errors.ConfigInvalid, match=match):
        parse_capability_override(value)  # type: ignore[arg-type]
    if isinstance(value, (str, dict)):
        with pytest.raises(errors.ConfigInvalid, match="capability_override"):
            s3.build({"bucket": "b", "capability_override": value})


def test_checksums_are_on_by_default_and_can_be_turned_off() -> None:
    # crc32c is computed by pystorage (no botocore CRT needed)
    assert s3.build({"bucket": "b"})._config.checksum_algorithm == "crc32c"  # type: ignore[attr-defined]
    for off in ("none", "NONE", None):
        accessor = s3.build({"bucket": "b", "checksum_algorithm": off})
        assert accessor._config.checksum_algorithm is None  # type: ignore[attr-defined]
    with pytest.raises(errors.ConfigInvalid, match="checksum_algorithm"):
        s3.build({"bucket": "b", "checksum_algorithm": "crc64"})
