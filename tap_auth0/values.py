"""Setting values that need more than a type: the tenant domain, field lists, user ids,
timestamps. Each raises ConfigError naming the setting, in one line."""

from __future__ import annotations

import ipaddress
import json
import re
import typing as t
from datetime import datetime, timezone
from urllib.parse import urlsplit

from tap_auth0.errors import ConfigError

LOOPBACK_NAMES = {"localhost"}
_HOST_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_domain(value: t.Any) -> str:
    """Return the tenant origin (`https://host[:port]`) from any tolerated spelling."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("Setting 'domain' is required, e.g. acme.us.auth0.com")
    raw = value.strip()
    text = raw if "://" in raw else f"https://{raw}"
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"Setting 'domain' is not a valid domain: {raw!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ConfigError(f"Setting 'domain' must use https:// (got {raw!r})")
    path = parts.path.rstrip("/")
    if path not in ("", "/api/v2"):
        raise ConfigError(
            f"Setting 'domain' must be a bare domain such as acme.us.auth0.com (got {raw!r})"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        # Never echo the value: it may hold a password.
        raise ConfigError(
            "Setting 'domain' must be a bare domain: it carries credentials, a query or a "
            "fragment (value not shown)"
        )
    if not host:
        raise ConfigError(f"Setting 'domain' has no host name: {raw!r}")
    is_ip = True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        is_ip = False
    if not is_ip and not _HOST_RE.match(host):
        raise ConfigError(f"Setting 'domain' is not a valid host name: {raw!r}")
    if scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"Setting 'domain' uses plain http:// for a non-loopback host ({host}); "
            "use https:// (http is allowed only for 127.0.0.1, localhost and [::1])"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


def _string_list(
    value: t.Any, *, bad_json: t.Callable[[str], str], bad_items: str
) -> list[str] | None:
    """A comma-separated string or a JSON array (or a list) of strings, stripped and without
    repeats; None when unset or empty."""
    if value is None:
        return None
    items: t.Any = value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError:
                raise ConfigError(bad_json(text)) from None
        else:
            items = text.split(",")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(bad_items)
    return list(dict.fromkeys(i.strip() for i in items if i.strip())) or None


def parse_field_list(value: t.Any, setting: str) -> list[str] | None:
    """Accept Auth0's comma-separated form or a JSON array; None when unset or empty."""
    names = _string_list(
        value,
        bad_json=lambda text: (
            f"Setting '{setting}' looks like a JSON array but does not parse: {text!r}"
        ),
        bad_items=f"Setting '{setting}' must be a comma-separated list of field names",
    )
    for name in names or ():
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise ConfigError(f"Setting '{setting}' has an invalid field name: {name!r}")
    return names


def parse_user_ids(value: t.Any) -> list[str] | None:
    return _string_list(
        value,
        bad_json=lambda text: f"Setting 'user_ids' is not a JSON array: {text!r}",
        bad_items="Setting 'user_ids' must be a list of user ID strings",
    )


def parse_datetime(value: t.Any, setting: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            what = setting if " " in setting else f"Setting '{setting}'"
            raise ConfigError(f"{what} is not an ISO 8601 date or date-time: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def iso_ms(dt: datetime) -> str:
    """Auth0's timestamp spelling: UTC, milliseconds, `Z`."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
