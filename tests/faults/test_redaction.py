"""Secrets stay out of reprs, logs and tracebacks.

* ``repr(PresignedRequest)`` hides the signature, credential and token values
  and secret headers;
* a traceback formatted later from ``exc_info`` (by the handler, after the
  filters ran) is redacted too;
* credentials found by the default chain (environment, web identity) are
  registered with the redacting filter, as configured ones are.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pystorage import Operator, sse
from pystorage.layers import ServerSideEncryptionLayer
from pystorage.raw.redact import REDACTED, install_redaction, redact_url
from pystorage.types import PresignedRequest
from tests.conftest import make_random_root
from tests.fixtures.s3 import S3Server

SIGNED = (
    "https://b.s3.us-east-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLEKEY%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z"
    "&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLETOKEN"
    "&X-Amz-Signature=0123456789abcdef0123456789abcdef"
)


@pytest.fixture
def anyio_backend() -> str:
    """aiobotocore is asyncio-only."""
    return "asyncio"


def test_presigned_request_repr_hides_signature_token_and_secret_headers() -> None:
    request = PresignedRequest(
        "GET",
        SIGNED,
        {"x-amz-server-side-encryption-customer-key": "c2VjcmV0LWtleQ==", "Content-Type": "text/plain"},
    )
    for text in (repr(request), str(request), f"{[request]}"):
        for secret in ("AKIAEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLETOKEN", "0123456789abcdef", "c2VjcmV0LWtleQ=="):
            assert secret not in text, text
        assert "X-Amz-Expires=600" in text and "text/plain" in text and REDACTED in text
    assert request.url == SIGNED  # the value itself is intact: whoever sends it needs it


def test_redact_url_keeps_what_the_url_is_for() -> None:
    url = "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=feed&x=1"
    assert redact_url(url) == (
        f"https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={REDACTED}&x=1"
    )
    assert redact_url("https://h/plain") == "https://h/plain"


@pytest.mark.anyio
async def test_a_real_presigned_request_repr_is_redacted(moto_s3: S3Server) -> None:
    key = os.urandom(32)
    config = moto_s3.config(make_random_root("redact"), session_token="tok-en-value")
    async with Operator("s3", **config) as op:
        request = await op.presign_read("k", 600)
        shown = repr(request)
        signature = request.url.split("X-Amz-Signature=")[1].split("&")[0]
        assert signature not in shown and "tok-en-value" not in shown
        assert "X-Amz-Signature" in shown
        sealed = await op.layer(ServerSideEncryptionLayer(sse.CustomerKey(key))).presign_read("k", 600)
        assert base64.b64encode(key).decode() not in repr(sealed)


@pytest.fixture
def sdk_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A filtered SDK-like logger with a stream handler using a plain Formatter."""
    logger = logging.getLogger("fake_sdk_for_redaction.sub")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    install_redaction(["fake_sdk_for_redaction"])
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def test_tracebacks_formatted_later_are_redacted(sdk_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = sdk_log
    install_redaction(["fake_sdk_for_redaction"], ["hunter2-secret-in-traceback"])
    try:
        raise RuntimeError("signing with hunter2-secret-in-traceback failed; Authorization: AWS4 sig=abc")
    except RuntimeError:
        logger.warning("request failed", exc_info=True)
    logger.error("stack", stack_info=True, extra={})
    text = stream.getvalue()
    assert "Traceback" in text and "RuntimeError" in text
    assert "hunter2-secret-in-traceback" not in text
    assert REDACTED in text


@pytest.mark.anyio
async def test_environment_credentials_are_registered(
    moto_s3: S3Server, monkeypatch: pytest.MonkeyPatch, sdk_log: tuple[logging.Logger, io.StringIO]
) -> None:
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, os.devnull)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMTHEENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment-0123")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-from-the-environment-4567")
    config = moto_s3.config(make_random_root("redact"))
    for key in ("access_key_id", "secret_access_key", "disable_config_load"):
        config.pop(key)
    async with Operator("s3", **config) as op:
        await op.write("k", b"x")
    logger, stream = sdk_log
    botocore_logger = logging.getLogger("botocore.redaction_test")
    install_redaction(["botocore"])
    for target in (logger, botocore_logger):
        target.warning(
            "creds %s %s %s",
            "AKIAFROMTHEENVIRONMENT",
            "secret-from-the-environment-0123",
            "token-from-the-environment-4567",
        )
    text = stream.getvalue()
    for secret in ("secret-from-the-environment-0123", "token-from-the-environment-4567"):
        assert secret not in text


@pytest.mark.anyio
async def test_web_identity_credentials_are_registered(
    moto_s3: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sdk_log: tuple[logging.Logger, io.StringIO],
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("a-web-identity-token")
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, os.devnull)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pystorage-test")
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "pystorage-test")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_s3.url)  # moto answers AssumeRoleWithWebIdentity
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = moto_s3.config(make_random_root("redact"))
    for key in ("access_key_id", "secret_access_key", "disable_config_load"):
        config.pop(key)
    async with Operator("s3", **config) as op:
        await op.write("k", b"x")
        frozen = await op.accessor.core._http._frozen()  # type: ignore[attr-defined]
    assert frozen.token  # moto issued temporary credentials
    logger, stream = sdk_log
    logger.warning("creds %s %s", frozen.secret_key, frozen.token)
    text = stream.getvalue()
    assert frozen.secret_key not in text and frozen.token not in text
