"""Route handlers for ``/oauth/token`` and the ``/api/v2`` endpoints the tap uses.

Messages, status codes and error codes copy Auth0's (see the reference recordings and
API-NOTES.md); handlers raise ``ApiError`` and the server renders it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from . import api_directory as D
from . import api_logs as L
from . import api_tenant as T
from . import api_writes as W
from . import audit
from . import fields as F
from .auth import require
from .errors import ApiError, auth0_error, query_error
from .lucene import QueryError, parse
from .messages import Request, Response, json_response
from .paging import DESC as _DESC
from .paging import PAGING_CAP
from .paging import bool_param as _bool
from .paging import page_params as _page_params
from .paging import projector as _projector
from .search import ORDER

if TYPE_CHECKING:
    from .state import SandboxState

USERS_SCOPES = ("read:users", "read:current_user", "read:user_idp_tokens")
PAGING_MESSAGE = (
    "You can only page through the first 1000 records. See "
    "https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation"
)
_SORT = re.compile(r"^([A-Za-z0-9_.]+):(1|-1)$")


# -- token endpoint ---------------------------------------------------------------------------
def oauth_token(sb: SandboxState, req: Request) -> Response:
    """client_credentials grant, form-encoded or JSON."""
    ctype = req.headers.get("content-type", "")
    params: dict[str, Any]
    try:
        if "json" in ctype:
            params = req.json() or {}
        else:
            params = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
    except ValueError:
        params = {}
    if not isinstance(params, dict):
        params = {}
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    grant = params.get("grant_type")
    if grant != "client_credentials":
        return json_response(
            400 if grant is None else 403,
            {
                "error": "invalid_request" if grant is None else "unauthorized_client",
                "error_description": "Missing required parameter: grant_type"
                if grant is None
                else f"Grant type '{grant}' not allowed for the client.",
            },
            headers,
        )
    cfg = sb.config
    if params.get("client_id") != cfg.client_id or params.get("client_secret") != cfg.client_secret:
        return json_response(
            401, {"error": "access_denied", "error_description": "Unauthorized"}, headers
        )
    audience = params.get("audience")
    if not audience:
        return json_response(
            403,
            {
                "error": "access_denied",
                "error_description": "No audience parameter was provided, and no default audience "
                "has been configured",
            },
            headers,
        )
    if audience != sb.audience:
        return json_response(
            403,
            {
                "error": "access_denied",
                "error_description": f"Service not enabled within domain: {audience}",
            },
            headers,
        )
    token = sb.tokens.mint(cfg.scopes, cfg.token_lifetime)
    sb.stats_obj.bump("tokens_minted")
    return json_response(
        200,
        {
            "access_token": token,
            "expires_in": cfg.token_lifetime,
            "scope": cfg.scopes,
            "token_type": "Bearer",
        },
        headers,
    )


# -- auth for /api/v2 ---------------------------------------------------------------------------
def authenticate(sb: SandboxState, req: Request) -> frozenset[str]:
    """Scopes of the bearer token, or the exact Auth0 401/400 errors."""
    header = req.headers.get("authorization")
    if not header:
        raise auth0_error(401, "Missing authentication")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise auth0_error(400, "Bad HTTP authentication header format", "Bearer")
    state, scopes = sb.tokens.check(parts[1])
    if state == "expired":
        msg = "Expired token received for JSON Web Token validation"
        raise auth0_error(401, msg, attributes={"error": msg})
    if state != "ok":
        raise auth0_error(401, "Invalid token", attributes={"error": "Invalid token"})
    return scopes


# -- users --------------------------------------------------------------------------------------
def list_users(sb: SandboxState, req: Request) -> Response:
    """GET /api/v2/users (search engine v3)."""
    q = req.query
    engine = q.get("search_engine") or "v3"
    if engine == "v1":
        raise auth0_error(
            400, "You are not allowed to use search_engine=v1.", "operation_not_supported"
        )
    if engine == "v2":
        raise auth0_error(
            400,
            "You are not allowed to use search_engine=v2. Use search_engine=v3 instead.",
            "operation_not_supported",
        )
    if engine != "v3":
        raise query_error(
            f"'No enum match for: \"{engine}\"' on property search_engine {_DESC['search_engine']}."
        )
    page, per_page, totals = _page_params(q, 50)
    _bool(q, "primary_order", True)  # validated; order is always deterministic here
    project = _projector(q)
    sort_field, descending = ORDER, False
    if q.get("sort"):
        m = _SORT.match(q["sort"])
        if m is None:
            raise query_error(
                "'String does not match pattern ^(([a-zA-Z0-9_\\.]+))\\:(1|-1)$' "
                f"on property sort {_DESC['sort']}."
            )
        if m.group(1) not in F.SORTABLE:
            raise query_error(
                f"'Sorting by {m.group(1)} is not supported' on property sort {_DESC['sort']}."
            )
        sort_field, descending = m.group(1), m.group(2) == "-1"
    node = None
    if q.get("q", "").strip():
        try:
            node = parse(q["q"])
        except QueryError as exc:
            raise query_error(f"'{exc}' on property q {_DESC['q']}.") from None
    if (page + 1) * per_page > PAGING_CAP:
        raise auth0_error(400, PAGING_MESSAGE, "invalid_paging")
    try:
        result = sb.store.search(node, sort_field, descending, page * per_page, per_page, totals)
    except QueryError as exc:
        raise query_error(f"'{exc}' on property q {_DESC['q']}.") from None
    users = [project(d) for d in result.docs]
    if not totals:
        return json_response(200, users)
    return json_response(
        200,
        {
            "start": page * per_page,
            "limit": per_page,
            "length": len(users),
            "users": users,
            "total": result.total,
        },
    )


def get_user(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    """GET /api/v2/users/{id}: immediately consistent (reads the primary store)."""
    project = _projector(req.query)
    doc = sb.store.get(id)
    if doc is None:
        raise auth0_error(404, "The user does not exist.", "inexistent_user")
    return json_response(200, project(doc))


def users_by_email(sb: SandboxState, req: Request) -> Response:
    email = req.query.get("email")
    if not email:
        raise query_error("'Missing required property: email' on property email.")
    project = _projector(req.query)
    low = email.lower()
    found = [
        project(d)
        for d in sb.store.snapshot()
        if isinstance(d.get("email"), str) and d["email"].lower() == low
    ]
    return json_response(200, found)


# -- export jobs --------------------------------------------------------------------------------
def create_export(sb: SandboxState, req: Request) -> Response:
    try:
        body = req.json()
    except ValueError:
        raise auth0_error(400, "Invalid request payload JSON format") from None
    return json_response(200, sb.exports.create(body, sb.store.snapshot()))


def get_job(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    job = sb.exports.status(id, sb.base_url)
    if job is None:
        raise auth0_error(404, "The job does not exist.", "inexistent_job")
    return json_response(200, job)


# -- routing ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One endpoint: ``path`` is a template under /api/v2 with ``{name}`` segments."""

    method: str
    path: str
    handler: Callable[..., Response]
    scopes: tuple[str, ...]  # any of
    family: str  # rate-limit family (ratelimit.FAMILIES)

    @property
    def template(self) -> str:
        return f"{self.method} /api/v2{self.path}"

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        if method != self.method or len(segments) != len(self._parts):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self._parts, segments, strict=True):
            if want.startswith("{"):
                if not got:
                    return None
                params[want[1:-1]] = unquote(got)
            elif want != got:
                return None
        return params

    @cached_property
    def _parts(self) -> list[str]:
        return self.path.split("/")[1:]


