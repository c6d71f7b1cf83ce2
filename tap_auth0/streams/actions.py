"""Actions (code run on login and other triggers). The code itself is left out unless
`actions_include_code`: it often embeds API keys."""

from __future__ import annotations

import typing as t

from tap_auth0.client import Auth0Stream
from tap_auth0.pagination import OffsetPaginator

CODE_KEYS = ("code",)


class ActionsStream(Auth0Stream):
    """`GET /actions/actions`: `per_page` defaults to 20 and the answer is always an object
    with its total (the endpoint takes no `include_totals`)."""

    name = "actions"
    path = "/actions/actions"
    records_key = "actions"
    primary_keys = ("id",)
    paginator = OffsetPaginator(totals_param=False)
    scopes = ("read:actions",)
    tombstones = True

    def post_process(
        self, row: dict[str, t.Any], context: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        if not self.settings.actions_include_code:
            row.pop("code", None)
            deployed = row.get("deployed_version")
            if isinstance(deployed, dict):
                deployed.pop("code", None)
        return super().post_process(row, context)
