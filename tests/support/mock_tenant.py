"""A requests-mock Auth0 tenant for roles and organizations: offset and checkpoint paging
as Auth0 pages them (including the empty page a final `next` can lead to), scopes, and a
request log. An empty `Tenant()` is a tenant with no roles and no organizations."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field
from urllib.parse import unquote

DOMAIN = "https://acme.us.auth0.com"
API = f"{DOMAIN}/api/v2"
HEADERS = {
    "Content-Type": "application/json",
    "x-ratelimit-limit": "1000",
    "x-ratelimit-remaining": "999",
    "x-ratelimit-reset": "0",
}


@dataclass
class Tenant:
    roles: list[dict] = field(default_factory=list)
    permissions: dict[str, list[dict]] = field(default_factory=dict)  # role id -> permissions
    role_users: dict[str, list[dict]] = field(default_factory=dict)
    organizations: list[dict] = field(default_factory=list)
    members: dict[str, list[dict]] = field(default_factory=dict)  # org id -> members (+roles)
    connections: dict[str, list[dict]] = field(default_factory=dict)
    invitations: dict[str, list[dict]] = field(default_factory=dict)
    clients: list[dict] = field(default_factory=list)
    client_grants: list[dict] = field(default_factory=list)
    grants: list[dict] = field(default_factory=list)
    resource_servers: list[dict] = field(default_factory=list)
    connections_list: list[dict] = field(default_factory=list)
    connection_clients: dict[str, list[dict]] = field(default_factory=dict)
    actions: list[dict] = field(default_factory=list)
    log_streams: list[dict] = field(default_factory=list)
    user_permissions: dict[str, list[dict]] = field(default_factory=dict)
    user_authenticators: dict[str, list[dict]] = field(default_factory=dict)
    user_sessions: dict[str, list[dict]] = field(default_factory=dict)
    user_tokens: dict[str, list[dict]] = field(default_factory=dict)
    logs: list[dict] = field(default_factory=list)  # held events, in log_id order
    stats_daily: list[dict] = field(default_factory=list)
    active_users: int = 0
    refused: set[str] = field(default_factory=set)  # scopes the token lacks
    # A final full checkpoint page still carries a `next` (Auth0 does this sometimes).
    empty_tail: bool = True
    requests: list[str] = field(default_factory=list)


def _refuse(context, scope: str) -> dict:
    context.status_code = 403
    return {
        "statusCode": 403,
        "error": "Forbidden",
        "message": f"Insufficient scope, expected any of: {scope}",
        "errorCode": "insufficient_scope",
    }


def _offset(qs: dict, items: list[dict], key: str, total: bool = True) -> dict:
    page, per_page = int(qs.get("page", ["0"])[0]), int(qs.get("per_page", ["50"])[0])
    window = items[page * per_page : (page + 1) * per_page]
    body: dict[str, t.Any] = {key: window, "start": page * per_page, "limit": per_page}
    if total:
        body["total"] = len(items)
    return body


def _checkpoint(qs: dict, items: list[dict], key: str, empty_tail: bool) -> dict:
    take = int(qs["take"][0])
    start = int(qs.get("from", ["0"])[0])
    window = items[start : start + take]
    body: dict[str, t.Any] = {key: window}
    end = start + len(window)
    if end < len(items) or (empty_tail and window and len(window) == take):
        body["next"] = str(end)
    return body


def mount_tenant(requests_mock, tenant: Tenant) -> Tenant:
    """Serve the tenant's roles and organizations endpoints."""

    def route(pattern: str, scope: str, answer: t.Callable[[dict, list[str]], dict]) -> None:
        def handler(request, context):
            context.headers.update(HEADERS)
            tenant.requests.append(f"{pattern} {request.path} {request.query}")
            if scope in tenant.refused:
                return _refuse(context, scope)
            args = [
                unquote(a)
                for a in re.match(
                    rf"{re.escape(API)}{pattern}$", request.url.split("?")[0]
                ).groups()
            ]
            return answer(request.qs, args)

        requests_mock.get(re.compile(rf"{re.escape(API)}{pattern}(\?.*)?$"), json=handler)

    route("/roles", "read:roles", lambda qs, a: _offset(qs, tenant.roles, "roles"))
    route(
        "/roles/([^/]+)/permissions",
        "read:roles",
        lambda qs, a: _offset(qs, tenant.permissions.get(a[0], []), "permissions"),
    )
    route(
        "/roles/([^/]+)/users",
        "read:roles",
        lambda qs, a: _checkpoint(qs, tenant.role_users.get(a[0], []), "users", tenant.empty_tail),
    )
    route(
        "/organizations",
        "read:organizations",
        lambda qs, a: _checkpoint(qs, tenant.organizations, "organizations", tenant.empty_tail),
    )

    def members(qs: dict, a: list[str]) -> dict:
        fields = qs.get("fields", [""])[0].split(",")
        rows = tenant.members.get(a[0], [])
        if "roles" not in fields:
            rows = [{k: v for k, v in m.items() if k != "roles"} for m in rows]
        return _checkpoint(qs, rows, "members", tenant.empty_tail)

    def members_with_scope(request, context):
        context.headers.update(HEADERS)
        tenant.requests.append(f"/organizations/members {request.query}")
        wants_roles = "roles" in request.qs.get("fields", [""])[0].split(",")
        if wants_roles and "read:organization_member_roles" in tenant.refused:
            return _refuse(context, "read:organization_member_roles")
        if "read:organization_members" in tenant.refused:
            return _refuse(context, "read:organization_members")
        org = unquote(request.path.split("/")[4])
        return members(request.qs, [org])

    requests_mock.get(
        re.compile(rf"{re.escape(API)}/organizations/[^/]+/members(\?.*)?$"),
        json=members_with_scope,
    )
    route(
        "/organizations/([^/]+)/enabled_connections",
        "read:organization_connections",
        lambda qs, a: _offset(qs, tenant.connections.get(a[0], []), "enabled_connections"),
    )
    route(
        "/clients",
        "read:clients",
        lambda qs, a: _checkpoint(qs, tenant.clients, "clients", tenant.empty_tail),
    )
    route(
        "/client-grants",
        "read:client_grants",
        lambda qs, a: _checkpoint(qs, tenant.client_grants, "client_grants", tenant.empty_tail),
    )
    route("/grants", "read:grants", lambda qs, a: _offset(qs, tenant.grants, "grants"))
    route(
        "/resource-servers",
        "read:resource_servers",
        lambda qs, a: _offset(qs, tenant.resource_servers, "resource_servers"),
    )
    route(
        "/connections",
        "read:connections",
        lambda qs, a: _checkpoint(qs, tenant.connections_list, "connections", tenant.empty_tail),
    )
    route(
        "/connections/([^/]+)/clients",
        "read:connections",
        lambda qs, a: _checkpoint(
            qs, tenant.connection_clients.get(a[0], []), "clients", tenant.empty_tail
        ),
    )

    def actions(qs: dict, a: list[str]) -> dict:
        page, per_page = int(qs.get("page", ["0"])[0]), int(qs.get("per_page", ["20"])[0])
        window = tenant.actions[page * per_page : (page + 1) * per_page]
        return {"actions": window, "total": len(tenant.actions), "page": page, "per_page": per_page}

    route("/actions/actions", "read:actions", actions)
    route("/log-streams", "read:log_streams", lambda qs, a: tenant.log_streams)
    route(
        "/users/([^/]+)/permissions",
        "read:users",
        lambda qs, a: _offset(qs, tenant.user_permissions.get(a[0], []), "permissions"),
    )

    def authenticators(qs: dict, a: list[str]) -> dict:
        rows = tenant.user_authenticators.get(a[0], [])
        # Auth0 omits `total` when the list is empty.
        return _offset(qs, rows, "authenticators", total=bool(rows))

    route("/users/([^/]+)/authentication-methods", "read:authentication_methods", authenticators)
    route(
        "/users/([^/]+)/sessions",
        "read:sessions",
        lambda qs, a: _checkpoint(
            qs, tenant.user_sessions.get(a[0], []), "sessions", tenant.empty_tail
        ),
    )
    route(
        "/users/([^/]+)/refresh-tokens",
        "read:refresh_tokens",
        lambda qs, a: _checkpoint(
            qs, tenant.user_tokens.get(a[0], []), "tokens", tenant.empty_tail
        ),
    )

    def logs(request, context):
        context.headers.update(HEADERS)
        tenant.requests.append(f"/logs {request.path} {request.query}")
        qs = request.qs
        if "take" in qs:
            after, take = qs.get("from", ["0"])[0], int(qs["take"][0])
            page = [e for e in tenant.logs if (len(e["log_id"]), e["log_id"]) > (len(after), after)]
            page = page[:take]
            last = page[-1]["log_id"] if page else after
            context.headers["Link"] = f'<{API}/logs?from={last}&take={take}>; rel="next"'
            return page
        rows = sorted(tenant.logs, key=lambda e: e["date"])
        q = qs.get("q", [""])[0]
        if q.startswith("date:["):
            low = q[len("date:[") :].split(" TO ")[0]
            rows = [e for e in rows if e["date"] >= low]
        return rows[: int(qs.get("per_page", ["50"])[0])]

    requests_mock.get(re.compile(rf"{re.escape(API)}/logs(\?.*)?$"), json=logs)
    route("/stats/daily", "read:stats", lambda qs, a: tenant.stats_daily)
    route("/stats/active-users", "read:stats", lambda qs, a: tenant.active_users)
    route(
        "/organizations/([^/]+)/invitations",
        "read:organization_invitations",
        lambda qs, a: _offset(qs, tenant.invitations.get(a[0], []), "invitations", total=False),
    )
    return tenant
