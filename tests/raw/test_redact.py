"""The redacting filter that keeps secrets out of SDK logs."""

from __future__ import annotations

import logging

import pytest

from pystorage.raw.redact import REDACTED, install_redaction


def test_sdk_logger_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    child = logging.getLogger("fake_sdk_for_test.endpoint")
    install_redaction(["fake_sdk_for_test"], ["sUpErSeCrEtVaLuE"])
    with caplog.at_level(logging.DEBUG, logger="fake_sdk_for_test"):
        child.debug(
            "Sending %s",
            {
                "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=f00d",
                "x-amz-server-side-encryption-customer-key": "a2V5a2V5a2V5",
                "x-amz-server-side-encryption-customer-key-MD5": "bWQ1",
                "body": "sUpErSeCrEtVaLuE",
            },
        )
        child.debug("url https://h/k?X-Amz-Signature=abcdef&X-Amz-Expires=60")
    text = caplog.text
    assert "f00d" not in text and "a2V5a2V5a2V5" not in text and "sUpErSeCrEtVaLuE" not in text
    assert "abcdef" not in text
    assert REDACTED in text
    assert "bWQ1" in text  # the key's MD5 is not a secret
    assert "X-Amz-Expires=60" in text
