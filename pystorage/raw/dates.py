"""Dates on the wire, parsed and formatted once for every driver.

* :func:`parse_http_date` / :func:`format_http_date`: HTTP dates (RFC 9110
  IMF-fixdate, ``Mon, 23 Nov 2026 07:31:10 GMT``; the obsolete forms are
  accepted when parsing) — ``Last-Modified``, ``x-ms-date``, conditions;
* :func:`parse_rfc3339`: RFC 3339 timestamps with any number of fraction
  digits (JSON APIs: ``2026-11-23T07:31:10.123Z``);
* :func:`retry_after`: the seconds of a ``Retry-After`` value (a delay or an
  HTTP date).

Every parser returns an aware UTC datetime, or ``None`` for a missing or
unparsable value (a bad date from a server is not worth failing a call).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re

__all__ = ["format_http_date", "parse_http_date", "parse_rfc3339", "retry_after"]

_UTC = dt.timezone.utc
_MONTHS = {m: i for i, m in enumerate(("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec").split(), 1)}
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))?$"
)


def parse_http_date(value: str | None) -> dt.datetime | None:
    """An aware UTC datetime of an HTTP date, or ``None``."""
    if not value:
        return None
    try:  # the IMF-fixdate every server sends, without email.utils' generality
        _, day, month, year, clock, _zone = value.split()
        hour, minute, second = clock.split(":")
        return dt.datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=_UTC
        )
    except (ValueError, KeyError):
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)


def format_http_date(moment: dt.datetime | None = None) -> str:
    """The IMF-fixdate of ``moment`` (default: now)."""
    when = moment or dt.datetime.now(_UTC)
    return email.utils.format_datetime(when.astimezone(_UTC), usegmt=True)


def parse_rfc3339(value: str | None) -> dt.datetime | None:
    """An aware UTC datetime of an RFC 3339 timestamp (no zone: UTC), or ``None``."""
    if not value:
        return None
    try:  # C-fast, and enough for what servers send (Python < 3.11 refuses a "Z": the regex below)
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        if stamp.tzinfo is _UTC:
            return stamp
        return stamp.replace(tzinfo=_UTC) if stamp.tzinfo is None else stamp.astimezone(_UTC)
    m = _RFC3339.match(value.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    offset = dt.timedelta(0)
    if m.group(9):
        sign = 1 if m.group(9) == "+" else -1
        offset = sign * dt.timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
    try:
        stamp = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.timezone(offset))
    except ValueError:
        return None
    return stamp.astimezone(_UTC)


def retry_after(value: str | None) -> float | None:
    """Seconds (>= 0) of a ``Retry-After`` value (a delay or an HTTP date), or ``None``."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = parse_http_date(str(value))
    if when is None:
        return None
    return max(0.0, (when - dt.datetime.now(_UTC)).total_seconds())
