"""How many records a listed endpoint holds, from one request: Auth0's `include_totals`.

The plan (`--test`, plan.py) and the fan-outs' progress lines (client.py) both ask.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from tap_auth0.http_client import Auth0HTTP

# Listed endpoints that answer `include_totals` (all accept page/per_page, per the Management
# API's OpenAPI description), with the one field to ask for where `fields` is accepted, so the
# probe carries an ID and nothing else.
COUNTABLE: dict[str, str | None] = {
    "/users": "user_id",
    "/roles": None,
    "/organizations": None,
    "/clients": "client_id",
    "/client-grants": None,
    "/grants": None,
    "/resource-servers": None,
    "/connections": "id",
    "/actions/actions": None,
}


def count(http: Auth0HTTP, path: str) -> int | None:
    """Records at a listed endpoint, from one `per_page=1` request (None: no total given)."""
    params: dict[str, t.Any] = {"page": 0, "per_page": 1}
    if path != "/actions/actions":  # answers totals always, refuses the parameter
        params["include_totals"] = "true"
    field = COUNTABLE.get(path)
    if field:
        params.update({"fields": field, "include_fields": "true"})
    if path == "/users":
        params["search_engine"] = "v3"
    body = http.get_json(path, params, bucket=path)
    total = body.get("total") if isinstance(body, dict) else None
    return total if isinstance(total, int) else None
