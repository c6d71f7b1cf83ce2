"""The tap's settings: JSON schema for `--about`, and the checks the schema cannot express."""

from __future__ import annotations

import ipaddress
import json
import re
import typing as t
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_auth0.errors import ConfigError

SORT_OPTIONS = ("updated_at:1", "created_at:1")
EXTRACTION_MODES = ("search", "export", "auto")
DEFAULT_LOOKBACK_SECONDS = 300

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "domain",
        th.StringType,
        required=True,
        title="Domain",
        description=(
            "Tenant domain, e.g. `acme.us.auth0.com` or `https://acme.us.auth0.com` "
            "(a trailing `/` or `/api/v2` is tolerated). `http://` only for loopback hosts."
        ),
    ),
    th.Property(
        "access_token",
        th.StringType,
        secret=True,
        title="Access token",
        description="A Management API token (e.g. from the API Explorer). For testing.",
    ),
    th.Property(
        "client_id",
        th.StringType,
        title="Client ID",
        description="Machine-to-machine application's client ID (production auth).",
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        title="Client secret",
        description="Machine-to-machine application's client secret.",
    ),
    th.Property(
        "audience",
        th.StringType,
        title="Audience",
        description="Token audience. Default `https://<domain>/api/v2/`.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Users last updated before this are not extracted on the first run.",
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=100,
        title="Page size",
        description="Auth0's `per_page` (1-100).",
    ),
    th.Property(
        "include_totals",
        th.BooleanType,
        default=True,
        title="Include totals",
        description="Ask Auth0 for totals; used for progress logs and a completeness check.",
    ),
    th.Property(
        "sort",
        th.StringType,
        default="updated_at:1",
        allowed_values=list(SORT_OPTIONS),
        title="Sort",
        description=(
            "`updated_at:1` (incremental on updated_at) or `created_at:1` "
            "(stable order, full refresh)."
        ),
    ),
    th.Property(
        "connection",
        th.StringType,
        title="Connection",
        description=(
            "Only users with an identity on this connection. Sent as "
            '`q=identities.connection:"NAME"` because search engine v3 ignores `connection`.'
        ),
    ),
    th.Property(
        "search_query",
        th.StringType,
        title="Search query",
        description="Lucene query (`q`, search engine v3), ANDed with the tap's own clauses.",
    ),
    th.Property(
        "fields",
        th.StringType,
        title="Fields",
        description=(
            "`users` projection: comma-separated (or JSON array). `user_id`, `updated_at` "
            "and `created_at` are always fetched."
        ),
    ),
    th.Property(
        "include_fields",
        th.BooleanType,
        default=True,
        title="Include fields",
        description="true: fetch only `fields`; false: fetch all but `fields`.",
    ),
    th.Property(
        "user_detail_fields",
        th.StringType,
        title="User detail fields",
        description="`user_detail` projection, as `fields`.",
    ),
    th.Property(
        "user_detail_include_fields",
        th.BooleanType,
        default=True,
        title="User detail include fields",
        description="As `include_fields`, for `user_detail`.",
    ),
    th.Property(
        "user_ids",
        th.ArrayType(th.StringType),
        title="User IDs",
        description=(
            "Fetch exactly these users with Get a User (`user_detail`), without listing. "
            "Unknown IDs are logged as warnings and skipped."
        ),
    ),
    th.Property(
        "lookback_seconds",
        th.IntegerType,
        default=DEFAULT_LOOKBACK_SECONDS,
        title="Look-back seconds",
        description=(
            "Incremental runs restart this many seconds before the bookmark, to catch "
            "changes that Auth0's search index had not shown yet."
        ),
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType,
        default=8,
        title="Max concurrency",
        description="Parallel `user_detail` requests (1 = one at a time).",
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType,
        title="Max requests per second",
        description="Cap below the tenant's limit, leaving headroom for other clients.",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType,
        default=60,
        title="Request timeout",
        description="Seconds to wait for one HTTP response.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=8,
        title="Max retries",
        description="Retries for 5xx, timeouts, connection resets and 429s per request.",
    ),
    th.Property(
        "users_extraction",
        th.StringType,
        default="search",
        allowed_values=list(EXTRACTION_MODES),
        title="Users extraction",
        description=(
            "`search` (List Users, incremental), `export` (a user export job: the whole "
            "tenant as one file, with deletes), or `auto` (export for a first full sync of a "
            "large tenant, search otherwise)."
        ),
    ),
    th.Property(
        "export_timeout_seconds",
        th.IntegerType,
        default=3600,
        title="Export timeout",
        description="Longest wait for a user export job to complete.",
    ),
    th.Property(
        "auto_export_threshold",
        th.IntegerType,
        default=50000,
        title="Auto export threshold",
        description="In `auto` mode, a first sync of at least this many users uses export.",
    ),
    th.Property(
        "include_idp_tokens",
        th.BooleanType,
        default=False,
        title="Include IdP tokens",
        description=(
            "Keep `access_token`, `refresh_token` and `access_token_secret` inside "
            "`identities[]` (dropped by default)."
        ),
    ),
).to_dict()

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


