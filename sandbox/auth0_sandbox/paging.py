"""Query-parameter parsing and Auth0's two paging styles (offset and checkpoint).

Offset: ``page`` (0-based), ``per_page`` (<= 100), ``include_totals`` -> a bare array or
``{<key>: [...], start, limit, total}``; some endpoints refuse to go past the first 1,000
results (``invalid_paging``). Checkpoint: ``take`` (<= 100) and ``from=<next>`` ->
``{<key>: [...], next}``; once ``take`` is sent, page/per_page/include_totals are ignored.
``next`` is an opaque, base64-encoded ``"<timestamp>UTC,<id>"`` cursor, like Auth0's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .errors import auth0_error, query_error

PAGING_CAP = 1000
DESC = {
    "per_page": "(The amount of entries per page. Defaults to 100 if not provided)",
    "page": "(The page number. Zero based)",
    "include_totals": "(true if a query summary must be included in the result, false "
    "otherwise. Default false)",
    "include_fields": "(true if the fields specified are to be included in the result, false "
    "otherwise. Defaults to true)",
    "sort": "(The field to use for sorting. Use field:order where order is 1 for ascending "
    "and -1 for descending. For example created_at:1)",
    "q": "(Query in Lucene query string syntax)",
    "search_engine": "(The version of the search engine to use)",
    "take": "(Number of results per page. Defaults to 50)",
    "from": "(Optional Id from which to start selection)",
}
_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})UTC,(.+)$", re.S)


def _detail(name: str) -> str:
    return f"{name} {DESC.get(name, '')}".rstrip() + "."


def int_param(
    q: dict[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise query_error(
            f"'Expected type integer but found type string' on property {_detail(name)}"
        ) from None
    if value < minimum:
        raise query_error(
            f"'Value {value} is less than minimum {minimum}' on property {_detail(name)}"
        )
    if maximum is not None and value > maximum:
        raise query_error(
            f"'Value {value} is greater than maximum {maximum}' on property {_detail(name)}"
        )
    return value


def bool_param(q: dict[str, str], name: str, default: bool) -> bool:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise query_error(f"'Expected type boolean but found type string' on property {_detail(name)}")


def requested_fields(q: dict[str, str]) -> tuple[list[str], bool]:
    names = [f.strip() for f in (q.get("fields") or "").split(",") if f.strip()]
    return names, bool_param(q, "include_fields", True)


def projector(q: dict[str, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Apply fields/include_fields to a doc (root keys, like Auth0)."""
    names, include = requested_fields(q)
    if not names:
        return lambda d: d
    wanted = set(names)
    if include:
        return lambda d: {k: v for k, v in d.items() if k in wanted}
    return lambda d: {k: v for k, v in d.items() if k not in wanted}


def page_params(q: dict[str, str], default_per_page: int = 50) -> tuple[int, int, bool]:
    per_page = int_param(q, "per_page", default_per_page, 0, 100)
    page = int_param(q, "page", 0, 0)
    return page, per_page, bool_param(q, "include_totals", False)


def check_cap(page: int, per_page: int) -> None:
    """Endpoints that offer checkpoint paging refuse offset paging past 1,000 results."""
    if (page + 1) * per_page > PAGING_CAP:
        raise auth0_error(
            400,
            f"Requesting page {page} exceeds the allowed maximum of {PAGING_CAP} records. To "
            f"fetch results beyond {PAGING_CAP}, use the checkpoint pagination method.",
            "invalid_paging",
        )


def is_checkpoint(q: dict[str, str]) -> bool:
    return q.get("take") not in (None, "")


# -- cursors ------------------------------------------------------------------------------------
def encode_cursor(stamp_ms: int, item_id: str) -> str:
    when = datetime.fromtimestamp(stamp_ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    raw = f"{when}UTC,{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[int, str]:
    """(stamp_ms, id) of a ``next`` value; 400 invalid_query_string when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        m = _CURSOR.match(raw)
        if m is None:
            raise ValueError(raw)
        when = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise query_error(f"'Invalid checkpoint' on property {_detail('from')}") from None
    return round(when.timestamp() * 1000), m.group(2)
