"""Log streams (where the tenant's logs are sent). A sink holds API keys, tokens and
passwords: only the documented non-secret keys below are kept, everything else is dropped."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit, urlunsplit

from tap_auth0.client import Auth0Stream
from tap_auth0.pagination import SinglePage

# Sink keys that say where logs go, never how to authenticate there.
SINK_ALLOWLIST = frozenset(
    {
        "httpEndpoint",
        "httpContentType",
        "httpContentFormat",
        "datadogRegion",
        "splunkDomain",
        "splunkPort",
        "splunkSecure",
        "awsAccountId",
        "awsRegion",
        "awsPartnerEventSource",
        "azureSubscriptionId",
        "azureResourceGroup",
        "azureRegion",
        "azurePartnerTopic",
        "mixpanelRegion",
        "mixpanelProjectId",
        "mixpanelServiceAccountUsername",
    }
)


def _bare_url(value: t.Any) -> t.Any:
    """An endpoint without credentials, query or fragment (they may carry a token)."""
    if not isinstance(value, str):
        return value
    parts = urlsplit(value)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class LogStreamsStream(Auth0Stream):
    """`GET /log-streams`: a bare array, no paging."""

    name = "log_streams"
    path = "/log-streams"
    primary_keys = ("id",)
    paginator = SinglePage()
    scopes = ("read:log_streams",)
    tombstones = True

    def post_process(
        self, row: dict[str, t.Any], context: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        sink = row.get("sink")
        if isinstance(sink, dict):
            kept = {k: v for k, v in sink.items() if k in SINK_ALLOWLIST}
            if "httpEndpoint" in kept:
                kept["httpEndpoint"] = _bare_url(kept["httpEndpoint"])
            row["sink"] = kept
        elif sink is not None:
            row.pop("sink")
        return super().post_process(row, context)