def parse_field_list(value: t.Any, setting: str) -> list[str] | None:
    """Accept Auth0's comma-separated form or a JSON array; None when unset or empty."""
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
                raise ConfigError(
                    f"Setting '{setting}' looks like a JSON array but does not parse: {text!r}"
                ) from None
        else:
            items = text.split(",")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"Setting '{setting}' must be a comma-separated list of field names")
    names = [i.strip() for i in items if i.strip()]
    for name in names:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise ConfigError(f"Setting '{setting}' has an invalid field name: {name!r}")
    return list(dict.fromkeys(names)) or None


def parse_user_ids(value: t.Any) -> list[str] | None:
    if value is None:
        return None
    items: t.Any = value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            items = json.loads(text) if text.startswith("[") else text.split(",")
        except json.JSONDecodeError:
            raise ConfigError(f"Setting 'user_ids' is not a JSON array: {text!r}") from None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError("Setting 'user_ids' must be a list of user ID strings")
    ids = [i.strip() for i in items if i.strip()]
    return list(dict.fromkeys(ids)) or None


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


def _int_setting(config: t.Mapping[str, t.Any], name: str, default: int, lo: int, hi: int) -> int:
    value = config.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(f"Setting '{name}' must be an integer (got {value!r})") from None
    if not lo <= number <= hi:
        raise ConfigError(f"Setting '{name}' must be between {lo} and {hi} (got {number})")
    return number


def _bool_setting(config: t.Mapping[str, t.Any], name: str, default: bool) -> bool:
    value = config.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigError(f"Setting '{name}' must be true or false (got {value!r})")


@dataclass(frozen=True)
class Settings:
    """Validated, normalised settings the streams read instead of raw config."""

    base_url: str
    access_token: str | None
    client_id: str | None
    client_secret: str | None
    audience: str
    start_date: datetime | None
    page_size: int
    include_totals: bool
    sort_field: str
    connection: str | None
    search_query: str | None
    fields: list[str] | None
    include_fields: bool
    user_detail_fields: list[str] | None
    user_detail_include_fields: bool
    user_ids: list[str] | None
    lookback_seconds: int
    max_concurrency: int
    max_requests_per_second: float | None
    request_timeout: int
    max_retries: int
    include_idp_tokens: bool
    users_extraction: str = "search"
    export_timeout_seconds: int = 3600
    auto_export_threshold: int = 50000

    @property
    def uses_client_credentials(self) -> bool:
        return self.client_id is not None

    @property
    def export_blockers(self) -> list[str]:
        """Settings set to something an export job cannot honour (no query, projection,
        date filter or other order): a config error in `export` mode, search in `auto`."""
        return [
            name
            for name, value in (
                ("search_query", self.search_query),
                ("fields", self.fields),
                ("start_date", self.start_date),
                ("sort", self.sort_field != "updated_at"),
            )
            if value
        ]


def _optional_str(config: t.Mapping[str, t.Any], name: str) -> str | None:
    value = config.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"Setting '{name}' must be a string")
    return value.strip() or None


