"""The shared date parsers and formatter."""

from __future__ import annotations

import datetime as dt

import pytest

from pystorage.raw.dates import format_http_date, parse_http_date, parse_rfc3339, retry_after

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 23 Nov 2026 07:31:10 GMT", dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=UTC)),
        ("Monday, 23-Nov-26 07:31:10 GMT", dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=UTC)),
        ("Mon Nov 23 07:31:10 2026", dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_http_date(text: str | None, expected: dt.datetime | None) -> None:
    assert parse_http_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T07:31:10Z", dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=UTC)),
        ("2026-11-23T07:31:10.5Z", dt.datetime(2026, 11, 23, 7, 31, 10, 500000, tzinfo=UTC)),
        ("2026-11-23T07:31:10.123456789Z", dt.datetime(2026, 11, 23, 7, 31, 10, 123456, tzinfo=UTC)),
        ("2026-11-23T08:31:10+01:00", dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=UTC)),
        ("2026-11-23T07:31:10", dt.datetime(2026, 11, 23, 7, 31, 10, tzinfo=UTC)),
        ("2026-13-23T07:31:10Z", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_rfc3339(text: str | None, expected: dt.datetime | None) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


def test_format_http_date_round_trips() -> None:
    moment = dt.datetime(2026, 11, 23, 8, 31, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    text = format_http_date(moment)
    assert text == "Mon, 23 Nov 2026 07:31:10 GMT"
    assert parse_http_date(text) == moment


def test_retry_after() -> None:
    assert retry_after("3") == 3.0
    assert retry_after("-1") == 0.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = format_http_date(dt.datetime.now(UTC) + dt.timedelta(seconds=30))
    seconds = retry_after(later)
    assert seconds is not None and 20 < seconds <= 30
    assert retry_after("Mon, 23 Nov 2020 07:31:10 GMT") == 0.0
