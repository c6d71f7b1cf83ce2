"""The tap's settings, each defined once: name, type, default, bounds, docs and parser.

`Settings` is the single definition. `CONFIG_SCHEMA` (what `--about` prints, and so the
README table and `meltano.yml`, which a test holds to it) is generated from its fields, and
`parse_settings` checks every value against the same metadata. Only the rules that tie
several settings together are written out by hand (`_cross_field_rules`).
"""

from __future__ import annotations

import dataclasses
import typing as t
from dataclasses import dataclass, field
from datetime import datetime

from singer_sdk import typing as th

from tap_auth0.errors import ConfigError
from tap_auth0.tenant import parse_tenant, resolve_tenant
from tap_auth0.values import (
    is_loopback,
    normalize_domain,
    parse_datetime,
    parse_field_list,
    parse_user_ids,
)

__all__ = [
    "CONFIG_SCHEMA",
    "Settings",
    "is_loopback",
    "normalize_domain",
    "parse_datetime",
    "parse_field_list",
    "parse_settings",
    "unknown_settings",
]

SORT_OPTIONS = ("updated_at:1", "created_at:1")
EXTRACTION_MODES = ("search", "export", "auto")
Kind = t.Literal["string", "integer", "number", "boolean", "date-time", "array"]


def setting(
    kind: Kind,
    title: str,
    description: str,
    *,
    default: t.Any = None,
    required: bool = False,
    secret: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    allowed: t.Sequence[str] | None = None,
    parse: t.Callable[[t.Any, str], t.Any] | None = None,
) -> t.Any:
    """A Settings field carrying everything `--about` and the parser need."""
    meta = {
        "kind": kind,
        "title": title,
        "description": description,
        "required": required,
        "secret": secret,
        "minimum": minimum,
        "maximum": maximum,
        "exclusive_minimum": exclusive_minimum,
        "allowed": tuple(allowed) if allowed else None,
        "parse": parse,
        "default": default,
    }
    return field(default=default, metadata={"setting": meta})


def _domain(value: t.Any, _name: str) -> str:
    return normalize_domain(value)


def _ids(value: t.Any, _name: str) -> list[str] | None:
    return parse_user_ids(value)


