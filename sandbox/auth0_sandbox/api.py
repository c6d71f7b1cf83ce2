"""Route handlers for ``/oauth/token`` and the ``/api/v2`` endpoints the tap uses.

Messages, status codes and error codes copy Auth0's (see the reference recordings and
API-NOTES.md); handlers raise ``ApiError`` and the server renders it.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from . import fields as F
from .errors import ApiError, auth0_error, query_error
from .lucene import QueryError, parse
from .messages import Request, Response, json_response
from .search import ORDER

if TYPE_CHECKING:
    from .server import Sandbox

USERS_SCOPES = ("read:users", "read:current_user", "read:user_idp_tokens")
PAGING_CAP = 1000
PAGING_MESSAGE = (
    "You can only page through the first 1000 records. See "
    "https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation"
)
_SORT = re.compile(r"^([A-Za-z0-9_.]+):(1|-1)$")
_DESC = {
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
}


# -- token endpoint ---------------------------------------------------------------------------
def oauth_token(sb: Sandbox, req: Request) -> Response:
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
def authenticate(sb: Sandbox, req: Request) -> frozenset[str]:
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


def require(scopes: frozenset[str], any_of: tuple[str, ...]) -> None:
    if not scopes.intersection(any_of):
        raise auth0_error(
            403, f"Insufficient scope, expected any of: {','.join(any_of)}", "insufficient_scope"
        )


# -- routing ------------------------------------------------------------------------------------
def endpoint_name(method: str, path: str) -> str:
    """Templated endpoint for stats, e.g. ``GET /api/v2/users/{id}``."""
    parts = path.split("/")
    if len(parts) >= 5 and parts[4] not in ("", "users-exports") and parts[3] in ("users", "jobs"):
        parts[4] = "{id}"
    return f"{method} {'/'.join(parts)}"


def route(sb: Sandbox, req: Request, scopes: frozenset[str]) -> Response:
    """Dispatch an authenticated /api/v2 request."""
    parts = req.path.split("/")[3:]  # after "", "api", "v2"
    m = req.method
    if m == "GET" and parts == ["users"]:
        require(scopes, USERS_SCOPES)
        return list_users(sb, req)
    if m == "GET" and len(parts) == 2 and parts[0] == "users" and parts[1]:
        require(scopes, USERS_SCOPES)
        return get_user(sb, req, unquote(parts[1]))
    if m == "GET" and parts == ["users-by-email"]:
        require(scopes, USERS_SCOPES)
        return users_by_email(sb, req)
    if m == "GET" and parts == ["connections"]:
        require(scopes, ("read:connections",))
        return list_connections(sb, req)
    if m == "POST" and parts == ["jobs", "users-exports"]:
        require(scopes, ("read:users",))
        try:
            body = req.json()
        except ValueError:
            raise auth0_error(400, "Invalid request payload JSON format") from None
        return json_response(200, sb.exports.create(body, sb.store.snapshot()))
    if m == "GET" and len(parts) == 2 and parts[0] == "jobs":
        require(scopes, ("create:users", "read:users"))
        job = sb.exports.status(unquote(parts[1]), sb.base_url)
        if job is None:
            raise auth0_error(404, "The job does not exist.", "inexistent_job")
        return json_response(200, job)
    raise auth0_error(404, "Not Found")


# -- parameter parsing --------------------------------------------------------------------------
def _int(
    q: dict[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise query_error(
            f"'Expected type integer but found type string' on property {name} "
            f"{_DESC.get(name, '')}".rstrip()
            + "."
        ) from None
    if value < minimum:
        raise query_error(
            f"'Value {value} is less than minimum {minimum}' on property {name} "
            f"{_DESC.get(name, '')}".rstrip()
            + "."
        )
    if maximum is not None and value > maximum:
        raise query_error(
            f"'Value {value} is greater than maximum {maximum}' on property "
            f"{name} {_DESC.get(name, '')}".rstrip()
            + "."
        )
    return value


def _bool(q: dict[str, str], name: str, default: bool) -> bool:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise query_error(
        f"'Expected type boolean but found type string' on property {name} "
        f"{_DESC.get(name, '')}".rstrip()
        + "."
    )


def _projector(q: dict[str, str]) -> Any:
    """Apply fields/include_fields to a doc (root keys, like Auth0)."""
    names = [f.strip() for f in (q.get("fields") or "").split(",") if f.strip()]
    include = _bool(q, "include_fields", True)
    if not names:
        return lambda d: d
    wanted = set(names)
    if include:
        return lambda d: {k: v for k, v in d.items() if k in wanted}
    return lambda d: {k: v for k, v in d.items() if k not in wanted}


def _page_params(q: dict[str, str], default_per_page: int) -> tuple[int, int, bool]:
    per_page = _int(q, "per_page", default_per_page, 0, 100)
    page = _int(q, "page", 0, 0)
    return page, per_page, _bool(q, "include_totals", False)


# -- users --------------------------------------------------------------------------------------
def list_users(sb: Sandbox, req: Request) -> Response:
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


def get_user(sb: Sandbox, req: Request, user_id: str) -> Response:
    """GET /api/v2/users/{id}: immediately consistent (reads the primary store)."""
    project = _projector(req.query)
    doc = sb.store.get(user_id)
    if doc is None:
        raise auth0_error(404, "The user does not exist.", "inexistent_user")
    return json_response(200, project(doc))


def users_by_email(sb: Sandbox, req: Request) -> Response:
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


# -- connections --------------------------------------------------------------------------------
def list_connections(sb: Sandbox, req: Request) -> Response:
    q = req.query
    page, per_page, totals = _page_params(q, 50)
    conns = sb.connections
    if q.get("name"):
        conns = [c for c in conns if c["name"] == q["name"]]
    if q.get("strategy"):
        wanted = set(q["strategy"].split(","))
        conns = [c for c in conns if c["strategy"] in wanted]
    project = _projector(q)
    window = [project(c) for c in conns[page * per_page : (page + 1) * per_page]]
    if not totals:
        return json_response(200, window)
    return json_response(
        200,
        {"total": len(conns), "start": page * per_page, "limit": per_page, "connections": window},
    )


def error_response(exc: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.status, exc.body, headers)


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