_ROLE_USERS = ("read:users", "read:roles", "read:role_members")
_ORGS = ("read:organizations", "read:organizations_summary")
_CONNECTIONS = ("read:connections",)
_LOGS = ("read:logs", "read:logs_users")
_CLIENTS = ("read:clients", "read:client_keys", "read:client_summary", "read:client_credentials")
ROUTES: list[Route] = [
    Route("GET", "/users", list_users, USERS_SCOPES, "users"),
    Route("GET", "/users/{id}", get_user, USERS_SCOPES, "users"),
    Route("GET", "/users-by-email", users_by_email, USERS_SCOPES, "users"),
    Route("GET", "/connections", T.list_connections, _CONNECTIONS, "connections"),
    Route("GET", "/connections/{id}", T.get_connection, _CONNECTIONS, "connections"),
    Route("GET", "/connections/{id}/clients", T.connection_clients, _CONNECTIONS, "connections"),
    Route("GET", "/clients", T.list_clients, _CLIENTS, "clients"),
    Route("GET", "/client-grants", T.list_client_grants, ("read:client_grants",), "other"),
    Route("GET", "/grants", T.list_grants, ("read:grants",), "other"),
    Route("GET", "/resource-servers", T.list_resource_servers, ("read:resource_servers",), "other"),
    Route("GET", "/actions/actions", T.list_actions, ("read:actions",), "other"),
    Route("GET", "/log-streams", T.list_log_streams, ("read:log_streams",), "other"),
    Route("GET", "/logs", L.list_logs, _LOGS, "logs"),
    Route("GET", "/logs/{id}", L.get_log, _LOGS, "logs"),
    Route("GET", "/stats/daily", L.stats_daily, ("read:stats",), "other"),
    Route("GET", "/stats/active-users", L.stats_active_users, ("read:stats",), "other"),
    Route("GET", "/users/{id}/permissions", T.user_permissions, ("read:users",), "other"),
    Route(
        "GET",
        "/users/{id}/authentication-methods",
        T.user_authentication_methods,
        ("read:authentication_methods",),
        "other",
    ),
    Route("GET", "/users/{user_id}/sessions", T.user_sessions, ("read:sessions",), "other"),
    Route(
        "GET",
        "/users/{user_id}/refresh-tokens",
        T.user_refresh_tokens,
        ("read:refresh_tokens",),
        "other",
    ),
    Route("POST", "/jobs/users-exports", create_export, ("read:users",), "other"),
    Route("GET", "/jobs/{id}", get_job, ("create:users", "read:users"), "other"),
    Route("GET", "/roles", D.list_roles, ("read:roles",), "other"),
    Route("GET", "/roles/{id}", D.get_role, ("read:roles",), "other"),
    Route("GET", "/roles/{id}/permissions", D.role_permissions, ("read:roles",), "other"),
    Route("GET", "/roles/{id}/users", D.role_users, _ROLE_USERS, "other"),
    Route("GET", "/organizations", D.list_organizations, _ORGS, "organizations"),
    Route("GET", "/organizations/{id}", D.get_organization, _ORGS, "organizations"),
    Route(
        "GET",
        "/organizations/{id}/members",
        D.org_members,
        ("read:organization_members",),
        "organization_members",
    ),
    Route(
        "GET",
        "/organizations/{id}/members/{user_id}/roles",
        D.member_roles,
        ("read:organization_member_roles",),
        "organization_member_roles",
    ),
    Route(
        "GET",
        "/organizations/{id}/enabled_connections",
        D.enabled_connections,
        ("read:organization_connections",),
        "organization_connections",
    ),
    Route(
        "GET",
        "/organizations/{id}/invitations",
        D.invitations,
        ("read:organization_invitations",),
        "other",
    ),
    *(Route(*w) for w in W.WRITES),
]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for an /api/v2 request and its decoded path parameters."""
    segments = path.split("/")[3:]  # after "", "api", "v2"
    for r in ROUTES:
        params = r.match(method, segments)
        if params is not None:
            return r, params
    return None


def endpoint_name(method: str, path: str) -> str:
    """Templated endpoint for stats, e.g. ``GET /api/v2/users/{id}`` (raw path if unrouted)."""
    found = match(method, path)
    return found[0].template if found else f"{method} {path}"


def route(
    sb: SandboxState,
    req: Request,
    scopes: frozenset[str],
    found: tuple[Route, dict[str, str]] | None = None,
) -> Response:
    """Dispatch an authenticated /api/v2 request (unknown paths: Auth0's 404)."""
    found = found or match(req.method, req.path)
    if found is None:
        raise auth0_error(404, "Not Found")
    r, params = found
    req.scopes = scopes
    try:
        require(scopes, r.scopes)
        return r.handler(sb, req, **params)
    except ApiError as exc:
        description = audit.DESCRIPTIONS.get((r.method, r.path))
        if description is not None:  # a failed mutation is logged as fapi
            try:
                caller = W.caller_of(sb, req)
            except ApiError:  # a body that is not JSON: logged as received
                caller = W.caller_of(sb, replace(req, body=b""))
                caller.body = req.body.decode(errors="replace")
            event = audit.api_event(
                caller, description, r.method, req.path, None, exc.status, exc.body
            )
            sb.logs.record([event])
        raise


def error_response(exc: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.status, exc.body, headers)


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