@dataclass(frozen=True)
class Settings:
    """Validated, normalised settings the streams read instead of raw config."""

    domain: str = setting(
        "string",
        "Domain",
        "Tenant domain, e.g. `acme.us.auth0.com` or `https://acme.us.auth0.com` (a trailing "
        "`/` or `/api/v2` is tolerated). `http://` only for loopback hosts.",
        required=True,
        parse=_domain,
    )
    tenant: str = setting(
        "string",
        "Tenant",
        "The tenant's name, in the `tenant` column of every record and in the STATE (a "
        "STATE of another tenant stops the run). Default: from `domain` (`acme` for "
        "`acme.eu.auth0.com`); required with a domain that does not name the tenant (a "
        "custom domain, a proxy, the sandbox).",
        parse=parse_tenant,
    )
    access_token: str | None = setting(
        "string",
        "Access token",
        "A Management API token (e.g. from the API Explorer). For testing.",
        secret=True,
    )
    client_id: str | None = setting(
        "string",
        "Client ID",
        "Machine-to-machine application's client ID (production auth).",
    )
    client_secret: str | None = setting(
        "string",
        "Client secret",
        "Machine-to-machine application's client secret.",
        secret=True,
    )
    audience: str = setting(
        "string", "Audience", "Token audience. Default `https://<domain>/api/v2/`."
    )
    start_date: datetime | None = setting(
        "date-time",
        "Start date",
        "Users last updated before this are not extracted on the first run.",
        parse=parse_datetime,
    )
    page_size: int = setting(
        "integer", "Page size", "Auth0's `per_page` (1-100).", default=100, minimum=1, maximum=100
    )
    include_totals: bool = setting(
        "boolean",
        "Include totals",
        "Ask Auth0 for totals; used for progress logs and a completeness check.",
        default=True,
    )
    sort: str = setting(
        "string",
        "Sort",
        "`updated_at:1` (incremental on updated_at) or `created_at:1` "
        "(stable order, full refresh).",
        default="updated_at:1",
        allowed=SORT_OPTIONS,
    )
    connection: str | None = setting(
        "string",
        "Connection",
        "Only users with an identity on this connection. Sent as "
        '`q=identities.connection:"NAME"` because search engine v3 ignores `connection`.',
    )
    search_query: str | None = setting(
        "string",
        "Search query",
        "Lucene query (`q`, search engine v3), ANDed with the tap's own clauses.",
    )
    fields: list[str] | None = setting(
        "string",
        "Fields",
        "`users` projection: comma-separated (or JSON array). `user_id`, `updated_at` and "
        "`created_at` are always fetched.",
        parse=parse_field_list,
    )
    include_fields: bool = setting(
        "boolean",
        "Include fields",
        "true: fetch only `fields`; false: fetch all but `fields`.",
        default=True,
    )
    user_detail_fields: list[str] | None = setting(
        "string",
        "User detail fields",
        "`user_detail` projection, as `fields`.",
        parse=parse_field_list,
    )
    user_detail_include_fields: bool = setting(
        "boolean",
        "User detail include fields",
        "As `include_fields`, for `user_detail`.",
        default=True,
    )
    user_ids: list[str] | None = setting(
        "array",
        "User IDs",
        "Fetch exactly these users with Get a User (`user_detail`), without listing. Unknown "
        "IDs are logged as warnings and skipped.",
        parse=_ids,
    )
    lookback_seconds: int = setting(
        "integer",
        "Look-back seconds",
        "Incremental runs restart this many seconds before the bookmark, to catch changes that "
        "Auth0's search index had not shown yet.",
        default=300,
        minimum=0,
        maximum=7 * 86400,
    )
    max_concurrency: int = setting(
        "integer",
        "Max concurrency",
        "Requests in flight for `user_detail` and for every child stream read per parent "
        "(role permissions and members, organization members, connections and invitations); "
        "1 = one at a time.",
        default=8,
        minimum=1,
        maximum=64,
    )
    users_list_windows: int = setting(
        "integer",
        "Users list windows",
        "Concurrent keyset windows for the `users` listing (search mode): the run's "
        "`updated_at` range is split where the users are, and the windows are read at once "
        "through the shared rate limiter. 0 = adaptive, up to `max_concurrency`: windows are "
        "added only while they list faster (latency, not the rate limit, binds); N = up to N "
        "windows (at most `max_concurrency`) whenever there are enough users; 1 = one chain.",
        default=0,
        minimum=0,
        maximum=64,
    )
    users_list_min_window: int = setting(
        "integer",
        "Users list min window",
        "A `users` listing window is split only while it has at least twice this many users "
        "left, so a small tenant or a short incremental run stays one chain.",
        default=1000,
        minimum=1,
    )
    max_requests_per_second: float | None = setting(
        "number",
        "Max requests per second",
        "Cap below the tenant's limit, leaving headroom for other clients.",
        exclusive_minimum=0,
    )
    request_timeout: int = setting(
        "integer",
        "Request timeout",
        "Seconds to wait for one HTTP response.",
        default=60,
        minimum=1,
        maximum=3600,
    )
    max_retries: int = setting(
        "integer",
        "Max retries",
        "Retries per request for 5xx, proxy error pages, bodies that are not JSON or are cut "
        "short, timeouts and connection resets (at most 3 when the connection cannot be "
        "made). 429s wait for the tenant's reset instead.",
        default=8,
        minimum=0,
        maximum=100,
    )
    users_extraction: str = setting(
        "string",
        "Users extraction",
        "`search` (List Users, incremental), `export` (a user export job: the whole tenant as "
        "one file, with deletes), or `auto` (export for a first full sync of a large tenant, "
        "search otherwise).",
        default="search",
        allowed=EXTRACTION_MODES,
    )
    export_timeout_seconds: int = setting(
        "integer",
        "Export timeout",
        "Longest wait for a user export job to complete.",
        default=3600,
        minimum=10,
        maximum=86400,
    )
    auto_export_threshold: int = setting(
        "integer",
        "Auto export threshold",
        "In `auto` mode, a first sync of at least this many users uses export.",
        default=50000,
        minimum=0,
        maximum=10**9,
    )
    logs_include_details: bool = setting(
        "boolean",
        "Logs: include details",
        "Keep the free-form `details` object of `logs` events (false drops it).",
        default=True,
    )
    stats_lookback_days: int = setting(
        "integer",
        "Stats look-back days",
        "`stats_daily` re-reads this many days before its bookmark on each run: today's row "
        "keeps changing until the day ends.",
        default=3,
        minimum=0,
        maximum=90,
    )
    actions_include_code: bool = setting(
        "boolean",
        "Actions: include code",
        "Keep the `code` of `actions` (and of their deployed version). Off by default: "
        "action code often embeds API keys.",
        default=False,
    )
    change_capture: bool = setting(
        "boolean",
        "Change capture",
        "Incremental runs read the tenant log since the last run (needs `read:logs`) and "
        "re-read only the users, roles, organizations, connections and small tables it names, "
        "with confirmed deletions as tombstones (`_sdc_deleted_at`). false: every run reads "
        "every full table whole.",
        default=True,
    )
    full_pass_interval: int = setting(
        "integer",
        "Full pass interval (hours)",
        "With change capture, a run this many hours after the last full pass reads every full "
        "table whole and ends it with ACTIVATE_VERSION: the backstop for changes the log never "
        "shows. 0: only the first run, `--full-refresh` and the fallbacks do.",
        default=24,
        minimum=0,
    )
    max_table_shrink: float = setting(
        "number",
        "Max table shrink",
        "How much smaller than the last complete read a full table's new complete read may be "
        "and still replace it in the warehouse (0.5: up to half the rows). Past that, its "
        "ACTIVATE_VERSION is held back (the old rows stay) with one WARNING. Tables of 10 rows "
        "or fewer are not guarded; 1 turns the guard off.",
        default=0.5,
        minimum=0,
        maximum=1,
    )
    include_idp_tokens: bool = setting(
        "boolean",
        "Include IdP tokens",
        "Keep `access_token`, `refresh_token` and `access_token_secret` inside `identities[]` "
        "(dropped by default).",
        default=False,
    )
    run_report_path: str | None = setting(
        "string",
        "Run report path",
        "Also write the run's closing summary (per stream: records, requests, 429s, retries, "
        "seconds; skipped streams and why; any logs retention gap) to this file as JSON, for "
        "an orchestrator to alert on. Written at the end of every run, failed ones included.",
    )

    # -- derived ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The tenant origin, `https://host[:port]`."""
        return self.domain

    @property
    def sort_field(self) -> str:
        return self.sort.split(":")[0]

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


