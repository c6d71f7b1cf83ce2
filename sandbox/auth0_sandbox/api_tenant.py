"""Route handlers for applications, grants, connections, APIs, actions, log streams and the
per-user sub-resources (permissions, authentication methods, sessions, refresh tokens).

Envelopes follow the go-auth0 recordings and API-NOTES.md: offset ``{<key>, start, limit,
total}`` (authentication methods drop ``total`` when the user has none), checkpoint ``{<key>,
next?}`` (a full page always points on, so a trailing full page leads to an empty one),
``/actions/actions`` always an object, ``/log-streams`` a bare array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .directory import Seq
from .errors import auth0_error
from .listing import list_page, offset_page
from .messages import Request, Response, json_response
from .paging import (
    bool_param,
    decode_cursor,
    encode_cursor,
    int_param,
    is_checkpoint,
    page_params,
    projector,
    requested_fields,
)
from .tenant import CLIENT_KEYS_SCOPE, SECRET_CLIENT_FIELDS

if TYPE_CHECKING:
    from .state import SandboxState

Doc = dict[str, Any]


def _user_404() -> Exception:
    return auth0_error(404, "The user does not exist.", "inexistent_user")


def _connection_404() -> Exception:
    return auth0_error(404, "The connection does not exist", "inexistent_connection")


def _feature_403() -> Exception:
    # Not in the recordings/OpenAPI: the sandbox's stand-in for "your plan lacks this".
    return auth0_error(
        403,
        "This feature is not enabled for this tenant. It requires an Enterprise plan.",
        "feature_not_enabled",
    )


def _projection(
    sb: SandboxState, q: dict[str, str], always: tuple[str, ...] = ()
) -> Callable[[Doc], Doc]:
    """fields/include_fields, keeping ``always`` (Auth0 adds e.g. ``tenant`` to clients);
    ``ignore_field_exclusions`` turns it off."""
    if sb.config.ignore_field_exclusions:
        return lambda d: d
    names, include = requested_fields(q)
    if names and include and always:
        q = {**q, "fields": ",".join([*names, *always])}
    return projector(q)


def _seq_of(docs: list[Doc], key: str, stamps: Seq) -> Seq:
    """A Seq restricted to ``docs`` (filtered lists keep their checkpoint stamps)."""
    seq = Seq()
    for d in docs:
        seq.add(d[key], stamps.stamps[d[key]])
    return seq


# -- clients ----------------------------------------------------------------------------------
def list_clients(sb: SandboxState, req: Request) -> Response:
    q = req.query
    t = sb.tenant
    bool_param(q, "include_fields", True)
    project = _projection(sb, q, ("tenant",))
    secrets = CLIENT_KEYS_SCOPE in req.scopes or sb.config.ignore_field_exclusions

    def render(cid: str) -> Doc:
        doc = t.clients[cid]
        if not secrets:
            doc = {k: v for k, v in doc.items() if k not in SECRET_CLIENT_FIELDS}
        return project(doc)

    with t.lock:
        docs = t.client_list()
        for name in ("is_global", "is_first_party"):
            if q.get(name):
                want = bool_param(q, name, False)
                key = "global" if name == "is_global" else name
                docs = [d for d in docs if d.get(key, False) == want]
        if q.get("app_type"):
            kinds = set(q["app_type"].split(","))
            docs = [d for d in docs if d["app_type"] in kinds]
        return list_page(q, _seq_of(docs, "client_id", t.client_order), "clients", render)


def list_client_grants(sb: SandboxState, req: Request) -> Response:
    q = req.query
    t = sb.tenant
    with t.lock:
        docs = [t.client_grants[g] for g in t.client_grant_order.ids()]
        for name in ("audience", "client_id", "subject_type"):
            if q.get(name):
                docs = [d for d in docs if d.get(name) == q[name]]
        if q.get("allow_any_organization"):
            want = bool_param(q, "allow_any_organization", False)
            docs = [d for d in docs if d.get("allow_any_organization") is want]
        seq = _seq_of(docs, "id", t.client_grant_order)
        return list_page(q, seq, "client_grants", lambda g: dict(t.client_grants[g]))


def list_grants(sb: SandboxState, req: Request) -> Response:
    q = req.query
    t = sb.tenant
    with t.lock:
        docs = [g for g in t.grants if sb.store.get(g["user_id"]) is not None]
        for name, key in (
            ("user_id", "user_id"),
            ("client_id", "clientID"),
            ("audience", "audience"),
        ):
            if q.get(name):
                docs = [d for d in docs if d[key] == q[name]]
        return offset_page(q, docs, "grants", dict)


# -- connections --------------------------------------------------------------------------------
def list_connections(sb: SandboxState, req: Request) -> Response:
    """Offset (bare array / ``{total, start, limit, connections}``) or checkpoint."""
    q = req.query
    conns = sb.connections
    if q.get("name"):
        conns = [c for c in conns if c["name"] == q["name"]]
    if q.get("strategy"):
        wanted = set(q["strategy"].split(","))
        conns = [c for c in conns if c["strategy"] in wanted]
    project = _projection(sb, q, ("is_domain_connection",))
    if is_checkpoint(q):
        take = int_param(q, "take", 50, 1, 100)
        after = q.get("from")
        ids = [c["id"] for c in conns]
        start = 0
        if after:
            _, last = decode_cursor(after)
            start = next((i + 1 for i, c in enumerate(ids) if c == last), len(ids))
        window = conns[start : start + take]
        body: Doc = {"connections": [project(c) for c in window]}
        if len(window) == take:
            body["next"] = encode_cursor(sb.tenant.anchor, window[-1]["id"])
        return json_response(200, body)
    page, per_page, totals = page_params(q, 50)
    window = [project(c) for c in conns[page * per_page : (page + 1) * per_page]]
    if not totals:
        return json_response(200, window)
    return json_response(
        200,
        {"total": len(conns), "start": page * per_page, "limit": per_page, "connections": window},
    )


def get_connection(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    """Get a Connection, with ``fields``/``include_fields`` as the list."""
    found = next((c for c in sb.connections if c["id"] == id), None)
    if found is None:
        raise _connection_404()
    return json_response(200, _projection(sb, req.query, ("is_domain_connection",))(found))


def connection_clients(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    """Checkpoint only: ``take``/``from`` -> ``{clients: [{client_id}], next?}``."""
    q = req.query
    t = sb.tenant
    with t.lock:
        seq = t.connection_clients.get(id)
        if seq is None:
            raise _connection_404()
        return _checkpoint(q, seq, "clients", lambda c: {"client_id": c})


def _checkpoint(q: dict[str, str], seq: Seq, key: str, render: Callable[[str], Doc]) -> Response:
    take = int_param(q, "take", 50, 1, 100)
    start = decode_cursor(q["from"]) if q.get("from") else None
    keys = seq.after(start, take)
    body: Doc = {key: [render(k[1]) for k in keys]}
    if len(keys) == take:
        body["next"] = encode_cursor(*keys[-1])
    return json_response(200, body)


# -- resource servers, actions, log streams ------------------------------------------------------
def list_resource_servers(sb: SandboxState, req: Request) -> Response:
    q = req.query
    bool_param(q, "include_fields", True)
    project = _projection(sb, q)
    d = sb.directory
    with d.lock:
        docs = list(d.resource_servers)
        if q.get("identifiers"):
            docs = [r for r in docs if r["identifier"] == q["identifiers"]]
        return offset_page(q, docs, "resource_servers", project)


def list_actions(sb: SandboxState, req: Request) -> Response:
    """``page``/``per_page`` (default 20, max 100); always ``{actions, total, per_page}`` plus
    ``page`` when the request sent one (the recorded answer to ``?per_page=50`` has none)."""
    q = req.query
    per_page = int_param(q, "per_page", 20, 1, 100)
    page = int_param(q, "page", 0, 0)
    t = sb.tenant
    with t.lock:
        docs = list(t.actions)
    if q.get("triggerId"):
        docs = [a for a in docs if any(s["id"] == q["triggerId"] for s in a["supported_triggers"])]
    if q.get("actionName"):
        docs = [a for a in docs if a["name"] == q["actionName"]]
    if q.get("deployed"):
        want = bool_param(q, "deployed", False)
        docs = [a for a in docs if ("deployed_version" in a) is want]
    if q.get("installed") and bool_param(q, "installed", False):
        docs = []  # no marketplace integrations in the sandbox
    body: Doc = {"actions": docs[page * per_page : (page + 1) * per_page], "total": len(docs)}
    if q.get("page") not in (None, ""):
        body["page"] = page
    body["per_page"] = per_page
    return json_response(200, body)


def list_log_streams(sb: SandboxState, req: Request) -> Response:
    with sb.tenant.lock:
        return json_response(200, list(sb.tenant.log_streams))


# -- per-user sub-resources ----------------------------------------------------------------------
def _user(sb: SandboxState, user_id: str) -> Doc:
    doc = sb.store.get(user_id)
    if doc is None:
        raise _user_404()
    return doc


def user_permissions(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    user = _user(sb, id)
    return offset_page(req.query, sb.peruser.docs("permissions", user), "permissions", dict)


def user_authentication_methods(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    user = _user(sb, id)
    docs = sb.peruser.docs("authentication_methods", user)
    return offset_page(req.query, docs, "authenticators", dict, with_total=bool(docs))


def _per_user_checkpoint(
    sb: SandboxState, req: Request, user_id: str, kind: str, key: str
) -> Response:
    if not sb.config.enterprise_features:
        raise _feature_403()
    user = _user(sb, user_id)
    items = sb.peruser.items(kind, user)
    seq = Seq()
    by_id = {}
    for stamp, doc in items:
        seq.add(doc["id"], stamp)
        by_id[doc["id"]] = doc
    return _checkpoint(req.query, seq, key, lambda i: dict(by_id[i]))


def user_sessions(sb: SandboxState, req: Request, user_id: str) -> Response:
    return _per_user_checkpoint(sb, req, user_id, "sessions", "sessions")


def user_refresh_tokens(sb: SandboxState, req: Request, user_id: str) -> Response:
    return _per_user_checkpoint(sb, req, user_id, "refresh_tokens", "tokens")
