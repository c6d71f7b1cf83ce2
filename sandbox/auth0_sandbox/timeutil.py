"""Timestamp helpers: Auth0 writes UTC ISO 8601 with milliseconds (``2021-09-03T10:11:12.345Z``).

All stored timestamps use exactly that shape, so plain string comparison orders them
chronologically; the search index relies on this instead of converting on every compare.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime, timezone


def iso_ms(ms: int) -> str:
    """Format epoch milliseconds the way Auth0 does."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def now_ms() -> int:
    """Current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_instant(text: str, round_up: bool = False) -> str:
    """Parse a date or datetime into the canonical ISO-ms string.

    Date-only values (``2020``, ``2020-01``, ``2020-01-01``) cover a whole period; ``round_up``
    picks its last millisecond (used for ``lte``/``gt`` bounds, like Elasticsearch rounding).
    Raises ValueError on anything unparseable.
    """
    text = text.strip()
    m = _PARTIAL.match(text)
    if m:
        year = int(m.group(1))
        month = int(m.group(2) or 1)
        day = int(m.group(3) or 1)
        start = datetime(year, month, day, tzinfo=timezone.utc)
        start_ms = calendar.timegm(start.timetuple()) * 1000
        if not round_up:
            return iso_ms(start_ms)
        if m.group(3):
            end = start_ms + 86_400_000
        elif m.group(2):
            end = (
                calendar.timegm(datetime(year + month // 12, month % 12 + 1, 1).timetuple()) * 1000
            )
        else:
            end = calendar.timegm(datetime(year + 1, 1, 1).timetuple()) * 1000
        return iso_ms(end - 1)
    dt = datetime.fromisoformat(text.replace("z", "Z"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    ms = calendar.timegm(dt.utctimetuple()) * 1000 + dt.microsecond // 1000
    return iso_ms(ms)


def normalize_timestamp(value: object) -> object:
    """Canonicalise a timestamp a caller passed in (strings only; other types pass through)."""
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            return value
    return value


# User fields that hold timestamps (normalised to Auth0's ms-precision ISO form).
TIMESTAMP_KEYS = (
    "created_at",
    "updated_at",
    "last_login",
    "last_password_reset",
    "multifactor_last_modified",
)