SETTINGS_FIELDS: tuple[dataclasses.Field, ...] = tuple(dataclasses.fields(Settings))


def _meta(f: dataclasses.Field) -> dict[str, t.Any]:
    return f.metadata["setting"]


# -- the schema (--about) -------------------------------------------------------------------
def _json_type(meta: dict[str, t.Any]) -> th.JSONTypeHelper:
    kind = meta["kind"]
    if kind == "integer":
        return th.IntegerType(minimum=meta["minimum"], maximum=meta["maximum"])
    if kind == "number":
        return th.NumberType(
            minimum=meta["minimum"],
            maximum=meta["maximum"],
            exclusive_minimum=meta["exclusive_minimum"],
        )
    if kind == "boolean":
        return th.BooleanType()
    if kind == "date-time":
        return th.DateTimeType()
    if kind == "array":
        return th.ArrayType(th.StringType)
    return th.StringType()


CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    *(
        th.Property(
            f.name,
            _json_type(_meta(f)),
            required=_meta(f)["required"],
            default=_meta(f)["default"],
            secret=_meta(f)["secret"],
            allowed_values=list(_meta(f)["allowed"]) if _meta(f)["allowed"] else None,
            title=_meta(f)["title"],
            description=_meta(f)["description"],
        )
        for f in SETTINGS_FIELDS
    )
).to_dict()


# -- parsing one value by its metadata ---------------------------------------------------------
def _int(name: str, value: t.Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"Setting '{name}' must be an integer (got {value!r})") from None


