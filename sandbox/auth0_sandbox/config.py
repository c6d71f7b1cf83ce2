"""Every knob of the sandbox in one dataclass (also the CLI flags and /_sandbox/configure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .auth import DEFAULT_SCOPES, STATIC_SCOPES

HELP = {
    "users": "number of generated users",
    "seed": "seed for data, tie order and fault RNG",
    "access_token": "static bearer token accepted as-is (broad scopes, never expires)",
    "client_id": "client_id accepted by /oauth/token",
    "client_secret": "client_secret accepted by /oauth/token",
    "audience": "audience accepted by /oauth/token (default BASE_URL/api/v2/)",
    "scopes": "space-separated scopes granted to minted tokens",
    "static_scopes": "space-separated scopes of the static access_token",
    "token_lifetime": "seconds a minted token lives (expires_in)",
    "rate_limit_profile": "global (one bucket: rate_limit_burst/_per_second), free, essentials "
    "or enterprise (Auth0's per-endpoint-family buckets)",
    "rate_limit_burst": "token-bucket size for /api/v2 under the global profile (0 = unlimited)",
    "rate_limit_per_second": "token-bucket refill rate under the global profile (0 = unlimited)",
    "latency_ms": "sleep added to every /api/v2 response",
    "fault_5xx_rate": "probability of a 500/502/503/504 per /api/v2 request",
    "fault_reset_rate": "probability of a connection reset per /api/v2 request",
    "fault_html_rate": "probability of a proxy's HTML 502/504 page per /api/v2 request",
    "fault_non_json_rate": "probability of a 200 with an HTML maintenance page instead of JSON",
    "fault_truncate_rate": "probability that an answer is cut short (connection closed mid-body)",
    "fault_stall_rate": "probability that an answer stalls mid-body for fault_stall_seconds",
    "fault_stall_seconds": "how long a stalled answer stays silent before the connection closes",
    "index_lag_seconds": "delay before search sees a change",
    "tie_group_size": "size of one extra bulk-import group sharing one updated_at",
    "roles": "number of generated roles",
    "big_role_users": "users of the first role (0 = a handful like the others)",
    "organizations": "number of generated organizations",
    "big_org_members": "members of the first organization (0 = a few like the others)",
    "clients": "number of generated applications (clients)",
    "actions": "number of generated actions",
    "log_streams": "number of generated log streams (types cycle: http, datadog, splunk, "
    "segment, sumo, mixpanel, eventbridge)",
    "logs": "number of generated tenant log events (GET /api/v2/logs)",
    "log_days": "whole UTC days (ending at the start of today) the generated log events span",
    "log_late_fraction": "share of generated log events ingested minutes to hours after their "
    "date (their log_id is newer than events dated after them)",
    "log_retention_days": "log events dated before now minus this many days are no longer held "
    "(0 = keep everything); /stats/daily keeps counting them",
    "expired_from": "GET /logs?from=<id older than every held event, after expiry>: 400 "
    "(invented body) or oldest (answer the oldest held events)",
    "secret_marker": "text every planted secret value contains (then a unique suffix)",
    "ignore_field_exclusions": "clients/connections/resource servers answer every field, "
    "secrets included, whatever fields/include_fields and the token's scopes say",
    "enterprise_features": "users' sessions and refresh tokens are available (else 403)",
    "export_seconds": "how long an export job stays pending",
    "export_fail": "export jobs end as failed",
    "export_truncate": "export downloads are cut short (corrupt gzip)",
    "link_ttl_seconds": "validity of an export download link",
    "tenant": "tenant name used in export file names",
    "port": "port to listen on (0 = ephemeral)",
    "host": "address to bind",
    "verbose": "log requests and server errors to stderr",
    "compress": "gzip JSON answers to requests that accept it (Accept-Encoding: gzip), as "
    "Auth0 does; --no-compress answers identity (to measure without it)",
}

# Knobs fixed at start-up (they shape the generated tenant or the listening socket).
STARTUP_ONLY = frozenset(
    {
        "users",
        "seed",
        "port",
        "host",
        "access_token",
        "tie_group_size",
        "roles",
        "big_role_users",
        "organizations",
        "big_org_members",
        "clients",
        "actions",
        "log_streams",
        "secret_marker",
        "logs",
        "log_days",
        "log_late_fraction",
    }
)
RATE_LIMIT_PROFILES = ("global", "free", "essentials", "enterprise")
EXPIRED_FROM = ("400", "oldest")


@dataclass
class SandboxConfig:
    """Sandbox settings; see the package docstring for what each knob imitates."""

    users: int = 1000
    seed: int = 1
    access_token: str | None = None  # static token accepted as-is (broad scopes, no expiry)
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    audience: str | None = None  # default f"{base_url}/api/v2/"
    scopes: str = " ".join(DEFAULT_SCOPES)  # granted to minted tokens
    static_scopes: str = " ".join(sorted(STATIC_SCOPES))  # of the static access_token
    token_lifetime: int = 86400
    rate_limit_profile: str = "global"
    rate_limit_burst: int = 0  # 0 = unlimited
    rate_limit_per_second: float = 0.0
    latency_ms: int = 0
    fault_5xx_rate: float = 0.0
    fault_reset_rate: float = 0.0
    fault_html_rate: float = 0.0
    fault_non_json_rate: float = 0.0
    fault_truncate_rate: float = 0.0
    fault_stall_rate: float = 0.0
    fault_stall_seconds: float = 5.0
    index_lag_seconds: float = 0.0
    tie_group_size: int = 0
    roles: int = 6
    big_role_users: int = 0
    organizations: int = 5
    big_org_members: int = 0
    clients: int = 6
    actions: int = 3
    log_streams: int = 7
    secret_marker: str = "SBXSECRET"
    logs: int = 0
    log_days: int = 7
    log_late_fraction: float = 0.03
    log_retention_days: float = 0.0
    expired_from: str = "oldest"
    ignore_field_exclusions: bool = False
    enterprise_features: bool = True
    export_seconds: float = 2.0
    export_fail: bool = False
    export_truncate: bool = False
    link_ttl_seconds: float = 60.0
    tenant: str = "sandbox"
    port: int = 0
    host: str = "127.0.0.1"
    verbose: bool = False
    compress: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def apply(self, knobs: dict[str, Any]) -> None:
        """Set runtime knobs (type-coerced); ValueError for unknown ones and for changing a
        start-up-only one."""
        types = {f.name: f.type for f in fields(self)}
        for name, value in knobs.items():
            if name not in types:
                raise ValueError(f"unknown knob '{name}'")
            if name in STARTUP_ONLY:
                if value == getattr(self, name):
                    continue  # restating the start-up value is harmless
                raise ValueError(f"knob '{name}' can only be set at start-up")
            current = getattr(self, name)
            if isinstance(current, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true")
            elif isinstance(current, int):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            elif value is not None:
                value = str(value)
            if name == "rate_limit_profile" and value not in RATE_LIMIT_PROFILES:
                raise ValueError(
                    f"rate_limit_profile must be one of {', '.join(RATE_LIMIT_PROFILES)}"
                )
            if name == "expired_from" and value not in EXPIRED_FROM:
                raise ValueError(f"expired_from must be one of {', '.join(EXPIRED_FROM)}")
            setattr(self, name, value)