def parse_settings(config: t.Mapping[str, t.Any]) -> Settings:
    """Validate the whole config; raise ConfigError naming the first bad setting."""
    base_url = normalize_domain(config.get("domain"))
    access_token = _optional_str(config, "access_token")
    client_id = _optional_str(config, "client_id")
    client_secret = _optional_str(config, "client_secret")
    if access_token and (client_id or client_secret):
        raise ConfigError("Set either 'access_token' or 'client_id' + 'client_secret', not both")
    if not access_token and not (client_id or client_secret):
        raise ConfigError("No credentials: set 'access_token', or 'client_id' and 'client_secret'")
    if bool(client_id) != bool(client_secret):
        missing = "client_secret" if client_id else "client_id"
        raise ConfigError(f"Setting '{missing}' is required with client credentials")
    audience = _optional_str(config, "audience") or f"{base_url}/api/v2/"
    if not audience.startswith(("https://", "http://")):
        raise ConfigError(f"Setting 'audience' must be a URL such as {base_url}/api/v2/")

    sort = _optional_str(config, "sort") or "updated_at:1"
    if sort not in SORT_OPTIONS:
        raise ConfigError(f"Setting 'sort' must be one of {', '.join(SORT_OPTIONS)} (got {sort!r})")
    rps = config.get("max_requests_per_second")
    if rps in (None, ""):
        max_rps = None
    else:
        try:
            max_rps = float(rps)
        except (TypeError, ValueError):
            raise ConfigError(
                f"Setting 'max_requests_per_second' must be a number (got {rps!r})"
            ) from None
        if max_rps <= 0:
            raise ConfigError(
                f"Setting 'max_requests_per_second' must be greater than 0 (got {rps!r})"
            )

    mode = _optional_str(config, "users_extraction") or "search"
    if mode not in EXTRACTION_MODES:
        raise ConfigError(
            f"Setting 'users_extraction' must be one of {', '.join(EXTRACTION_MODES)} "
            f"(got {mode!r})"
        )
    search_query = _optional_str(config, "search_query")
    connection = _optional_str(config, "connection")
    if connection and '"' in connection:
        raise ConfigError(f"Setting 'connection' must be a connection name (got {connection!r})")

    settings = Settings(
        base_url=base_url,
        access_token=access_token,
        client_id=client_id,
        client_secret=client_secret,
        audience=audience,
        start_date=parse_datetime(config.get("start_date"), "start_date"),
        page_size=_int_setting(config, "page_size", 100, 1, 100),
        include_totals=_bool_setting(config, "include_totals", True),
        sort_field=sort.split(":")[0],
        connection=connection,
        search_query=search_query,
        fields=parse_field_list(config.get("fields"), "fields"),
        include_fields=_bool_setting(config, "include_fields", True),
        user_detail_fields=parse_field_list(config.get("user_detail_fields"), "user_detail_fields"),
        user_detail_include_fields=_bool_setting(config, "user_detail_include_fields", True),
        user_ids=parse_user_ids(config.get("user_ids")),
        lookback_seconds=_int_setting(
            config, "lookback_seconds", DEFAULT_LOOKBACK_SECONDS, 0, 7 * 86400
        ),
        max_concurrency=_int_setting(config, "max_concurrency", 8, 1, 64),
        max_requests_per_second=max_rps,
        request_timeout=_int_setting(config, "request_timeout", 60, 1, 3600),
        max_retries=_int_setting(config, "max_retries", 8, 0, 100),
        include_idp_tokens=_bool_setting(config, "include_idp_tokens", False),
        users_extraction=mode,
        export_timeout_seconds=_int_setting(config, "export_timeout_seconds", 3600, 10, 86400),
        auto_export_threshold=_int_setting(config, "auto_export_threshold", 50000, 0, 10**9),
    )
    blockers = settings.export_blockers if mode == "export" else []
    if blockers == ["sort"]:
        raise ConfigError("Setting 'sort' must stay updated_at:1 with users_extraction=export")
    if blockers:
        raise ConfigError(
            f"Setting '{blockers[0]}' cannot be honoured by users_extraction=export "
            "(export jobs take no query, projection or date filter); unset it or "
            "use users_extraction=search or auto"
        )
    return settings