def _number(name: str, value: t.Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Setting '{name}' must be a number (got {value!r})") from None


def _bool(name: str, value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigError(f"Setting '{name}' must be true or false (got {value!r})")


def _check_bounds(name: str, meta: dict[str, t.Any], raw: t.Any, number: float) -> None:
    lo, hi = meta["minimum"], meta["maximum"]
    if lo is not None and hi is not None and not lo <= number <= hi:
        raise ConfigError(f"Setting '{name}' must be between {lo} and {hi} (got {number})")
    low = meta["exclusive_minimum"]
    if low is not None and number <= low:
        raise ConfigError(f"Setting '{name}' must be greater than {low} (got {raw!r})")


def _parse_value(f: dataclasses.Field, config: t.Mapping[str, t.Any]) -> t.Any:
    name, meta = f.name, _meta(f)
    raw = config.get(name)
    if meta["parse"] is not None:
        return meta["parse"](raw, name)
    if raw is None or raw == "":
        return meta["default"]
    kind = meta["kind"]
    if kind == "integer":
        value: t.Any = _int(name, raw)
        _check_bounds(name, meta, raw, value)
    elif kind == "number":
        value = _number(name, raw)
        _check_bounds(name, meta, raw, value)
    elif kind == "boolean":
        value = _bool(name, raw)
    else:
        if not isinstance(raw, str):
            raise ConfigError(f"Setting '{name}' must be a string")
        value = raw.strip() or meta["default"]
    if meta["allowed"] and value not in meta["allowed"]:
        raise ConfigError(
            f"Setting '{name}' must be one of {', '.join(meta['allowed'])} (got {value!r})"
        )
    return value


# -- the rules that tie settings together -------------------------------------------------------
def _cross_field_rules(s: Settings) -> Settings:
    if s.access_token and (s.client_id or s.client_secret):
        raise ConfigError("Set either 'access_token' or 'client_id' + 'client_secret', not both")
    if not s.access_token and not (s.client_id or s.client_secret):
        raise ConfigError("No credentials: set 'access_token', or 'client_id' and 'client_secret'")
    if bool(s.client_id) != bool(s.client_secret):
        missing = "client_secret" if s.client_id else "client_id"
        raise ConfigError(f"Setting '{missing}' is required with client credentials")
    tenant = resolve_tenant(s.tenant, s.base_url)
    audience = s.audience or f"{s.base_url}/api/v2/"
    if not audience.startswith(("https://", "http://")):
        raise ConfigError(f"Setting 'audience' must be a URL such as {s.base_url}/api/v2/")
    if s.connection and '"' in s.connection:
        raise ConfigError(f"Setting 'connection' must be a connection name (got {s.connection!r})")
    blockers = s.export_blockers if s.users_extraction == "export" else []
    if blockers == ["sort"]:
        raise ConfigError("Setting 'sort' must stay updated_at:1 with users_extraction=export")
    if blockers:
        raise ConfigError(
            f"Setting '{blockers[0]}' cannot be honoured by users_extraction=export "
            "(export jobs take no query, projection or date filter); unset it or "
            "use users_extraction=search or auto"
        )
    return dataclasses.replace(s, audience=audience, tenant=tenant)


def parse_settings(config: t.Mapping[str, t.Any]) -> Settings:
    """Validate the whole config; raise ConfigError naming the first bad setting."""
    _required_near_misses(config)
    values = {f.name: _parse_value(f, config) for f in SETTINGS_FIELDS}
    return _cross_field_rules(Settings(**values))


# -- misspelled settings --------------------------------------------------------------------------
SETTING_NAMES: frozenset[str] = frozenset(f.name for f in SETTINGS_FIELDS)


def _closest(name: str, candidates: t.Iterable[str], cutoff: float) -> str | None:
    """The candidate most like `name` (case and `-`/`_` aside), if any is close enough."""

    def key(text: str) -> str:
        return text.lower().replace("-", "_")

    import difflib  # only for a key the tap does not know: not on every run's start-up

    by_key = {key(c): c for c in candidates}
    found = difflib.get_close_matches(key(name), list(by_key), n=1, cutoff=cutoff)
    return by_key[found[0]] if found else None


def _absent(config: t.Mapping[str, t.Any], name: str) -> bool:
    return config.get(name) in (None, "")


def _required_near_misses(config: t.Mapping[str, t.Any]) -> None:
    """A required setting is missing and the config has a key the tap does not know that
    is a near miss of it: say so, the misspelling is the likely cause."""
    strangers = [k for k in config if k not in SETTING_NAMES]
    if not strangers:
        return
    wanted = ["domain"] if _absent(config, "domain") else []
    credentials = ("access_token", "client_id", "client_secret")
    if _absent(config, "access_token") and any(_absent(config, n) for n in credentials[1:]):
        wanted += [n for n in credentials if _absent(config, n)]
    for name in wanted:
        given = _closest(name, strangers, cutoff=0.75)
        if given is not None:
            raise ConfigError(f"Setting '{name}' is required (did you mean {given!r}?)")


def unknown_settings(config: t.Mapping[str, t.Any], known: t.Iterable[str]) -> list[str]:
    """One warning per config key that is neither a tap setting nor in `known` (the SDK's
    own: stream_maps, flattening_*, batch_config, ...), naming the closest known setting.
    Such a key is ignored, so a typo (`start_data`) would otherwise change a run silently.
    Keys starting with `_` are left alone (comments, orchestrator extras)."""
    names = SETTING_NAMES | set(known)
    lines = []
    for key in config:
        if key in names or key.startswith("_"):
            continue
        near = _closest(key, names, cutoff=0.6)
        hint = f" (did you mean {near!r}?)" if near else ""
        lines.append(f"Setting {key!r} is not a tap-auth0 setting and is ignored{hint}")
    return lines
